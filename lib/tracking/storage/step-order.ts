import type { Status } from "../models";

/** A step only moves forward: PENDING → RUNNING → a finished state. Equal ranks may overwrite. */
export function stepRank(status: Status): number {
  return status === "PENDING" ? 0 : status === "RUNNING" ? 1 : 2;
}

/**
 * Whether a run's final write (finishStatus) keeps the step the store holds instead of the given
 * one: a step that ended (COMPLETED or FAILED) is never replaced by another state. A cancel from
 * another process builds its CANCELLED steps from a read, and the worker may end a step before
 * the write lands; the ended step is the truth.
 */
export function keepsStoredStep(stored: Status, given: Status): boolean {
  return (stored === "COMPLETED" || stored === "FAILED") && given !== stored;
}
