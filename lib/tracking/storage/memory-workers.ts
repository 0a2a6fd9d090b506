/**
 * The memory storage's worker registry (lib/workers/types.ts), on this process's clock: every
 * heartbeat comes from this process, so it and the store share that clock.
 */
import {
  WORKER_LISTED_FOR_MS,
  WORKER_OFFLINE_AFTER_MS,
  type HeartbeatOptions,
  type WorkerInfo,
  type WorkerRecord,
} from "../../workers/types";
import { compareWorkers } from "../../workers/listing";

interface HeldWorker {
  info: WorkerInfo;
  lastSeenMs: number;
  stopped: boolean;
}

export class MemoryWorkers {
  private readonly workers = new Map<string, HeldWorker>();

  /** Upserts a copy of `info` seen at `nowMs`, and drops workers unseen for WORKER_LISTED_FOR_MS. */
  record(info: WorkerInfo, options: HeartbeatOptions | undefined, nowMs: number): void {
    this.workers.set(info.workerId, { info: structuredClone(info), lastSeenMs: nowMs, stopped: options?.stopped === true });
    this.dropStale(nowMs);
  }

  /** Online workers first, then by workerId; copies, so callers never share state with the store. */
  list(nowMs: number): WorkerRecord[] {
    this.dropStale(nowMs);
    const records = [...this.workers.values()].map(({ info, lastSeenMs, stopped }): WorkerRecord => {
      const online = !stopped && nowMs - lastSeenMs < WORKER_OFFLINE_AFTER_MS;
      return { ...structuredClone(info), lastSeenAt: new Date(lastSeenMs), status: online ? "online" : "offline" };
    });
    return records.sort(compareWorkers);
  }

  private dropStale(nowMs: number): void {
    for (const [id, worker] of this.workers) if (nowMs - worker.lastSeenMs >= WORKER_LISTED_FOR_MS) this.workers.delete(id);
  }
}
