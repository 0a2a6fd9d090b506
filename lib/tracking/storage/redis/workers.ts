/**
 * The worker registry on Redis: a heartbeat is one script (lua/record-worker.lua) that stamps it
 * with Redis TIME; a listing is one script (lua/list-workers.lua) answering that clock's "now"
 * beside every heartbeat's time, so online/offline is judged by Redis alone, whatever the clocks of
 * the hosts that wrote or read them.
 */
import { WORKER_OFFLINE_AFTER_MS, type HeartbeatOptions, type WorkerInfo, type WorkerRecord } from "../../../workers/types";
import { compareWorkers } from "../../../workers/listing";

/** A heartbeat as stored: WorkerInfo with ISO dates, plus whether the worker stopped cleanly. */
interface StoredHeartbeat extends Omit<WorkerInfo, "startedAt" | "active"> {
  startedAt: string;
  active: { pipelineId: string; stepName: string; startedAt: string }[];
  stopped: boolean;
}

export function heartbeatRecord(info: WorkerInfo, options?: HeartbeatOptions): string {
  const stored: StoredHeartbeat = {
    workerId: info.workerId,
    hostname: info.hostname,
    pid: info.pid,
    startedAt: info.startedAt.toISOString(),
    concurrency: info.concurrency,
    active: info.active.map((a) => ({ pipelineId: a.pipelineId, stepName: a.stepName, startedAt: a.startedAt.toISOString() })),
    processed: info.processed,
    failed: info.failed,
    pipelines: info.pipelines,
    stopped: options?.stopped === true,
  };
  return JSON.stringify(stored);
}

/** The reply of lua/list-workers.lua as records, online first then by workerId. */
export function decodeWorkerList(reply: unknown): WorkerRecord[] {
  const values = reply as (string | number)[];
  const nowMs = Number(values[0]);
  const out: WorkerRecord[] = [];
  for (let i = 1; i + 2 < values.length; i += 3) {
    const lastSeenMs = Number(values[i + 1]);
    let stored: StoredHeartbeat;
    try {
      stored = JSON.parse(String(values[i + 2])) as StoredHeartbeat;
    } catch {
      continue; // not written by this storage: skipped rather than failing the whole listing
    }
    const { stopped, startedAt, active, ...rest } = stored;
    out.push({
      ...rest,
      workerId: String(values[i]),
      startedAt: new Date(startedAt),
      active: active.map((a) => ({ ...a, startedAt: new Date(a.startedAt) })),
      lastSeenAt: new Date(lastSeenMs),
      status: !stopped && nowMs - lastSeenMs < WORKER_OFFLINE_AFTER_MS ? "online" : "offline",
    });
  }
  return out.sort(compareWorkers);
}
