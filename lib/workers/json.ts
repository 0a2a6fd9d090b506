/**
 * Workers and definitions as the API and the live feed send them (docs/api.md): ISO dates, and no
 * `pipelines` per worker (the definitions list carries those, once per pipeline).
 */
import type { PipelineType } from "../tracking/models";
import type { TrackingStorage } from "../tracking/storage/types";
import type { WorkerRecord } from "./types";

export interface WorkerJSON {
  workerId: string;
  hostname: string;
  pid: number;
  startedAt: string;
  lastSeenAt: string;
  concurrency: number;
  status: "online" | "offline";
  active: { pipelineId: string; stepName: string; startedAt: string }[];
  processed: number;
  failed: number;
}

export interface DefinitionJSON {
  name: string;
  pipelineType: PipelineType;
  steps: { name: string; dependsOn: string[] }[];
  /** Online workers offering it. */
  workers: number;
}

export function serializeWorker(worker: WorkerRecord): WorkerJSON {
  return {
    workerId: worker.workerId,
    hostname: worker.hostname,
    pid: worker.pid,
    startedAt: worker.startedAt.toISOString(),
    lastSeenAt: worker.lastSeenAt.toISOString(),
    concurrency: worker.concurrency,
    status: worker.status,
    active: worker.active.map((a) => ({ pipelineId: a.pipelineId, stepName: a.stepName, startedAt: a.startedAt.toISOString() })),
    processed: worker.processed,
    failed: worker.failed,
  };
}

/**
 * What the online workers can run, by pipeline name (sorted), each with how many of them offer it.
 * Two workers may run different versions of one pipeline: the shape shown is the one of the worker
 * heard from last.
 */
export function definitionsOf(workers: readonly WorkerRecord[]): DefinitionJSON[] {
  const byName = new Map<string, { definition: DefinitionJSON; seenMs: number }>();
  for (const worker of workers) {
    if (worker.status !== "online") continue;
    const seenMs = worker.lastSeenAt.getTime();
    // One worker listing a pipeline twice still counts once.
    for (const name of new Set(worker.pipelines.map((p) => p.name))) {
      const pipeline = worker.pipelines.find((p) => p.name === name)!;
      const held = byName.get(name);
      const definition: DefinitionJSON = {
        name,
        pipelineType: pipeline.pipelineType,
        steps: pipeline.steps.map((s) => ({ name: s.name, dependsOn: s.dependsOn.slice() })),
        workers: (held?.definition.workers ?? 0) + 1,
      };
      if (!held || seenMs > held.seenMs) byName.set(name, { definition, seenMs });
      else held.definition.workers++;
    }
  }
  return [...byName.values()].map((v) => v.definition).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** The storage's workers, or none when it keeps no registry (the registry is optional). */
export async function listStoredWorkers(storage: TrackingStorage): Promise<WorkerRecord[]> {
  return typeof storage.listWorkers === "function" ? storage.listWorkers() : [];
}
