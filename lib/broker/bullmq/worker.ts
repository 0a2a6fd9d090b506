/**
 * The worker side of BullMQBroker: one BullMQ Worker per registered pipeline's queue, each step job
 * run through the execution state (execution-state.ts), every transition recorded in the Redis
 * tracking storage, and the run ended by the worker that finishes its last (or a failing) step.
 *
 * - Cancel from anywhere: the runs with steps running here are read back four times a second; once one
 *   reads finished (cancelled, swept) or deleted, its steps' `ctx.signal` aborts and nothing more is
 *   recorded.
 * - Leases: every leaseMs / 3 the worker renews the runs with steps enqueued or running on its queues,
 *   so a backlog is never "lost"; it sweeps expired leases like any manager. BullMQ's lock and stalled
 *   check (leaseMs / 4 each) hand a dead worker's step to another worker within leaseMs / 2.
 * - close({ graceMs }): takes no new jobs, lets running steps finish within graceMs, then puts the
 *   unfinished ones back on their queue (never CANCELLED), records a last heartbeat and disconnects.
 */
import { hostname } from "node:os";
import type { Job, Worker } from "bullmq";
import type { Logger } from "../../logger";
import type { Pipeline } from "../../pipeline/pipeline";
import type { StepContext, StepFunction } from "../../pipeline/broker";
import { errorMessage, toJsonSafe, DEFAULT_MAX_RESULT_BYTES } from "../../tracking/json-safe";
import { PipelineTrackingManager } from "../../tracking/manager";
import { isFinished, type PipelineStatus, type StepStatus } from "../../tracking/models";
import { cancelStep } from "../../tracking/recorder";
import { RedisPipelineStorage } from "../../tracking/storage/redis/storage";
import { WorkerHeartbeat } from "../../workers/heartbeat";
import type { WorkerInfo } from "../../workers/types";
import type { BullMQBroker } from "./broker";
import { executionScripts, parseClaim, parseComplete } from "./execution-state";
import { loadBullMQ } from "./load";
import { endingOrigin } from "./names";
import { decodePayload, encodePayload, PayloadError } from "./payload";
import { runResult, stepInput, type PlannedStep, type RunPlan } from "./plan";
import { CoalescedChecks, readRunState } from "./run-waiter";

export interface StartWorkerOptions {
  /** The pipelines this worker runs (found by name); each must use this broker. */
  pipelines: readonly Pipeline<never, unknown>[];
  /** Steps run at once per queue. Default 1. */
  concurrency?: number;
  /** How long in-flight steps may finish at `close()` before going back to the queue. Default 10 000. */
  graceMs?: number;
  /** Lease length of the runs this worker holds; also sets BullMQ's stalled-job check. Default: the broker's. */
  leaseMs?: number;
  logger?: Logger;
}

export interface WorkerHandle {
  readonly workerId: string;
  /** Stops taking jobs, lets in-flight steps finish within `graceMs`, returns the rest to the queue. */
  close(options?: { graceMs?: number }): Promise<void>;
}

export const DEFAULT_WORKER_GRACE_MS = 10_000;
/** A job whose bookkeeping failed (not its step) runs again after this long. */
const BOOKKEEPING_RETRY_MS = 500;
/** How often the runs with steps running here are checked for an end elsewhere (a cancel reaches a step within it). */
const RUN_WATCH_MS = 250;
/** Tries at writing a run's end before leaving it to its lease (about 15 s with the back-off). */
const END_WRITE_ATTEMPTS = 10;

/** A step's own failure, which spends one of its attempts (BullMQ retries it with the step's backoff). */
class StepAttemptFailed extends Error {}
/** The error a step's signal aborts with when its worker stops and the step goes back to the queue. */
export const WORKER_STOPPING_MESSAGE = "worker shutting down: the step goes back to the queue";

interface ActiveStep {
  pipelineId: string;
  stepName: string;
  startedAt: Date;
  controller: AbortController;
  /** Why it was stopped early: the run ended elsewhere, or this worker is stopping. */
  stop: "ended" | "requeue" | null;
}

type Attempt = { kind: "ok"; value: unknown } | { kind: "error"; error: unknown } | { kind: "stopped" };

export class StepWorker implements WorkerHandle {
  readonly workerId: string;
  readonly closed: Promise<void>;
  private resolveClosed!: () => void;
  private readonly logger: Logger;
  private readonly plans = new Map<string, RunPlan>();
  private readonly concurrency: number;
  private readonly graceMs: number;
  private readonly leaseMs: number;
  private readonly storage: RedisPipelineStorage;
  private readonly tracking: PipelineTrackingManager;
  private readonly heartbeat: WorkerHeartbeat;
  private readonly scripts;
  private readonly runChecks = new CoalescedChecks((id) => this.checkRun(id));
  private readonly bullWorkers: Worker[] = [];
  private readonly active = new Map<string, ActiveStep>();
  private readonly startedAt = new Date();
  private processed = 0;
  private failed = 0;
  private watchTimer: NodeJS.Timeout | null = null;
  private leaseTimer: NodeJS.Timeout | null = null;
  private closing: Promise<void> | null = null;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly broker: BullMQBroker,
    options: StartWorkerOptions,
  ) {
    this.logger = (options.logger ?? broker.logger).child({ workerId: broker.workerId });
    this.workerId = broker.workerId;
    if (!options || !Array.isArray(options.pipelines) || options.pipelines.length === 0) {
      throw new TypeError("startWorker needs { pipelines }: at least one Pipeline of this broker");
    }
    for (const pipeline of options.pipelines) {
      if (pipeline.broker !== broker) throw new TypeError(`Pipeline "${pipeline.name ?? "(unnamed)"}" does not use this BullMQBroker`);
      const plan = broker.planFor(pipeline);
      if (this.plans.has(plan.queue)) throw new TypeError(`Two pipelines are named "${plan.name}": a worker finds pipelines by name`);
      this.plans.set(plan.queue, plan);
    }
    this.concurrency = positiveInteger(options.concurrency ?? 1, "concurrency");
    this.graceMs = nonNegative(options.graceMs ?? DEFAULT_WORKER_GRACE_MS, "graceMs");
    this.leaseMs = options.leaseMs ?? broker.leaseMs;
    if (!(Number.isFinite(this.leaseMs) && this.leaseMs >= 1000)) throw new RangeError("leaseMs must be a number of at least 1000");
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    this.storage = new RedisPipelineStorage(broker.redis as never, { keyPrefix: broker.keyPrefix, logger: this.logger });
    // A manager of its own: it sweeps expired leases like every manager sharing the storage.
    this.tracking = new PipelineTrackingManager({ logger: this.logger, leaseMs: this.leaseMs, workerId: this.workerId }).withStorage(
      this.storage,
    );
    this.scripts = executionScripts(broker.redis);
    this.heartbeat = new WorkerHeartbeat(this.storage, () => this.info(), { logger: this.logger });
  }

  async start(): Promise<void> {
    const { Worker } = await loadBullMQ();
    // BullMQ's lock on an active job lasts leaseMs / 4 (renewed every leaseMs / 8) and the stalled check
    // runs every leaseMs / 4: a dead worker's step is back in the queue within leaseMs / 2.
    const quarter = Math.max(250, Math.floor(this.leaseMs / 4));
    for (const plan of this.plans.values()) {
      const worker = new Worker(plan.queue, (job, token) => this.processSafely(plan, job, token), {
        connection: this.broker.redis,
        prefix: this.broker.bullPrefix,
        concurrency: this.concurrency,
        lockDuration: quarter,
        stalledInterval: quarter,
        maxStalledCount: 3,
        name: this.workerId,
        autorun: false,
      });
      worker.on("error", (err) => this.logger.warn({ err, queue: plan.queue }, "BullMQ worker error"));
      worker.on("failed", (job, err) => {
        // BullMQ gives up on a job that stalled too often without our processor: end its run.
        if (job && /stalled more than allowable/.test(err.message)) void this.failStalled(plan, job);
      });
      this.bullWorkers.push(worker);
    }
    for (const worker of this.bullWorkers) void worker.run().catch((err: unknown) => this.logger.error({ err }, "BullMQ worker stopped"));
    await Promise.all(this.bullWorkers.map((w) => w.waitUntilReady()));
    this.leaseTimer = setInterval(() => void this.renewLeases(), this.leaseMs / 3);
    this.leaseTimer.unref();
    this.watchTimer = setInterval(() => this.watchRuns(), RUN_WATCH_MS);
    this.watchTimer.unref();
    await this.heartbeat.start();
    this.logger.info({ pipelines: [...this.plans.values()].map((p) => p.name), concurrency: this.concurrency }, "pipewatch worker started");
  }

  private info(): WorkerInfo {
    return {
      workerId: this.workerId,
      hostname: hostname(),
      pid: process.pid,
      startedAt: this.startedAt,
      concurrency: this.concurrency,
      active: [...this.active.values()].map((a) => ({ pipelineId: a.pipelineId, stepName: a.stepName, startedAt: a.startedAt })),
      processed: this.processed,
      failed: this.failed,
      pipelines: [...this.plans.values()].map((p) => ({
        name: p.name,
        pipelineType: p.dataflow ? "dataflow" : "sequential",
        steps: p.steps.map((s) => ({ name: s.def.name, dependsOn: s.def.dependsOn.slice() })),
      })),
    };
  }

  private runsHere(pipelineId: string): boolean {
    for (const a of this.active.values()) if (a.pipelineId === pipelineId) return true;
    return false;
  }

  /**
   * The runs with steps running here are read back every RUN_WATCH_MS (their status alone, one
   * pipelined read for all): a run that ended elsewhere (a cancel, a sweep) or was deleted stops its
   * steps here. Watching what runs here costs the same whatever the rest of the system writes, where
   * following the change feed would make every worker read every change of every run.
   */
  private watchRuns(): void {
    if (this.active.size === 0) return;
    for (const id of new Set([...this.active.values()].map((a) => a.pipelineId))) this.runChecks.request(id);
  }

  /** Once a run with steps here reads back finished or gone, its steps here stop. */
  private async checkRun(pipelineId: string): Promise<void> {
    if (!this.runsHere(pipelineId)) return;
    try {
      const state = await readRunState(this.storage, pipelineId);
      if (!state) this.stopRun(pipelineId, "Deleted");
      else if (isFinished(state.status)) this.stopRun(pipelineId, state.error ?? state.status);
    } catch (err) {
      this.logger.warn({ err, pipelineId }, "could not read a run to see whether it ended");
    }
  }

  private stopRun(pipelineId: string, reason: string): void {
    for (const a of this.active.values()) {
      if (a.pipelineId !== pipelineId || a.stop) continue;
      a.stop = "ended";
      a.controller.abort(new Error(reason));
    }
  }

  private async renewLeases(): Promise<void> {
    try {
      const ids = new Set<string>();
      for (const plan of this.plans.values()) {
        const open = (await this.scripts.pwxOpen(
          this.broker.executionKeys.open(plan.queue),
          `${this.broker.keyPrefix}x:`,
          `${this.broker.keyPrefix}run:`,
        )) as string[];
        for (const id of open) ids.add(id);
      }
      if (ids.size > 0) await this.storage.renewLeases([...ids], this.leaseMs, this.workerId);
    } catch (err) {
      this.logger.warn({ err }, "could not renew the leases of this worker's runs");
    }
  }

  private keys(plan: RunPlan, pipelineId: string): [string, string, string] {
    return [this.broker.executionKeys.run(pipelineId), this.broker.runKeys.run(pipelineId), this.broker.executionKeys.open(plan.queue)];
  }

  /**
   * A job whose bookkeeping failed (Redis unreachable for a moment) is tried again later without
   * spending one of the step's attempts: every script it runs is idempotent. Only a failure of the
   * step itself (StepAttemptFailed) counts as an attempt for BullMQ's retries.
   */
  private async processSafely(plan: RunPlan, job: Job, token: string | undefined): Promise<void> {
    try {
      await this.process(plan, job, token);
    } catch (err) {
      const { DelayedError, WaitingError } = await loadBullMQ();
      if (err instanceof StepAttemptFailed || err instanceof WaitingError) throw err;
      this.logger.warn({ err, jobId: job.id }, "a step job's bookkeeping failed; trying the job again shortly");
      if (!token) throw err;
      await job.moveToDelayed(Date.now() + BOOKKEEPING_RETRY_MS, token);
      throw new DelayedError();
    }
  }

  /** One step job: claim the attempt, run it, record it, pass the output on. */
  private async process(plan: RunPlan, job: Job, token: string | undefined): Promise<void> {
    const { p: pipelineId, g: generation, s: index } = job.data as { p: string; g: string; s: number };
    const step = plan.steps[index];
    if (!step)
      throw new Error(`Pipeline "${plan.name}" has no step #${index} on worker ${this.workerId}: is it running an older definition?`);
    const keys = this.keys(plan, pipelineId);
    const name = step.def.name;
    const claim = parseClaim(await this.scripts.pwxClaim(...keys, generation, pipelineId, name, this.workerId, Date.now(), ...step.deps));
    if (claim.kind === "skip") return;
    if (claim.kind === "done") {
      // A finish that was recorded but not followed through (its worker died): pass it on again.
      const again = parseComplete(
        await this.scripts.pwxComplete(...keys, generation, pipelineId, name, "", ...this.completeArgs(plan, step)),
      );
      if (again.kind === "ok") await this.broker.enqueue(plan, pipelineId, generation, again.ready);
      return;
    }
    const startedAt = new Date(claim.firstStartMs);
    const base = { stepName: name, dependsOn: step.def.dependsOn.slice(), attempts: claim.attempt, workerId: this.workerId, startedAt };
    this.record(pipelineId, { ...base, status: "RUNNING", completedAt: null, durationMs: null, result: null, error: null });

    const entry: ActiveStep = { pipelineId, stepName: name, startedAt: new Date(), controller: new AbortController(), stop: null };
    const jobKey = String(job.id);
    this.active.set(jobKey, entry);
    this.heartbeat.touch();
    let attempt: Attempt;
    try {
      const input = stepInput(plan, step, claim.inputs.map(decodePayload));
      attempt = await this.run(step, input, entry, { pipelineId, stepName: name, attempt: claim.attempt, workerId: this.workerId });
    } catch (err) {
      attempt = { kind: "error", error: err };
    } finally {
      this.active.delete(jobKey);
      this.heartbeat.touch();
      if (this.active.size === 0) this.idleWaiters.splice(0).forEach((w) => w());
    }
    if (attempt.kind === "stopped") {
      if (entry.stop === "requeue") {
        await job.moveToWait(token);
        const { WaitingError } = await loadBullMQ();
        throw new WaitingError();
      }
      return; // the run ended elsewhere; its end recorded every step
    }

    const durationMs = Date.now() - startedAt.getTime();
    let output = "";
    if (attempt.kind === "ok") {
      try {
        output = encodePayload(attempt.value, `The output of step "${name}"`, this.broker.maxPayloadBytes);
      } catch (err) {
        attempt = { kind: "error", error: err };
      }
    }
    if (attempt.kind === "error") return this.failAttempt(plan, step, job, { pipelineId, generation, base, durationMs }, attempt.error);

    const done = parseComplete(
      await this.scripts.pwxComplete(...keys, generation, pipelineId, name, output, ...this.completeArgs(plan, step)),
    );
    if (done.kind === "ended") return;
    this.processed++;
    const result = toJsonSafe(attempt.value, DEFAULT_MAX_RESULT_BYTES);
    const completed: StepStatus = { ...base, status: "COMPLETED", completedAt: new Date(), durationMs, result, error: null };
    this.record(pipelineId, completed);
    if (done.kind === "ok") {
      await this.broker.enqueue(plan, pipelineId, generation, done.ready);
      return;
    }
    const value = runResult(plan, done.sinkOutputs.map(decodePayload));
    await this.endRun(pipelineId, completed, { status: "COMPLETED", result: toJsonSafe(value, DEFAULT_MAX_RESULT_BYTES) });
  }

  private completeArgs(plan: RunPlan, step: PlannedStep): (string | number)[] {
    return [step.dependents.length, ...step.dependents, ...plan.sinks];
  }

  /** A failed attempt: BullMQ retries it (with the step's backoff) while attempts remain; the last one fails the run. */
  private async failAttempt(
    plan: RunPlan,
    step: PlannedStep,
    job: Job,
    at: {
      pipelineId: string;
      generation: string;
      base: Omit<StepStatus, "status" | "completedAt" | "durationMs" | "result" | "error">;
      durationMs: number;
    },
    error: unknown,
  ): Promise<void> {
    const message = errorMessage(error);
    const retry = !(error instanceof PayloadError) && job.attemptsMade + 1 < (job.opts.attempts ?? 1);
    if (retry) {
      // The timeline shows the attempt that failed while the next one waits.
      this.record(at.pipelineId, {
        ...at.base,
        status: "RUNNING",
        completedAt: null,
        durationMs: null,
        result: null,
        error: `attempt ${at.base.attempts} failed: ${message}`,
      });
      throw new StepAttemptFailed(message);
    }
    this.processed++;
    this.failed++;
    const won = Number(await this.scripts.pwxFail(...this.keys(plan, at.pipelineId), at.generation, at.pipelineId)) === 1;
    if (!won) return;
    const failedStep: StepStatus = {
      ...at.base,
      status: "FAILED",
      completedAt: new Date(),
      durationMs: at.durationMs,
      result: null,
      error: message,
    };
    this.record(at.pipelineId, failedStep);
    await this.endRun(at.pipelineId, failedStep, { status: "FAILED", error: message });
  }

  /** A job BullMQ failed itself (it stalled too often): its run fails with that step. */
  private async failStalled(plan: RunPlan, job: Job): Promise<void> {
    const { p: pipelineId, g: generation, s: index } = job.data as { p: string; g: string; s: number };
    const step = plan.steps[index];
    if (!step) return;
    const won = Number(await this.scripts.pwxFail(...this.keys(plan, pipelineId), generation, pipelineId)) === 1;
    if (!won) return;
    const message = `step "${step.def.name}" stalled too often (its workers died or froze)`;
    const now = new Date();
    const failedStep: StepStatus = {
      stepName: step.def.name,
      status: "FAILED",
      startedAt: now,
      completedAt: now,
      durationMs: 0,
      result: null,
      error: message,
      dependsOn: step.def.dependsOn.slice(),
      attempts: job.attemptsStarted,
      workerId: null,
    };
    await this.endRun(pipelineId, failedStep, { status: "FAILED", error: message });
  }

  /** Runs one attempt: the step's own timeout, and an early stop when the run ends or the worker stops. */
  private run(step: PlannedStep, input: unknown, entry: ActiveStep, ctxBase: Omit<StepContext, "signal">): Promise<Attempt> {
    const fn = step.def.fn as StepFunction<unknown, unknown>;
    const signals = [entry.controller.signal];
    let timer: NodeJS.Timeout | null = null;
    let timeout: AbortController | null = null;
    if (step.def.timeoutMs !== null) {
      timeout = new AbortController();
      signals.push(timeout.signal);
    }
    const signal = signals.length === 1 ? signals[0]! : AbortSignal.any(signals);
    return new Promise<Attempt>((resolve) => {
      const stopped = () => resolve({ kind: "stopped" });
      entry.controller.signal.addEventListener("abort", stopped, { once: true });
      if (timeout) {
        const ms = step.def.timeoutMs!;
        timer = setTimeout(() => {
          const err = new Error(`Step "${step.def.name}" timed out after ${ms} ms`);
          err.name = "TimeoutError";
          timeout!.abort(err);
          resolve({ kind: "error", error: err });
        }, ms);
      }
      Promise.resolve()
        .then(() => fn(input, { ...ctxBase, signal }))
        .then(
          (value) => resolve({ kind: "ok", value }),
          (error: unknown) => resolve({ kind: "error", error }),
        )
        .finally(() => {
          if (timer) clearTimeout(timer);
          entry.controller.signal.removeEventListener("abort", stopped);
        });
    });
  }

  private record(pipelineId: string, step: StepStatus): void {
    this.storage.saveStep(pipelineId, step, { origin: this.broker.origin }).catch((err: unknown) => {
      this.logger.error({ err, pipelineId, stepName: step.stepName }, "tracking storage failed to record a step");
    });
  }

  /**
   * Ends a run from the stored state: the given step as this worker ended it, every other step that
   * had not ended COMPLETED (a completed run: all its steps finished) or CANCELLED (a failed one).
   * A compare-and-set: a cancel or a sweep that ended the run first wins.
   */
  private async endRun(
    pipelineId: string,
    step: StepStatus,
    outcome: { status: "COMPLETED"; result: unknown } | { status: "FAILED"; error: string },
  ): Promise<void> {
    // The run's execution state is gone once its end is decided: retry the write here (through a
    // Redis hiccup) rather than leave the run to its lease.
    for (let attempt = 1; ; attempt++) {
      try {
        await this.writeEnd(pipelineId, step, outcome);
        return;
      } catch (err) {
        if (attempt >= END_WRITE_ATTEMPTS) {
          this.logger.error({ err, pipelineId }, "could not record the end of a run; its lease will end it");
          return;
        }
        this.logger.warn({ err, pipelineId, attempt }, "could not record the end of a run; trying again");
        await new Promise((resolve) => setTimeout(resolve, Math.min(2000, 100 * 2 ** attempt)));
      }
    }
  }

  private async writeEnd(
    pipelineId: string,
    step: StepStatus,
    outcome: { status: "COMPLETED"; result: unknown } | { status: "FAILED"; error: string },
  ): Promise<void> {
    const stored = await this.storage.getStatus(pipelineId);
    if (!stored || isFinished(stored.status)) return;
    const now = new Date();
    const final: PipelineStatus = {
      ...stored,
      status: outcome.status,
      completedAt: now,
      durationMs: Math.max(0, now.getTime() - stored.startedAt.getTime()),
      result: outcome.status === "COMPLETED" ? outcome.result : null,
      error: outcome.status === "FAILED" ? outcome.error : null,
      steps: stored.steps.map((s) => {
        if (s.stepName === step.stepName) return step;
        if (isFinished(s.status)) return s;
        if (outcome.status === "FAILED") return cancelStep(s, now);
        const startedAt = s.startedAt ?? now;
        return { ...s, status: "COMPLETED", startedAt, completedAt: now, durationMs: now.getTime() - startedAt.getTime() };
      }),
    };
    await this.storage.finishStatus(final, { origin: endingOrigin(this.broker.origin) });
  }

  close(options: { graceMs?: number } = {}): Promise<void> {
    const graceMs = nonNegative(options.graceMs ?? this.graceMs, "graceMs");
    this.closing ??= this.shutDown(graceMs).finally(() => this.resolveClosed());
    return this.closing;
  }

  private async shutDown(graceMs: number): Promise<void> {
    await Promise.all(this.bullWorkers.map((w) => w.pause(true)));
    if (this.active.size > 0) {
      this.logger.info({ steps: this.active.size, graceMs }, "waiting for in-flight steps before stopping");
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, graceMs);
        this.idleWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    for (const a of this.active.values()) {
      if (a.stop) continue;
      a.stop = "requeue";
      a.controller.abort(new Error(WORKER_STOPPING_MESSAGE));
    }
    await Promise.allSettled(this.bullWorkers.map((w) => w.close()));
    if (this.leaseTimer) clearInterval(this.leaseTimer);
    if (this.watchTimer) clearInterval(this.watchTimer);
    await this.heartbeat.stop({ stopped: true });
    await this.tracking.close();
    this.logger.info({ processed: this.processed, failed: this.failed }, "pipewatch worker stopped");
  }
}

function positiveInteger(n: number, name: string): number {
  if (!(Number.isInteger(n) && n > 0)) throw new RangeError(`${name} must be a positive integer`);
  return n;
}

function nonNegative(n: number, name: string): number {
  if (!(Number.isFinite(n) && n >= 0)) throw new RangeError(`${name} must be a non-negative number`);
  return n;
}
