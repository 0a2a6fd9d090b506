/**
 * The producer's wait for dispatched runs: one subscription to the storage's change feed for every
 * run awaited, reading a run back only when a change that may have ended it names it (names.ts
 * mayEndRun), plus a slow re-read as a safety net
 * (a feed that reconnects replays what it missed, but a wait must never hang on it).
 */
import type { Logger } from "../../logger";
import { isFinished, type PipelineStatus } from "../../tracking/models";
import type { RunState } from "../../tracking/storage/redis/read/run-state";
import type { TrackingStorage } from "../../tracking/storage/types";
import { mayEndRun } from "./names";

const RECHECK_MS = 2_000;

/**
 * A run's status and error, null once deleted: the Redis storage reads two fields of the run (every
 * step of a run changes it twice, and its watchers look each time), other storages the whole run.
 */
export async function readRunState(storage: TrackingStorage, pipelineId: string): Promise<RunState> {
  const cheap = (storage as { getRunState?: (id: string) => Promise<RunState> }).getRunState;
  if (cheap) return cheap.call(storage, pipelineId);
  const status = await storage.getStatus(pipelineId);
  return status && { status: status.status, error: status.error };
}

/**
 * Runs `check(id)` for changes of a run, one at a time per run: changes that arrive while one runs
 * make one more check after it, not one each (a busy run announces every step twice).
 */
export class CoalescedChecks {
  /** Ids being checked → whether another change came in meanwhile. */
  private readonly running = new Map<string, boolean>();

  constructor(private readonly check: (pipelineId: string) => Promise<void>) {}

  request(pipelineId: string): void {
    if (this.running.has(pipelineId)) {
      this.running.set(pipelineId, true);
      return;
    }
    void this.drain(pipelineId);
  }

  private async drain(pipelineId: string): Promise<void> {
    do {
      this.running.set(pipelineId, false);
      await this.check(pipelineId);
    } while (this.running.get(pipelineId));
    this.running.delete(pipelineId);
  }
}

export class RunWaiter {
  private readonly waiting = new Map<string, ((status: PipelineStatus | null) => void)[]>();
  private readonly checks = new CoalescedChecks((id) => this.check(id));
  private unsubscribe: (() => void) | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly storage: TrackingStorage,
    private readonly logger: Logger,
  ) {}

  /** Resolves with the run's final stored state, or null once it was deleted. */
  finished(pipelineId: string): Promise<PipelineStatus | null> {
    return new Promise((resolve) => {
      const list = this.waiting.get(pipelineId);
      if (list) list.push(resolve);
      else this.waiting.set(pipelineId, [resolve]);
      this.start();
      this.checks.request(pipelineId);
    });
  }

  private start(): void {
    this.unsubscribe ??= this.storage.subscribe(
      (change) => {
        if (!this.waiting.has(change.pipelineId) || !mayEndRun(change)) return;
        if (change.deleted) this.settle(change.pipelineId, null);
        else this.checks.request(change.pipelineId);
      },
      { onReset: () => this.checkAll() },
    );
    if (!this.timer) {
      this.timer = setInterval(() => this.checkAll(), RECHECK_MS);
      this.timer.unref();
    }
  }

  private checkAll(): void {
    for (const id of this.waiting.keys()) this.checks.request(id);
  }

  private async check(pipelineId: string): Promise<void> {
    if (!this.waiting.has(pipelineId)) return;
    let status: PipelineStatus | null;
    try {
      // The run's status alone on every change; the whole run once it ended.
      const state = await readRunState(this.storage, pipelineId);
      if (state && !isFinished(state.status)) return;
      status = state && (await this.storage.getStatus(pipelineId));
    } catch (err) {
      this.logger.warn({ err, pipelineId }, "could not read a dispatched run; trying again");
      return;
    }
    // Null: the run was deleted (it was stored before anyone waits for it).
    if (!status || isFinished(status.status)) this.settle(pipelineId, status);
  }

  private settle(pipelineId: string, status: PipelineStatus | null): void {
    const list = this.waiting.get(pipelineId);
    if (!list) return;
    this.waiting.delete(pipelineId);
    for (const resolve of list) resolve(status);
    if (this.waiting.size === 0) this.stop();
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
