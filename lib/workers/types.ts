/**
 * Workers: the processes that execute pipeline steps (BullMQ workers, or a process running runs with
 * the in-memory broker, the demo dashboard included). Each heartbeats into the tracking storage;
 * the dashboard lists them (/api/workers, /workers) and what they can run (/api/definitions).
 * Liveness is judged by the storage's clock (Redis TIME, the database's), never by comparing hosts'.
 */
import type { PipelineType } from "../tracking/models";

/** A worker heartbeats this often, and at most once a second more when its active steps change. */
export const WORKER_HEARTBEAT_MS = 5_000;
/** A worker not heard from for this long is `offline`. */
export const WORKER_OFFLINE_AFTER_MS = 15_000;
/** An offline worker stays listed this long after its last heartbeat. */
export const WORKER_LISTED_FOR_MS = 3_600_000;

/** A pipeline a worker can run: its name, shape and steps. */
export interface PipelineDefinitionInfo {
  name: string;
  pipelineType: PipelineType;
  steps: { name: string; dependsOn: string[] }[];
}

export interface ActiveStep {
  pipelineId: string;
  stepName: string;
  startedAt: Date;
}

/** What a worker reports in each heartbeat. */
export interface WorkerInfo {
  /** Unique per process: `<hostname>:<pid>` unless set. */
  workerId: string;
  hostname: string;
  pid: number;
  startedAt: Date;
  concurrency: number;
  active: ActiveStep[];
  /** Steps this worker finished (completed or failed) since it started. */
  processed: number;
  /** Of those, the ones that failed. */
  failed: number;
  pipelines: PipelineDefinitionInfo[];
}

/** A worker as listed: its last heartbeat, when that was (storage clock), and whether it is online. */
export interface WorkerRecord extends WorkerInfo {
  lastSeenAt: Date;
  status: "online" | "offline";
}

export interface HeartbeatOptions {
  /** The worker stopped cleanly: list it offline at once instead of after WORKER_OFFLINE_AFTER_MS. */
  stopped?: boolean;
}

/**
 * Implemented by storages that list workers (memory, Redis, SQLite). Optional on `TrackingStorage`:
 * a storage without it simply has no workers page data.
 */
export interface WorkerRegistry {
  /** Upserts the worker; `lastSeenAt` is the storage's clock now. Drops workers unseen for WORKER_LISTED_FOR_MS. */
  recordWorker(info: WorkerInfo, options?: HeartbeatOptions): Promise<void>;
  /** Every worker seen within WORKER_LISTED_FOR_MS, online ones first, then by workerId. */
  listWorkers(): Promise<WorkerRecord[]>;
}
