/**
 * One step job on a worker: claim the attempt (execution-state.ts), record it, run it, pass its output
 * on to the dependents that became ready, and end the run after its last (or a failing) step. A job
 * whose bookkeeping fails (Redis unreachable for a moment) runs again later without spending an
 * attempt; only the step's own failure counts for BullMQ's retries.
 */
import type { Job } from "bullmq";
import type { Logger } from "../../logger";
import { errorMessage, toJsonSafe, DEFAULT_MAX_RESULT_BYTES } from "../../tracking/json-safe";
import type { StepStatus } from "../../tracking/models";
import type { RedisPipelineStorage } from "../../tracking/storage/redis/storage";
import { runAttempt, type ActiveStep, type Attempt } from "./attempt";
import type { BullMQBroker } from "./broker";
import { parseClaim, parseComplete, type ExecutionScripts } from "./execution-state";
import { loadBullMQ } from "./load";
import { decodePayload, encodePayload, PayloadError } from "./payload";
import { runResult, stepInput, type PlannedStep, type RunPlan } from "./plan";
import { endRun, type RunEndTarget } from "./run-end";

/** A job whose bookkeeping failed (not its step) runs again after this long. */
const BOOKKEEPING_RETRY_MS = 500;

/** A step's own failure, which spends one of its attempts (BullMQ retries it with the step's backoff). */
class StepAttemptFailed extends Error {}

export interface StepJobsDeps {
  broker: BullMQBroker;
  storage: RedisPipelineStorage;
  logger: Logger;
  workerId: string;
  /** The steps running on this worker, by job id (the worker watches and stops them). */
  active: Map<string, ActiveStep>;
  /** A step started or ended here. */
  onActivity: () => void;
}

export class StepJobs {
  /** Steps this worker finished (completed or failed), and of those the failed ones. */
  processed = 0;
  failed = 0;
  private readonly scripts: ExecutionScripts;
  private readonly endTarget: RunEndTarget;

  constructor(private readonly deps: StepJobsDeps) {
    this.scripts = deps.broker.scripts;
    this.endTarget = { storage: deps.storage, logger: deps.logger, origin: deps.broker.origin };
  }

  private keys(plan: RunPlan, pipelineId: string): [string, string, string] {
    return [
      this.deps.broker.executionKeys.run(pipelineId),
      this.deps.broker.runKeys.run(pipelineId),
      this.deps.broker.executionKeys.open(plan.queue),
    ];
  }

  /**
   * A job whose bookkeeping failed (Redis unreachable for a moment) is tried again later without
   * spending one of the step's attempts: every script it runs is idempotent. Only a failure of the
   * step itself (StepAttemptFailed) counts as an attempt for BullMQ's retries.
   */
  async processSafely(plan: RunPlan, job: Job, token: string | undefined): Promise<void> {
    try {
      await this.process(plan, job, token);
    } catch (err) {
      const { DelayedError, WaitingError } = await loadBullMQ();
      if (err instanceof StepAttemptFailed || err instanceof WaitingError) throw err;
      this.deps.logger.warn({ err, jobId: job.id }, "a step job's bookkeeping failed; trying the job again shortly");
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
      throw new Error(`Pipeline "${plan.name}" has no step #${index} on worker ${this.deps.workerId}: is it running an older definition?`);
    const keys = this.keys(plan, pipelineId);
    const name = step.def.name;
    const claim = parseClaim(
      await this.scripts.pwxClaim(...keys, generation, pipelineId, name, this.deps.workerId, Date.now(), ...step.deps),
    );
    if (claim.kind === "skip") return;
    if (claim.kind === "done") {
      // A finish that was recorded but not followed through (its worker died): pass it on again.
      const again = parseComplete(
        await this.scripts.pwxComplete(...keys, generation, pipelineId, name, "", ...this.completeArgs(plan, step)),
      );
      if (again.kind === "ok") await this.deps.broker.enqueue(plan, pipelineId, generation, again.ready);
      if (again.kind === "last") await this.finishRun(plan, keys, generation, pipelineId, null, again.sinkOutputs);
      return;
    }
    const startedAt = new Date(claim.firstStartMs);
    const base = {
      stepName: name,
      dependsOn: step.def.dependsOn.slice(),
      attempts: claim.attempt,
      workerId: this.deps.workerId,
      startedAt,
    };
    this.record(pipelineId, { ...base, status: "RUNNING", completedAt: null, durationMs: null, result: null, error: null });

    const entry: ActiveStep = { pipelineId, stepName: name, startedAt: new Date(), controller: new AbortController(), stop: null };
    const jobKey = String(job.id);
    this.deps.active.set(jobKey, entry);
    this.deps.onActivity();
    let attempt: Attempt;
    try {
      const input = stepInput(plan, step, claim.inputs.map(decodePayload));
      attempt = await runAttempt(step, input, entry, { pipelineId, stepName: name, attempt: claim.attempt, workerId: this.deps.workerId });
    } catch (err) {
      attempt = { kind: "error", error: err };
    } finally {
      this.deps.active.delete(jobKey);
      this.deps.onActivity();
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
        output = encodePayload(attempt.value, `The output of step "${name}"`, this.deps.broker.maxPayloadBytes);
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
      await this.deps.broker.enqueue(plan, pipelineId, generation, done.ready);
      return;
    }
    await this.finishRun(plan, keys, generation, pipelineId, completed, done.sinkOutputs);
  }

  /** Every step finished: the run's end (its result from the sinks' outputs), then its state goes. */
  private async finishRun(
    plan: RunPlan,
    keys: [string, string, string],
    generation: string,
    pipelineId: string,
    last: StepStatus | null,
    sinkOutputs: string[],
  ): Promise<void> {
    const value = runResult(plan, sinkOutputs.map(decodePayload));
    await endRun(this.endTarget, pipelineId, last, { status: "COMPLETED", result: toJsonSafe(value, DEFAULT_MAX_RESULT_BYTES) });
    await this.scripts.pwxDrop(keys[0], keys[2], generation, pipelineId);
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
    await endRun(this.endTarget, at.pipelineId, failedStep, { status: "FAILED", error: message });
  }

  /** A job BullMQ failed itself (it stalled too often): its run fails with that step. */
  async failStalled(plan: RunPlan, job: Job): Promise<void> {
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
    await endRun(this.endTarget, pipelineId, failedStep, { status: "FAILED", error: message });
  }

  private record(pipelineId: string, step: StepStatus): void {
    this.deps.storage.saveStep(pipelineId, step, { origin: this.deps.broker.origin }).catch((err: unknown) => {
      this.deps.logger.error({ err, pipelineId, stepName: step.stepName }, "tracking storage failed to record a step");
    });
  }
}
