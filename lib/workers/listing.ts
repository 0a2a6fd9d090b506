/** How every storage orders `listWorkers` (WorkerRegistry): online first, then by workerId. */
import type { WorkerRecord } from "./types";

export function compareWorkers(a: WorkerRecord, b: WorkerRecord): number {
  if (a.status !== b.status) return a.status === "online" ? -1 : 1;
  return a.workerId < b.workerId ? -1 : a.workerId > b.workerId ? 1 : 0;
}
