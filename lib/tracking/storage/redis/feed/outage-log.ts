import type { Logger } from "../../../../logger";

/** While the feed's connection stays down, one summary of its errors at most this often. */
export const FEED_ERROR_SUMMARY_MS = 30_000;

/**
 * A connection that is down fails every reconnect attempt (a few per second): the first error is
 * logged, then at most one summary (with a count) per FEED_ERROR_SUMMARY_MS, and one info line when
 * the connection is back.
 */
export class FeedOutageLog {
  private downSince = 0;
  private lastLogged = 0;
  private unlogged = 0;
  private total = 0;

  constructor(
    private readonly logger: Logger,
    private readonly intervalMs = FEED_ERROR_SUMMARY_MS,
    private readonly now = Date.now,
  ) {}

  error(err: Error): void {
    const now = this.now();
    this.total++;
    if (this.downSince === 0) {
      this.downSince = now;
      this.lastLogged = now;
      this.logger.warn({ err }, "Redis change-feed connection error (retrying; further errors are summarized)");
      return;
    }
    this.unlogged++;
    if (now - this.lastLogged < this.intervalMs) return;
    this.logger.warn(
      { err: err.message, errors: this.unlogged, downForMs: now - this.downSince },
      "Redis change-feed connection still failing",
    );
    this.lastLogged = now;
    this.unlogged = 0;
  }

  ready(): void {
    if (this.downSince === 0) return;
    this.logger.info({ errors: this.total, downForMs: this.now() - this.downSince }, "Redis change feed reconnected");
    this.downSince = 0;
    this.unlogged = 0;
    this.total = 0;
  }
}
