import type { Status } from "../models";

/** A step only moves forward: PENDING → RUNNING → a finished state. Equal ranks may overwrite. */
export function stepRank(status: Status): number {
  return status === "PENDING" ? 0 : status === "RUNNING" ? 1 : 2;
}
