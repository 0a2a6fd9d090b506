/**
 * The recording side of the tracking manager: the runs this process executes, their transitions
 * written to the storage, and each transition handed to the change stream. Recording never breaks
 * a run: storage failures are logged, and a run's writes are issued in order without a round trip
 * per transition; only the start (so `kiq` resolves with the run stored) and the end (so
 * `waitResult` resolves with the final state stored) are awaited.
 */
import type { Logger } from "../logger";
import type { ChangeStream, LocalRuns } from "./change-stream";
import { errorMessage, toJsonSafe } from "./json-safe";
import type { ListenerEvent } from "./listeners";
import { cloneStatus, isFinished, type PipelineStatus, type StepStatus } from "./models";
import type { FinishOutcome, TrackingStorage } from "./storage/types";

/** The error of a run cancelled by `cancel` / of one deleted while it ran. */
export const CANCELLED_MESSAGE = "Cancelled";
export const DELETED_MESSAGE = "Deleted";
/** The error of a run still executing here when `shutdown`'s grace period ran out. */
export const SHUTDOWN_MESSAGE = "worker shut down";

export type EndOutcome = { status: "COMPLETED"; result: unknown } | { status: "FAILED" | "CANCELLED"; error: string | null };

/** What `recordPipelineEnd` answers: the run's final state, and whether it was this end that wrote it. */
export interface RecordedEnd {
  status: PipelineStatus;
  applied: boolean;
}

/** What the executor of a run hands the manager so that a cancel from anywhere can stop it. */
export interface RunHandle {
  cancel(reason?: string): Promise<boolean>;
  /** The broker's worker id (`<hostname>:<pid>`): the holder of the run's lease unless the manager names one. */
  readonly workerId?: string;
}

interface LiveRun {
  status: PipelineStatus;
  handle: RunHandle | null;
  writes: Promise<unknown>[];
}

export interface RecorderDeps {
  origin: string;
  logger: Logger;
  maxResultBytes: number;
  storage: () => TrackingStorage;
}

export class RunRecorder implements LocalRuns {
  private readonly live = new Map<string, LiveRun>();
  private idleWaiters: (() => void)[] = [];
  /** Set once by the manager (the stream and the recorder need each other). */
  stream!: ChangeStream;

  constructor(private readonly deps: RecorderDeps) {}

  /** Stores a new run with every declared step; resolves once it is stored (or the storage failed). */
  async start(status: PipelineStatus, handle: RunHandle | null): Promise<void> {
    const storage = this.deps.storage();
    this.stream.listen();
    const run: LiveRun = { status: cloneStatus(status), handle, writes: [] };
    this.live.set(status.pipelineId, run);
    await this.settle(storage.saveStatus(run.status, { origin: this.deps.origin }), "record the start of", status.pipelineId);
    this.emit(run, [{ kind: "pipelineStart", pipelineId: status.pipelineId }]);
  }

  stepStart(pipelineId: string, stepName: string, details: { attempt?: number; workerId?: string | null }): void {
    this.updateStep(
      pipelineId,
      stepName,
      (step) => ({
        ...step,
        status: "RUNNING",
        startedAt: step.startedAt ?? new Date(),
        attempts: details.attempt ?? step.attempts,
        workerId: details.workerId ?? step.workerId,
      }),
      (id) => [{ kind: "stepStart", pipelineId: id, stepName }],
    );
  }

  stepComplete(pipelineId: string, stepName: string, result: unknown, durationMs?: number): void {
    const safe = toJsonSafe(result, this.deps.maxResultBytes);
    this.updateStep(
      pipelineId,
      stepName,
      (step) => finishStep(step, "COMPLETED", durationMs, { result: safe }),
      (id) => [{ kind: "stepComplete", pipelineId: id, stepName, result: safe }],
    );
  }

  stepFailure(pipelineId: string, stepName: string, error: unknown, durationMs?: number): void {
    const message = errorMessage(error);
    this.updateStep(
      pipelineId,
      stepName,
      (step) => finishStep(step, "FAILED", durationMs, { error: message }),
      () => [],
    );
  }

  /**
   * Ends a run: every step not finished yet becomes CANCELLED; resolves once the final state and
   * every earlier write of the run are stored. The final write is a compare-and-set: when the stored
   * run already ended (a cancel from another process won) or is gone (deleted), the stored state is
   * adopted and answered with `applied: false` (a deleted run answers CANCELLED "Deleted").
   */
  async end(pipelineId: string, outcome: EndOutcome): Promise<RecordedEnd | null> {
    const run = this.live.get(pipelineId);
    if (!run || isFinished(run.status.status)) return null;
    const now = new Date();
    const status = run.status;
    status.status = outcome.status;
    status.completedAt = now;
    status.durationMs = Math.max(0, now.getTime() - status.startedAt.getTime());
    if (outcome.status === "COMPLETED") status.result = toJsonSafe(outcome.result, this.deps.maxResultBytes);
    else status.error = outcome.error;
    status.steps = status.steps.map((s) => (isFinished(s.status) ? s : cancelStep(s, now)));
    let stored: FinishOutcome = { applied: true, current: status };
    try {
      const storage = this.deps.storage();
      await Promise.allSettled(run.writes);
      stored = await finishRun(storage, status, this.deps.origin);
    } catch (err) {
      // Storage failures never break a run: the run ends with its own outcome (logged).
      this.deps.logger.error({ err, pipelineId }, "tracking storage failed to record the end of a run");
    }
    this.live.delete(pipelineId);
    if (this.live.size === 0) for (const wake of this.idleWaiters.splice(0)) wake();
    if (!stored.applied && !stored.current) {
      // Deleted while it ran: nothing to announce (it would bring the run back on screen).
      return { status: { ...cloneStatus(status), status: "CANCELLED", error: DELETED_MESSAGE, result: null }, applied: false };
    }
    const final = cloneStatus(stored.applied ? status : stored.current!);
    run.status = final;
    this.emit(
      run,
      final.status === "FAILED"
        ? [
            { kind: "pipelineError", pipelineId, error: final.error ?? "" },
            { kind: "pipelineComplete", pipelineId, status: final },
          ]
        : [{ kind: "pipelineComplete", pipelineId, status: final }],
    );
    return { status: cloneStatus(final), applied: stored.applied };
  }

  /**
   * Cancels a run executing here (answers null when it does not), or stops it because it was
   * deleted. Its executor records the end.
   */
  async cancelLocal(pipelineId: string, reason?: string): Promise<boolean | null> {
    const handle = this.live.get(pipelineId)?.handle;
    if (!handle) return null;
    return handle.cancel(reason);
  }

  /** The local copy of a run executing here. */
  localStatus(pipelineId: string): PipelineStatus | null {
    const run = this.live.get(pipelineId);
    return run ? cloneStatus(run.status) : null;
  }

  isLocal(pipelineId: string): boolean {
    return this.live.get(pipelineId)?.handle != null;
  }

  stopLocal(pipelineId: string, reason: "cancelled" | "deleted"): void {
    void this.cancelLocal(pipelineId, reason === "deleted" ? DELETED_MESSAGE : undefined).catch((err: unknown) =>
      this.deps.logger.error({ err, pipelineId }, `could not stop a ${reason} run`),
    );
  }

  isActive(pipelineId: string): boolean {
    return this.live.has(pipelineId);
  }

  get activeRunIds(): string[] {
    return [...this.live.keys()];
  }

  /** Resolves once no run executes here, or after `timeoutMs`. */
  whenIdle(timeoutMs: number): Promise<void> {
    if (this.live.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.idleWaiters = this.idleWaiters.filter((w) => w !== wake);
        resolve();
      }, timeoutMs);
      this.idleWaiters.push(wake);
    });
  }

  /** Waits for every write issued so far. */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.live.values()].flatMap((r) => r.writes));
  }

  private updateStep(
    pipelineId: string,
    stepName: string,
    change: (step: StepStatus) => StepStatus,
    events: (pipelineId: string) => ListenerEvent[],
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
      write = this.deps.storage().saveStep(pipelineId, step, { origin: this.deps.origin });
    } catch (err) {
      // A storage that throws instead of rejecting: the same log, and the run goes on.
      write = Promise.reject(err);
    }
    run.writes.push(write);
    write.then(
      () => removeWrite(run.writes, write),
      (err: unknown) => {
        removeWrite(run.writes, write);
        this.deps.logger.error({ err, pipelineId, stepName }, "tracking storage failed to record a step");
      },
    );
    this.emit(run, events(pipelineId));
  }

  private emit(run: LiveRun, events: ListenerEvent[]): void {
    if (this.stream.subscriberCount === 0) return;
    this.stream.emitLocal(cloneStatus(run.status), events);
  }

  private async settle(write: Promise<unknown>, what: string, pipelineId: string): Promise<void> {
    try {
      await write;
    } catch (err) {
      this.deps.logger.error({ err, pipelineId }, `tracking storage failed to ${what} a run`);
    }
  }
}

/** `finishStatus`, or for a storage written before it existed, an unconditional save. */
export async function finishRun(storage: TrackingStorage, status: PipelineStatus, origin: string): Promise<FinishOutcome> {
  if (typeof storage.finishStatus !== "function") {
    await storage.saveStatus(status, { origin });
    return { applied: true, current: status };
  }
  return storage.finishStatus(status, { origin });
}

function finishStep(
  step: StepStatus,
  status: "COMPLETED" | "FAILED",
  durationMs: number | undefined,
  fields: Partial<StepStatus>,
): StepStatus {
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

export function cancelStep(step: StepStatus, now: Date): StepStatus {
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
