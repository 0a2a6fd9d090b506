/**
 * PipelineTrackingManager (guide §2, contract §1): records runs into a storage, answers queries
 * (manager-queries.ts), and tells listeners. Recording never breaks a run: storage failures are logged, listeners are
 * isolated, and a run's writes are issued in order without a round trip per transition; only the
 * start (so `kiq` resolves with the run stored) and the end (so `waitResult` resolves with the
 * final state stored) are awaited.
 */
import { randomUUID } from "node:crypto";
import type { Broker } from "../pipeline/broker";
import { defaultLogger, type Logger } from "../logger";
import { DEFAULT_MAX_RESULT_BYTES, errorMessage, toJsonSafe } from "./json-safe";
import { ListenerSet, type ListenerEvent, type TrackingListener } from "./listeners";
import { TrackingQueries } from "./manager-queries";
import { cloneStatus, isFinished, type PipelineStatus, type StepStatus } from "./models";
import { InMemoryPipelineStorage } from "./storage/memory";
import { RedisPipelineStorage } from "./storage/redis/storage";
import type { FinishOutcome, StorageChange, TrackingStorage } from "./storage/types";

export { NO_STORAGE_MESSAGE } from "./manager-queries";
/** The error of a run cancelled by `cancel` / of one deleted while it ran. */
export const CANCELLED_MESSAGE = "Cancelled";
export const DELETED_MESSAGE = "Deleted";

export type EndOutcome = { status: "COMPLETED"; result: unknown } | { status: "FAILED" | "CANCELLED"; error: string | null };

/** What `recordPipelineEnd` answers: the run's final state, and whether it was this end that wrote it. */
export interface RecordedEnd {
  status: PipelineStatus;
  applied: boolean;
}

export interface TrackingManagerOptions {
  logger?: Logger;
  /** Results larger than this (JSON, UTF-8) are stored as `{ truncated, bytes, preview }`. Default 64 KiB. */
  maxResultBytes?: number;
}

export interface CancelOutcome {
  /** False when the run had already finished; `status` is then its final state. */
  cancelled: boolean;
  status: PipelineStatus;
}

/** What the executor of a run hands the manager so that a cancel from anywhere can stop it. */
export interface RunHandle {
  cancel(reason?: string): Promise<boolean>;
}

interface LiveRun {
  status: PipelineStatus;
  handle: RunHandle | null;
  writes: Promise<unknown>[];
}

const REMOTE_VERSIONS_KEPT = 10_000;

export class PipelineTrackingManager extends TrackingQueries {
  /** Identifies this manager's writes in a shared storage's change feed. */
  readonly instanceId = randomUUID();
  readonly logger: Logger;
  readonly maxResultBytes: number;
  private readonly listeners: ListenerSet;
  private readonly live = new Map<string, LiveRun>();
  private unsubscribe: (() => void) | null = null;
  private readonly remoteVersions = new Map<string, number>();
  /** The storage epoch `remoteVersions` count in; a new one (versions started over) forgets them. */
  private remoteEpoch: string | undefined;

  constructor(options: TrackingManagerOptions = {}) {
    super();
    this.logger = options.logger ?? defaultLogger();
    this.maxResultBytes = options.maxResultBytes ?? DEFAULT_MAX_RESULT_BYTES;
    this.listeners = new ListenerSet(this.logger);
  }

  // ---- configuration --------------------------------------------------------------------------

  withStorage(storage: TrackingStorage): this {
    if (!storage || typeof storage.saveStatus !== "function") throw new TypeError("withStorage needs a TrackingStorage");
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.currentStorage = storage;
    this.remoteVersions.clear();
    this.remoteEpoch = undefined;
    if (this.listeners.size > 0 || this.live.size > 0) this.subscribeToChanges();
    return this;
  }

  /** Redis when the broker has a Redis connection, memory otherwise (guide §2.1). */
  withAutoStorage(broker: Broker): this {
    return this.withStorage(broker.redis ? new RedisPipelineStorage(broker.redis, { logger: this.logger }) : new InMemoryPipelineStorage());
  }

  /** Deletes a run; a run still executing here is cancelled first. */
  async deletePipeline(pipelineId: string): Promise<boolean> {
    const storage = this.storage;
    const live = this.live.get(pipelineId);
    if (live?.handle) await live.handle.cancel("Deleted");
    return storage.deletePipeline(pipelineId, { origin: this.instanceId });
  }



  /**
   * Cancels a run: one executing in this process stops at once; one executing elsewhere is marked
   * CANCELLED in the storage, and its own process (sharing the storage's change feed) stops it.
   * The mark is a compare-and-set (`finishStatus`): a cancel that loses to the run's own end answers
   * `{ cancelled: false, status: <final> }`. Null when the id is unknown.
   */
  async cancel(pipelineId: string): Promise<CancelOutcome | null> {
    const storage = this.storage;
    const live = this.live.get(pipelineId);
    if (live?.handle) {
      const cancelled = await live.handle.cancel();
      const status = (await storage.getStatus(pipelineId)) ?? cloneStatus(live.status);
      return { cancelled, status };
    }
    const stored = await storage.getStatus(pipelineId);
    if (!stored) return null;
    if (isFinished(stored.status)) return { cancelled: false, status: stored };
    const now = new Date();
    const status: PipelineStatus = {
      ...stored,
      status: "CANCELLED",
      completedAt: now,
      durationMs: Math.max(0, now.getTime() - stored.startedAt.getTime()),
      error: CANCELLED_MESSAGE,
      steps: stored.steps.map((s) => (isFinished(s.status) ? s : cancelStep(s, now))),
    };
    const outcome = await finishRun(storage, status, this.instanceId);
    if (!outcome.applied) return outcome.current ? { cancelled: false, status: outcome.current } : null;
    // Read back: the store keeps steps the worker ended since our read (step-order.ts keepsStoredStep).
    const final = (await storage.getStatus(pipelineId)) ?? outcome.current ?? status;
    this.listeners.statusUpdate(cloneStatus(final));
    return { cancelled: true, status: final };
  }

  // ---- listeners ------------------------------------------------------------------------------

  /** Like every other method (contract §1), refused until a storage is set. */
  addListener(listener: TrackingListener): void {
    void this.storage;
    this.listeners.add(listener);
    this.subscribeToChanges();
  }

  removeListener(listener: TrackingListener): boolean {
    void this.storage;
    return this.listeners.remove(listener);
  }

  // ---- recording (called by the executor of a run) ---------------------------------------------

  /** Stores a new run with every declared step; resolves once it is stored (or the storage failed). */
  async recordPipelineStart(status: PipelineStatus, handle: RunHandle | null = null): Promise<void> {
    const storage = this.storage;
    this.subscribeToChanges();
    const run: LiveRun = { status: cloneStatus(status), handle, writes: [] };
    this.live.set(status.pipelineId, run);
    await this.settle(storage.saveStatus(run.status, { origin: this.instanceId }), "record the start of", status.pipelineId);
    this.notify(run, { kind: "pipelineStart", pipelineId: status.pipelineId });
  }

  recordStepStart(pipelineId: string, stepName: string, details: { attempt?: number; workerId?: string | null } = {}): void {
    this.updateStep(pipelineId, stepName, (step) => ({
      ...step,
      status: "RUNNING",
      startedAt: step.startedAt ?? new Date(),
      attempts: details.attempt ?? step.attempts,
      workerId: details.workerId ?? step.workerId,
    }), (id) => ({ kind: "stepStart", pipelineId: id, stepName }));
  }

  recordStepComplete(pipelineId: string, stepName: string, result: unknown, durationMs?: number): void {
    const safe = toJsonSafe(result, this.maxResultBytes);
    this.updateStep(pipelineId, stepName, (step) => finishStep(step, "COMPLETED", durationMs, { result: safe }),
      (id) => ({ kind: "stepComplete", pipelineId: id, stepName, result: safe }));
  }

  recordStepFailure(pipelineId: string, stepName: string, error: unknown, durationMs?: number): void {
    const message = errorMessage(error);
    this.updateStep(pipelineId, stepName, (step) => finishStep(step, "FAILED", durationMs, { error: message }), null);
  }

  /**
   * Ends a run: every step not finished yet becomes CANCELLED; resolves once the final state and
   * every earlier write of the run are stored. The final write is a compare-and-set: when the stored
   * run already ended (a cancel from another process won) or is gone (deleted), the stored state is
   * adopted and answered with `applied: false` (a deleted run answers CANCELLED "Deleted").
   */
  async recordPipelineEnd(pipelineId: string, outcome: EndOutcome): Promise<RecordedEnd | null> {
    const run = this.live.get(pipelineId);
    if (!run || isFinished(run.status.status)) return null;
    const now = new Date();
    const status = run.status;
    status.status = outcome.status;
    status.completedAt = now;
    status.durationMs = Math.max(0, now.getTime() - status.startedAt.getTime());
    if (outcome.status === "COMPLETED") status.result = toJsonSafe(outcome.result, this.maxResultBytes);
    else status.error = outcome.error;
    status.steps = status.steps.map((s) => (isFinished(s.status) ? s : cancelStep(s, now)));
    const storage = this.storage;
    let stored: FinishOutcome = { applied: true, current: status };
    try {
      await Promise.allSettled(run.writes);
      stored = await finishRun(storage, status, this.instanceId);
    } catch (err) {
      // Storage failures never break a run: the run ends with its own outcome (logged).
      this.logger.error({ err, pipelineId }, "tracking storage failed to record the end of a run");
    }
    this.live.delete(pipelineId);
    if (!stored.applied && !stored.current) {
      // Deleted while it ran: nothing to tell listeners (they would bring the run back on screen).
      return { status: { ...cloneStatus(status), status: "CANCELLED", error: DELETED_MESSAGE, result: null }, applied: false };
    }
    const final = cloneStatus(stored.applied ? status : stored.current!);
    run.status = final;
    const failed = final.status === "FAILED";
    this.notify(run, failed
      ? { kind: "pipelineError", pipelineId, error: final.error ?? "" }
      : { kind: "pipelineComplete", pipelineId, status: final });
    if (failed) this.listeners.event({ kind: "pipelineComplete", pipelineId, status: final });
    return { status: cloneStatus(final), applied: stored.applied };
  }

  /** True while a run recorded by this manager is executing in this process. */
  isActive(pipelineId: string): boolean {
    return this.live.has(pipelineId);
  }

  /** Runs executing in this process, by id. */
  get activeRunIds(): string[] {
    return [...this.live.keys()];
  }

  /** Waits for every write issued so far, then closes the storage's connections. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.live.values()].flatMap((r) => r.writes));
    this.unsubscribe?.();
    this.unsubscribe = null;
    await this.currentStorage?.close();
  }

  // ---- internals ------------------------------------------------------------------------------

  private updateStep(
    pipelineId: string,
    stepName: string,
    change: (step: StepStatus) => StepStatus,
    event: ((pipelineId: string) => ListenerEvent) | null,
  ): void {
    const run = this.live.get(pipelineId);
    if (!run || isFinished(run.status.status)) return;
    const steps = run.status.steps;
    const index = steps.findIndex((s) => s.stepName === stepName);
    if (index < 0) return;
    const step = change(steps[index]!);
    steps[index] = step;
    let write: Promise<void>;
    try {
      write = this.storage.saveStep(pipelineId, step, { origin: this.instanceId });
    } catch (err) {
      // A storage that throws instead of rejecting: the same log, and the run goes on.
      write = Promise.reject(err);
    }
    run.writes.push(write);
    write.then(() => removeWrite(run.writes, write), (err: unknown) => {
      removeWrite(run.writes, write);
      this.logger.error({ err, pipelineId, stepName }, "tracking storage failed to record a step");
    });
    if (event) this.notify(run, event(pipelineId));
    else this.notifyStatus(run);
  }

  private notify(run: LiveRun, event: ListenerEvent): void {
    if (this.listeners.size === 0) return;
    this.listeners.event(event);
    this.notifyStatus(run);
  }

  private notifyStatus(run: LiveRun): void {
    if (this.listeners.size === 0) return;
    this.listeners.statusUpdate(cloneStatus(run.status));
  }

  private async settle(write: Promise<unknown>, what: string, pipelineId: string): Promise<void> {
    try {
      await write;
    } catch (err) {
      this.logger.error({ err, pipelineId }, `tracking storage failed to ${what} a run`);
    }
  }

  /** Hear writes by other managers (other processes, with a shared storage). */
  private subscribeToChanges(): void {
    if (this.unsubscribe || !this.currentStorage) return;
    this.unsubscribe = this.currentStorage.subscribe((change) => {
      if (change.origin === this.instanceId) return;
      if (change.deleted) {
        // Deleted elsewhere while it runs here: stop it (its end write then finds no run to recreate).
        const handle = this.live.get(change.pipelineId)?.handle;
        if (handle) void handle.cancel(DELETED_MESSAGE).catch((err: unknown) =>
          this.logger.error({ err, pipelineId: change.pipelineId }, "could not stop a deleted run"));
        return;
      }
      void this.onRemoteChange(change).catch((err: unknown) =>
        this.logger.warn({ err, pipelineId: change.pipelineId }, "could not read a changed run"));
    });
  }

  private async onRemoteChange(change: StorageChange): Promise<void> {
    if (change.epoch !== undefined && change.epoch !== this.remoteEpoch) {
      // A Redis that restarted empty counts every run's versions from 1 again.
      this.remoteVersions.clear();
      this.remoteEpoch = change.epoch;
    }
    const seen = this.remoteVersions.get(change.pipelineId) ?? 0;
    if (change.version <= seen) return;
    // Nobody to tell and nothing to cancel here: skip the read (with Redis, one per transition of every other process).
    if (this.listeners.size === 0 && !this.live.get(change.pipelineId)?.handle) return;
    const status = change.status ?? (await this.currentStorage?.getStatus(change.pipelineId));
    if (!status) return;
    // Re-check after the await: a newer change (or a new epoch) may have been handled meanwhile.
    if (change.epoch !== undefined && change.epoch !== this.remoteEpoch) return;
    if (change.version <= (this.remoteVersions.get(change.pipelineId) ?? 0)) return;
    this.remoteVersions.delete(change.pipelineId);
    this.remoteVersions.set(change.pipelineId, change.version);
    if (this.remoteVersions.size > REMOTE_VERSIONS_KEPT) {
      this.remoteVersions.delete(this.remoteVersions.keys().next().value as string);
    }
    const live = this.live.get(change.pipelineId);
    if (live?.handle && status.status === "CANCELLED") {
      await live.handle.cancel();
      return;
    }
    this.listeners.statusUpdate(status);
  }
}

/** `finishStatus`, or for a storage written before it existed, an unconditional save. */
async function finishRun(storage: TrackingStorage, status: PipelineStatus, origin: string): Promise<FinishOutcome> {
  if (typeof storage.finishStatus !== "function") {
    await storage.saveStatus(status, { origin });
    return { applied: true, current: status };
  }
  return storage.finishStatus(status, { origin });
}


function finishStep(step: StepStatus, status: "COMPLETED" | "FAILED", durationMs: number | undefined,
  fields: Partial<StepStatus>): StepStatus {
  const completedAt = new Date();
  const startedAt = step.startedAt ?? completedAt;
  return {
    ...step,
    ...fields,
    status,
    startedAt,
    completedAt,
    durationMs: durationMs ?? Math.max(0, completedAt.getTime() - startedAt.getTime()),
  };
}

function cancelStep(step: StepStatus, now: Date): StepStatus {
  return {
    ...step,
    status: "CANCELLED",
    completedAt: step.startedAt ? now : null,
    durationMs: step.startedAt ? Math.max(0, now.getTime() - step.startedAt.getTime()) : null,
  };
}

function removeWrite(writes: Promise<unknown>[], write: Promise<unknown>): void {
  const i = writes.indexOf(write);
  if (i >= 0) writes.splice(i, 1);
}
