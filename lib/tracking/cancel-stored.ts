/**
 * Cancelling a run that executes in another process: it is marked CANCELLED in the storage with a
 * compare-and-set (`finishStatus`), and its own process, hearing the change feed, stops it.
 */
import { cloneStatus, isFinished, type PipelineStatus } from "./models";
import { CANCELLED_MESSAGE, cancelStep, finishRun } from "./recorder";
import type { TrackingStorage } from "./storage/types";

/** What `cancel` answers: `cancelled` false when the run had already ended (`status` is its end). */
export interface CancelOutcome {
  cancelled: boolean;
  status: PipelineStatus;
}

/** Null when the run is not stored. A cancel that loses to the run's own end answers its final state. */
export async function cancelStoredRun(storage: TrackingStorage, pipelineId: string, origin: string): Promise<CancelOutcome | null> {
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
  const outcome = await finishRun(storage, status, origin);
  if (!outcome.applied) return outcome.current ? { cancelled: false, status: outcome.current } : null;
  // Read back: the store keeps steps the worker ended since our read.
  const final = (await storage.getStatus(pipelineId)) ?? outcome.current ?? status;
  return { cancelled: true, status: cloneStatus(final) };
}
