/**
 * One run of a pipeline: schedules steps as their inputs become ready (a sequential pipeline is a
 * chain), records every transition, and ends exactly once — COMPLETED, FAILED (the first failing
 * step's error; the rest is cancelled) or CANCELLED. Outcomes that arrive after the end are ignored.
 */
import type { HookManager } from "../hooks/hook-manager";
import type { Logger } from "../logger";
import { errorMessage } from "../tracking/json-safe";
import type { PipelineTrackingManager, RunHandle } from "../tracking/manager";
import type { PipelineStatus } from "../tracking/models";
import type { Broker, StepInvocation } from "./broker";
import { backoffDelayMs, dependentsOf, type StepDefinition } from "./definition";

export interface TaskResult<T = unknown> {
  returnValue: T | null;
  isErr: boolean;
  error: string | null;
  executionTimeMs: number;
}

export interface ExecutionSpec {
  pipelineId: string;
  steps: readonly StepDefinition[];
  dataflow: boolean;
  input: unknown;
  broker: Broker;
  tracking: PipelineTrackingManager | null;
  hooks: HookManager | null;
  logger: Logger;
}

type Outcome =
  | { status: "COMPLETED"; result: unknown }
  | { status: "FAILED"; error: string; stepName: string | null }
  | { status: "CANCELLED"; error: string };

export class Execution implements RunHandle {
  readonly done: Promise<TaskResult>;
  private resolveDone!: (result: TaskResult) => void;
  private readonly controller = new AbortController();
  private readonly startedMs = performance.now();
  private readonly outputs = new Map<string, unknown>();
  private readonly waitingOn = new Map<string, number>();
  private readonly dependents: Map<string, string[]>;
  private readonly byName: Map<string, StepDefinition>;
  private completedSteps = 0;
  private ended = false;

  constructor(private readonly spec: ExecutionSpec) {
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    // A sequential pipeline is the chain where each step waits for the one declared before it.
    const steps = spec.dataflow ? spec.steps : spec.steps.map((s, i) => ({ ...s, dependsOn: i === 0 ? [] : [spec.steps[i - 1]!.name] }));
    this.byName = new Map(steps.map((s) => [s.name, s]));
    this.dependents = dependentsOf(steps);
    for (const s of steps) this.waitingOn.set(s.name, s.dependsOn.length);
  }

  get workerId(): string {
    return this.spec.broker.workerId;
  }

  get finished(): boolean {
    return this.ended;
  }

  start(): void {
    for (const [name, waiting] of this.waitingOn) {
      if (waiting === 0) this.launch(this.byName.get(name)!);
    }
  }

  /**
   * True when this cancel ended the run. False when it had already ended (answered once that end is
   * stored) or when the stored run had ended first (another process's cancel or end won).
   */
  async cancel(reason = "Cancelled"): Promise<boolean> {
    if (this.ended) {
      await this.done;
      return false;
    }
    return (await this.end({ status: "CANCELLED", error: reason })).applied;
  }

  /** A step runs detached from its caller: whatever escapes it (a bug, a throwing storage) fails the run instead of hanging it. */
  private launch(step: StepDefinition): void {
    this.runStep(step).catch((err: unknown) => {
      this.spec.logger.error({ err, pipelineId: this.spec.pipelineId, stepName: step.name }, "a pipeline step's bookkeeping threw");
      void this.end({ status: "FAILED", error: errorMessage(err), stepName: step.name });
    });
  }

  /** Tracking never breaks a run: a recording call that throws is logged and the run goes on. */
  private record(what: string, call: (tracking: PipelineTrackingManager) => void): void {
    const tracking = this.spec.tracking;
    if (!tracking) return;
    try {
      call(tracking);
    } catch (err) {
      this.spec.logger.error({ err, pipelineId: this.spec.pipelineId }, `tracking failed to record ${what}`);
    }
  }

  private inputFor(step: StepDefinition): unknown {
    if (step.dependsOn.length === 0) return this.spec.input;
    if (!this.spec.dataflow) return this.outputs.get(step.dependsOn[0]!);
    const inputs: Record<string, unknown> = {};
    for (const dep of step.dependsOn) inputs[dep] = this.outputs.get(dep);
    return inputs;
  }

  private async runStep(step: StepDefinition): Promise<void> {
    const { pipelineId, hooks, broker } = this.spec;
    const input = this.inputFor(step);
    const firstStart = performance.now();
    for (let attempt = 1; ; attempt++) {
      if (this.ended) return;
      this.record("a step start", (t) => t.recordStepStart(pipelineId, step.name, { attempt, workerId: broker.workerId }));
      hooks?.emit("step:start", { pipelineId, stepName: step.name, attempt });
      let value: unknown;
      try {
        value = await this.invoke(step, input, attempt);
      } catch (err) {
        if (this.ended) return;
        const error = errorMessage(err);
        const willRetry = attempt <= step.retries;
        hooks?.emit("step:error", { pipelineId, stepName: step.name, error, attempt, willRetry });
        if (willRetry) {
          await this.pause(backoffDelayMs(step.backoff, attempt));
          continue;
        }
        this.record("a step failure", (t) => t.recordStepFailure(pipelineId, step.name, err, performance.now() - firstStart));
        await this.end({ status: "FAILED", error, stepName: step.name });
        return;
      }
      if (this.ended) return;
      const durationMs = performance.now() - firstStart;
      this.record("a step result", (t) => t.recordStepComplete(pipelineId, step.name, value, durationMs));
      hooks?.emit("step:complete", { pipelineId, stepName: step.name, result: value, durationMs });
      this.stepDone(step, value);
      return;
    }
  }

  /** Waits before a retry; cut short when the run ends meanwhile. */
  private pause(ms: number): Promise<void> {
    if (ms <= 0 || this.ended) return Promise.resolve();
    const signal = this.controller.signal;
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener("abort", done, { once: true });
    });
  }

  private stepDone(step: StepDefinition, value: unknown): void {
    this.outputs.set(step.name, value);
    this.completedSteps++;
    if (this.completedSteps === this.byName.size) {
      void this.end({ status: "COMPLETED", result: this.result() });
      return;
    }
    for (const next of this.dependents.get(step.name) ?? []) {
      const waiting = this.waitingOn.get(next)! - 1;
      this.waitingOn.set(next, waiting);
      if (waiting === 0) this.launch(this.byName.get(next)!);
    }
  }

  /** Sequential: the last step's output. Dataflow: the sink's output, or `{ sink: output }` for several. */
  private result(): unknown {
    const steps = this.spec.steps;
    if (!this.spec.dataflow) return this.outputs.get(steps[steps.length - 1]!.name);
    const sinks = steps.filter((s) => !this.dependents.has(s.name));
    if (sinks.length === 1) return this.outputs.get(sinks[0]!.name);
    return Object.fromEntries(sinks.map((s) => [s.name, this.outputs.get(s.name)]));
  }

  private invoke(step: StepDefinition, input: unknown, attempt: number): Promise<unknown> {
    const { pipelineId, broker } = this.spec;
    const invocation: StepInvocation = {
      pipelineId,
      stepName: step.name,
      attempt,
      input,
      fn: step.fn,
      signal: this.controller.signal,
    };
    if (step.timeoutMs === null) return callBroker(broker, invocation);
    const timeout = new AbortController();
    invocation.signal = AbortSignal.any([this.controller.signal, timeout.signal]);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const err = new Error(`Step "${step.name}" timed out after ${step.timeoutMs} ms`);
        err.name = "TimeoutError";
        timeout.abort(err);
        reject(err);
      }, step.timeoutMs!);
      callBroker(broker, invocation)
        .then(resolve, reject)
        .finally(() => clearTimeout(timer));
    });
  }

  /** Ends the run once; answers the outcome that stands (the stored one, when another end won) and whether this end wrote it. */
  private async end(outcome: Outcome): Promise<{ outcome: Outcome; applied: boolean }> {
    if (this.ended) return { outcome, applied: false };
    this.ended = true;
    const { pipelineId, tracking, hooks, logger } = this.spec;
    if (outcome.status !== "COMPLETED") this.controller.abort(new Error(outcome.error));
    let final = outcome;
    let applied = true;
    try {
      const recorded = tracking
        ? await tracking.recordPipelineEnd(
            pipelineId,
            outcome.status === "COMPLETED" ? outcome : { status: outcome.status, error: outcome.error },
          )
        : null;
      if (recorded && !recorded.applied) {
        applied = false;
        final = storedOutcome(recorded.status);
        if (final.status !== "COMPLETED") this.controller.abort(new Error(final.error));
      }
    } catch (err) {
      logger.error({ err, pipelineId }, "tracking failed to record the end of a run");
    }
    const executionTimeMs = performance.now() - this.startedMs;
    if (hooks) {
      if (final.status === "COMPLETED") hooks.emit("pipeline:complete", { pipelineId, result: final.result, durationMs: executionTimeMs });
      else if (final.status === "FAILED") hooks.emit("pipeline:error", { pipelineId, stepName: final.stepName, error: final.error });
      else hooks.emit("pipeline:cancel", { pipelineId, reason: final.error });
    }
    this.resolveDone(
      final.status === "COMPLETED"
        ? { returnValue: final.result, isErr: false, error: null, executionTimeMs }
        : { returnValue: null, isErr: true, error: final.error, executionTimeMs },
    );
    return { outcome: final, applied };
  }
}

/** The outcome a stored final state stands for (adopted when another process ended the run first). */
function storedOutcome(status: PipelineStatus): Outcome {
  if (status.status === "COMPLETED") return { status: "COMPLETED", result: status.result };
  if (status.status === "FAILED") {
    const step = status.steps.find((s) => s.status === "FAILED");
    return { status: "FAILED", error: status.error ?? "Failed", stepName: step?.stepName ?? null };
  }
  return { status: "CANCELLED", error: status.error ?? "Cancelled" };
}

function callBroker(broker: Broker, invocation: StepInvocation): Promise<unknown> {
  try {
    return broker.execute(invocation);
  } catch (err) {
    return Promise.reject(err);
  }
}
