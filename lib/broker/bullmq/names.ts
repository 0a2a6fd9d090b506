/**
 * Names on the Redis side of distributed execution: BullMQ's key prefix, one queue per pipeline,
 * a job id per step of a run, and the keys of a run's execution state. Everything lives under the
 * tracking storage's prefix, so on a Cluster (a hash-tagged prefix such as "{pipewatch}:") every key
 * shares one slot and each script stays atomic.
 */

/** BullMQ's own keys: `<storage prefix>q:<queue>:…`. BullMQ adds the ":" after its prefix. */
export function bullPrefix(storagePrefix: string): string {
  return `${storagePrefix}q`;
}

/** A pipeline's queue. BullMQ refuses ":" in queue names; anything outside [A-Za-z0-9._-] is escaped. */
export function queueName(pipelineName: string): string {
  return "p." + pipelineName.replace(/[^A-Za-z0-9._-]/g, (c) => `~${c.codePointAt(0)!.toString(16)}~`);
}

/**
 * The job of one step of one run. Unique per run generation (a run id reused after its run ended
 * gets a new generation), so BullMQ's duplicate-id check makes a second enqueue of the same step a
 * no-op. BullMQ refuses ":" in custom ids; run ids may hold it.
 */
export function stepJobId(pipelineId: string, generation: string, stepIndex: number): string {
  return `${pipelineId.replace(/:/g, "~")}.${generation}.${stepIndex}`;
}

export class ExecutionKeys {
  constructor(readonly prefix: string) {}

  /** Hash: a run's distributed execution state (execution-state.ts describes its fields). */
  run(pipelineId: string): string {
    return `${this.prefix}x:{${pipelineId}}`;
  }

  /** Set of run ids with steps enqueued or running on a queue: live workers of that queue renew their leases. */
  open(queue: string): string {
    return `${this.prefix}x:open:${queue}`;
  }
}

/** Brokers mark their writes in the change feed `broker:<uuid>` (other processes' news to every manager). */
export const BROKER_ORIGIN_HEAD = "broker:";

/** The mark of the one write of a broker that ends a run (its worker's finish), so watchers can tell it apart. */
export function endingOrigin(brokerOrigin: string): string {
  return `${brokerOrigin}:end`;
}

/**
 * Whether a change may have ended its run, so a watcher of the run reads it: anything but a broker's
 * write of a run's start or of a step (two per step: a busy run would cost its watchers a read each).
 * Cancels, lease sweeps, deletes and replayed changes (no origin) all come through.
 */
export function mayEndRun(change: { origin: string | null; deleted: boolean }): boolean {
  const { origin } = change;
  return change.deleted || origin === null || !origin.startsWith(BROKER_ORIGIN_HEAD) || origin.endsWith(":end");
}
