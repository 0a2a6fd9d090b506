/**
 * Retention (RETENTION_DAYS): every hour, finished runs older than the window are deleted in
 * batches of at most RETENTION_BATCH, yielding to the event loop between batches, so a large
 * backlog (a first run after a long pause, 500 runs/s of history) never holds the server for long.
 * A pass that is still running when the next is due is not started twice.
 */
import { setImmediate as yieldToEventLoop } from "node:timers/promises";
import type { Logger } from "pino";
import type { PipelineTrackingManager } from "pipewatch";

export const RETENTION_INTERVAL_MS = 60 * 60_000;
export const RETENTION_BATCH = 1_000;
/** The first pass, shortly after start: a server restarted more often than hourly still cleans up. */
const FIRST_PASS_AFTER_MS = 60_000;

export interface RetentionOptions {
  tracking: PipelineTrackingManager;
  days: number;
  logger: Logger;
  intervalMs?: number;
  firstPassAfterMs?: number;
  batchSize?: number;
}

export interface Retention {
  /** One pass now (what the schedule runs): answers how many runs it deleted. */
  runOnce(): Promise<number>;
  /** When the next scheduled pass starts. */
  nextRun(): Date;
  stop(): void;
}

export function startRetention(options: RetentionOptions): Retention {
  const { tracking, days, logger, intervalMs = RETENTION_INTERVAL_MS, batchSize = RETENTION_BATCH } = options;
  let running: Promise<number> | null = null;
  let next = 0;
  let timer: NodeJS.Timeout;

  const pass = async (): Promise<number> => {
    const started = performance.now();
    let deleted = 0;
    let batches = 0;
    for (;;) {
      const n = await tracking.cleanupOlderThan({ days, limit: batchSize });
      deleted += n;
      batches++;
      if (n < batchSize) break;
      await yieldToEventLoop();
    }
    logger.info({ deleted, batches, retentionDays: days, ms: Math.round(performance.now() - started) }, "retention cleanup done");
    return deleted;
  };

  const runOnce = (): Promise<number> => {
    running ??= pass().finally(() => (running = null));
    return running;
  };

  const schedule = (delayMs: number): void => {
    next = Date.now() + delayMs;
    timer = setTimeout(() => {
      runOnce().catch((err: unknown) => logger.warn({ err }, "retention cleanup failed; the next pass retries"));
      schedule(intervalMs);
    }, delayMs);
    timer.unref();
  };
  schedule(options.firstPassAfterMs ?? FIRST_PASS_AFTER_MS);

  return {
    runOnce,
    nextRun: () => new Date(next),
    stop: () => clearTimeout(timer),
  };
}
