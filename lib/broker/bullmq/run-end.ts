/** A distributed run's end, written by the worker that finished its last (or a failing) step. */
import type { Logger } from "../../logger";
import { isFinished, type PipelineStatus, type StepStatus } from "../../tracking/models";
import { cancelStep } from "../../tracking/recorder";
import type { TrackingStorage } from "../../tracking/storage/types";
import { endingOrigin } from "./names";

/** Tries at writing a run's end before leaving it to its lease (about 15 s with the back-off). */
const END_WRITE_ATTEMPTS = 10;

export type RunOutcome = { status: "COMPLETED"; result: unknown } | { status: "FAILED"; error: string };

export interface RunEndTarget {
  storage: TrackingStorage;
  logger: Logger;
  /** The broker's origin in the change feed. */
  origin: string;
}

/**
 * Ends a run from the stored state: the given step as this worker ended it (if any), every other step that
 * had not ended COMPLETED (a completed run: all its steps finished) or CANCELLED (a failed one).
 * A compare-and-set: a cancel or a sweep that ended the run first wins.
 */
export async function endRun(target: RunEndTarget, pipelineId: string, step: StepStatus | null, outcome: RunOutcome): Promise<void> {
  // The run's execution state is gone once its end is decided: retry the write here (through a
  // Redis hiccup) rather than leave the run to its lease.
  for (let attempt = 1; ; attempt++) {
    try {
      await writeEnd(target, pipelineId, step, outcome);
      return;
    } catch (err) {
      if (attempt >= END_WRITE_ATTEMPTS) {
        target.logger.error({ err, pipelineId }, "could not record the end of a run; its lease will end it");
        return;
      }
      target.logger.warn({ err, pipelineId, attempt }, "could not record the end of a run; trying again");
      await new Promise((resolve) => setTimeout(resolve, Math.min(2000, 100 * 2 ** attempt)));
    }
  }
}

async function writeEnd(target: RunEndTarget, pipelineId: string, step: StepStatus | null, outcome: RunOutcome): Promise<void> {
  const stored = await target.storage.getStatus(pipelineId);
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
      if (step && s.stepName === step.stepName) return step;
      if (isFinished(s.status)) return s;
      if (outcome.status === "FAILED") return cancelStep(s, now);
      const startedAt = s.startedAt ?? now;
      return { ...s, status: "COMPLETED", startedAt, completedAt: now, durationMs: now.getTime() - startedAt.getTime() };
    }),
  };
  await target.storage.finishStatus(final, { origin: endingOrigin(target.origin) });
}
