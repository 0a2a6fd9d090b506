/**
 * How the memory storage holds a run: objects while it is in progress (compact.ts), sealed once it
 * finished (sealed-run.ts); and the conversions its reads and its compare-and-set end need.
 */
import { summarize, type PipelineStatus, type PipelineSummary } from "../models";
import { fromStoredRun, fromStoredStep, type StoredRun, type StoredStep } from "./compact";
import { SealedRun, expandSealed, summarizeSealed } from "./sealed-run";
import { keepsStoredStep } from "./step-order";

export type HeldRun = StoredRun | SealedRun;

export const expand = (run: HeldRun): PipelineStatus => (run instanceof SealedRun ? expandSealed(run) : fromStoredRun(run));
export const summaryOf = (run: HeldRun): PipelineSummary =>
  run instanceof SealedRun ? summarizeSealed(run) : summarize(fromStoredRun(run));

/** `status` with the steps `run` already holds as ended kept (keepsStoredStep); itself when none differ. */
export function withEndedSteps(status: PipelineStatus, run: StoredRun): PipelineStatus {
  const ended = new Map<string, StoredStep>();
  for (const step of run.steps) if (step.status === "COMPLETED" || step.status === "FAILED") ended.set(step.stepName, step);
  if (ended.size === 0) return status;
  let changed = false;
  const steps = status.steps.map((step) => {
    const held = ended.get(step.stepName);
    if (!held || !keepsStoredStep(held.status, step.status)) return step;
    changed = true;
    return fromStoredStep(held);
  });
  return changed ? { ...status, steps } : status;
}
