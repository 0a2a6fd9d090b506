/**
 * The Redis storage's change feed: one subscriber connection of its own (a `duplicate()` of the
 * caller's client), subscribed again every time it becomes ready. ioredis's own resubscription only
 * covers channels it had subscribed: a first SUBSCRIBE issued while Redis was down, rejected by the
 * client's retry limit, was never retried, and the process missed every change for its lifetime.
 * The connection reconnects for as long as the storage is open (past a retry strategy that gives up).
 *
 * Messages (keys.ts): "@<epoch>" then one line per change, "<version>|<deleted>|<origin>|<id>". The
 * epoch names the Redis dataset; a new one (Redis restarted without persistence, or flushed) tells a
 * subscriber the versions started over.
 */
import type { Redis, RedisOptions } from "ioredis";
import type { Logger } from "../../../../logger";
import { isValidPipelineId } from "../../../models";
import type { StorageChange } from "../../types";

/** While the feed's connection stays down, one summary of its errors at most this often. */
export const FEED_ERROR_SUMMARY_MS = 30_000;
/** The subscriber's reconnect back-off when the client's own retry strategy gives up. */
const MAX_RECONNECT_DELAY_MS = 2_000;

export class RedisChangeFeed {
  private sub: Redis | null = null;
  private subscribed = false;
  private readonly outage: FeedOutageLog;

  constructor(
    private readonly redis: Redis,
    private readonly channel: string,
    private readonly logger: Logger,
    private readonly deliver: (change: StorageChange) => void,
  ) {
    this.outage = new FeedOutageLog(logger);
  }

  get started(): boolean {
    return this.sub !== null;
  }

  /** "live" while the subscriber connection is up and subscribed; "reconnecting" otherwise (health reports it). */
  get state(): "live" | "reconnecting" {
    return this.subscribed && this.sub?.status === "ready" ? "live" : "reconnecting";
  }

  start(): void {
    if (this.sub) return;
    const sub = duplicateForFeed(this.redis);
    this.sub = sub;
    sub.on("error", (err: Error) => this.outage.error(err));
    sub.on("close", () => {
      if (this.sub === sub) this.subscribed = false;
    });
    sub.on("ready", () => {
      this.outage.ready();
      sub.subscribe(this.channel).then(() => {
        if (this.sub === sub && sub.status === "ready") this.subscribed = true;
      }, (err: unknown) => {
        // A connection lost meanwhile subscribes again on its next "ready"; anything else is logged.
        if (sub.status === "ready") this.logger.error({ err }, "could not subscribe to the change feed");
      });
    });
    sub.on("message", (_channel: string, message: string) => this.onMessage(message));
  }

  close(): void {
    this.sub?.disconnect();
    this.sub = null;
    this.subscribed = false;
  }

  private onMessage(message: string): void {
    // A merged batch of writes announces itself as one message, one change per line.
    let epoch: string | undefined;
    for (const line of message.split("\n")) {
      if (line.startsWith("@")) {
        epoch = line.slice(1);
        continue;
      }
      const change = parseChange(line, epoch);
      if (change) this.deliver(change);
    }
  }
}

/**
 * The feed's own connection: it waits for Redis however long it takes (no per-command retry limit,
 * an offline queue), connects now (not lazily), and subscribes itself on "ready" (no auto-resubscribe).
 */
function duplicateForFeed(redis: Redis): Redis {
  if ((redis as { isCluster?: boolean }).isCluster === true) return redis.duplicate();
  const own = redis.options.retryStrategy;
  const overrides: Partial<RedisOptions> = {
    autoResubscribe: false,
    lazyConnect: false,
    enableOfflineQueue: true,
    maxRetriesPerRequest: null,
    retryStrategy: (times: number) => {
      const delay = own?.(times);
      return typeof delay === "number" ? delay : Math.min(100 * times, MAX_RECONNECT_DELAY_MS);
    },
  };
  return redis.duplicate(overrides);
}

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

  constructor(private readonly logger: Logger, private readonly intervalMs = FEED_ERROR_SUMMARY_MS, private readonly now = Date.now) {}

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
    this.logger.warn({ err: err.message, errors: this.unlogged, downForMs: now - this.downSince }, "Redis change-feed connection still failing");
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

/** "<version>|<deleted>|<origin>|<id>": the id never holds "|", the origin is between. */
export function parseChange(line: string, epoch?: string): StorageChange | null {
  const a = line.indexOf("|");
  const b = line.indexOf("|", a + 1);
  const c = line.lastIndexOf("|");
  if (a < 0 || b < 0 || c < b) return null;
  const version = Number(line.slice(0, a));
  const origin = line.slice(b + 1, c);
  const pipelineId = line.slice(c + 1);
  if (!Number.isFinite(version) || !isValidPipelineId(pipelineId)) return null;
  const change: StorageChange = { pipelineId, version, origin: origin || null, deleted: line.slice(a + 1, b) === "1" };
  if (epoch) change.epoch = epoch;
  return change;
}
