/**
 * The producer's wait for dispatched runs: one subscription to the storage's change feed for every
 * run awaited, reading a run back only when a change names it, plus a slow re-read as a safety net
 * (a feed that reconnects replays what it missed, but a wait must never hang on it).
 */
import type { Logger } from "../../logger";
import { isFinished, type PipelineStatus } from "../../tracking/models";
import type { TrackingStorage } from "../../tracking/storage/types";

const RECHECK_MS = 2_000;

export class RunWaiter {
  private readonly waiting = new Map<string, ((status: PipelineStatus | null) => void)[]>();
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
      void this.check(pipelineId);
    });
  }

  private start(): void {
    this.unsubscribe ??= this.storage.subscribe(
      (change) => {
        if (!this.waiting.has(change.pipelineId)) return;
        if (change.deleted) this.settle(change.pipelineId, null);
        else void this.check(change.pipelineId);
      },
      { onReset: () => this.checkAll() },
    );
    if (!this.timer) {
      this.timer = setInterval(() => this.checkAll(), RECHECK_MS);
      this.timer.unref();
    }
  }

  private checkAll(): void {
    for (const id of this.waiting.keys()) void this.check(id);
  }

  private async check(pipelineId: string): Promise<void> {
    let status: PipelineStatus | null;
    try {
      status = await this.storage.getStatus(pipelineId);
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
