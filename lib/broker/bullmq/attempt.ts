/** One attempt of a step on a worker: its signal, its timeout, and the ways it can stop early. */
import type { StepContext, StepFunction } from "../../pipeline/broker";
import type { PlannedStep } from "./plan";

/** A step running on this worker. */
export interface ActiveStep {
  pipelineId: string;
  stepName: string;
  startedAt: Date;
  controller: AbortController;
  /** Why it was stopped early: the run ended elsewhere, or this worker is stopping. */
  stop: "ended" | "requeue" | null;
}

export type Attempt = { kind: "ok"; value: unknown } | { kind: "error"; error: unknown } | { kind: "stopped" };

/** Runs one attempt: the step's own timeout, and an early stop when the run ends or the worker stops. */
export function runAttempt(step: PlannedStep, input: unknown, entry: ActiveStep, ctxBase: Omit<StepContext, "signal">): Promise<Attempt> {
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
