/**
 * The storage interface every backend implements (memory, Redis, or a user's own). The four basic
 * methods (`saveStatus`, `getStatus`, `listPipelines`, `deletePipeline`) plus what paging, history,
 * cleanup, metrics and the change feed need. `contract.ts` is the test battery that pins the
 * behaviour down; run it against a custom storage to know it is a drop-in.
 */
import type { PipelineMetrics, MetricsQuery } from "../metrics-types";
import type { PipelineStatus, PipelineSummary, Status, StepStatus } from "../models";
import type { HeartbeatOptions, WorkerInfo, WorkerRecord } from "../../workers/types";

export interface ListFilter {
  status?: Status;
  /** Default: every matching run. */
  limit?: number;
}

export interface PageQuery {
  status?: Status;
  /** Case-insensitive prefix of the pipeline id or the pipeline name. */
  q?: string;
  /** 1-500, default 50. */
  limit?: number;
  /** The `nextCursor` of the previous page; absent for the first page. */
  cursor?: string | null;
}

export interface Page {
  items: PipelineSummary[];
  /** Null on the last page. Stable while new runs arrive (they sort before the cursor). */
  nextCursor: string | null;
}

export interface HistoryQuery {
  /** Default: every run since `since`. */
  limit?: number;
  /** Only runs started at or after this moment. */
  since?: Date;
}

/** One announced write. `origin` is the writer's id, so a manager can skip its own echoes. */
export interface StorageChange {
  pipelineId: string;
  /** Grows with every write of that run; a subscriber ignores anything not newer than it has seen. */
  version: number;
  origin: string | null;
  deleted: boolean;
  /**
   * Names the data set the versions count in (Redis: one per dataset). When it changes (a Redis
   * restarted without persistence), versions started over: what a subscriber remembers is stale.
   */
  epoch?: string;
  /** The state after the write, when the storage has it at hand (memory does); else fetch it. */
  status?: PipelineStatus;
}

/** What a subscriber hears besides changes. */
export interface FeedEvents {
  /**
   * The feed may have lost changes it cannot replay (its data set was replaced: a Redis that
   * restarted empty, or a change log trimmed past the gap). Runs the subscriber knows of may have
   * changed or vanished: it should read them again. Changes it can replay after a gap (a dropped
   * connection) are delivered as ordinary changes instead, before or after this call.
   */
  onReset?(): void;
}

export interface WriteOptions {
  /** Who writes (a tracking manager's instance id); echoed in the change feed. */
  origin?: string;
}

/** What `finishStatus` answers. */
export interface FinishOutcome {
  /** True when the final state was written; false when the run was missing or had already finished. */
  applied: boolean;
  /**
   * When applied, the given status (a storage keeps steps it already held as ended, step-order.ts
   * keepsStoredStep, and may or may not answer them here); else the stored final state, or null
   * when the run is not stored.
   */
  current: PipelineStatus | null;
}

export interface CleanupOptions {
  /** Delete at most this many runs (a positive integer). */
  limit?: number;
}

/** One run a lease sweep ended (`sweepExpiredLeases`). */
export interface ExpiredLease {
  /** The run's final state as written: FAILED "worker lost: <workerId> (lease expired)". */
  status: PipelineStatus;
  /** The worker that held the lease. */
  workerId: string;
}

export interface TrackingStorage {
  /** "memory", "sqlite", "redis" or a custom backend's name; shown by /api/health. */
  readonly kind: string;
  /** Insert or replace a whole run. A status with past timestamps (an import) is stored as given. */
  saveStatus(status: PipelineStatus, options?: WriteOptions): Promise<void>;
  /**
   * A run's terminal transition as one compare-and-set: writes `status` (COMPLETED, FAILED or
   * CANCELLED) only if the stored run exists and is still PENDING or RUNNING, so a cancel and a finish
   * racing across processes end with exactly one winner, and a deleted run is never recreated.
   * A step stored as COMPLETED or FAILED is kept over any other state given for it (a step never
   * moves backwards; a cancel from another process may carry steps the worker has ended since).
   * A storage that cannot know the answer (Redis during an outage, the write buffered) writes
   * best-effort and answers applied.
   */
  finishStatus(status: PipelineStatus, options?: WriteOptions): Promise<FinishOutcome>;
  /**
   * Update one step of a stored run without touching its other steps, so concurrent steps never
   * lose each other's writes. A step never moves backwards (a finished step stays finished) and a
   * write for an unknown run is ignored.
   */
  saveStep(pipelineId: string, step: StepStatus, options?: WriteOptions): Promise<void>;
  getStatus(pipelineId: string): Promise<PipelineStatus | null>;
  /** Newest first; every matching run unless `limit` is given. */
  listPipelines(filter?: ListFilter): Promise<PipelineStatus[]>;
  /** Newest first, paged by an opaque cursor. */
  listPage(query?: PageQuery): Promise<Page>;
  /** How many stored runs have each status. */
  countByStatus(): Promise<Record<Status, number>>;
  /** Newest first; every run (since `since`) unless `limit` is given. */
  getHistory(query?: HistoryQuery): Promise<PipelineStatus[]>;
  /** True when something was deleted. */
  deletePipeline(pipelineId: string, options?: WriteOptions): Promise<boolean>;
  /**
   * Delete finished runs started before `cutoff`, oldest first; never a PENDING or RUNNING one.
   * With `limit`, at most that many (retention calls it again until fewer come back). Answers how
   * many it deleted. A storage written before `limit` existed ignores it: still correct, unbounded.
   */
  cleanupOlderThan(cutoff: Date, options?: CleanupOptions): Promise<number>;
  getMetrics(query: MetricsQuery): Promise<PipelineMetrics>;
  /**
   * The change feed: every write, from this process and (for shared storages) from others. After a
   * gap (a reconnect), a shared storage replays what changed meanwhile as ordinary changes (each
   * run's current version, `deleted` when it is gone), or calls `events.onReset` when it cannot.
   */
  subscribe(handler: (change: StorageChange) => void, events?: FeedEvents): () => void;
  /**
   * Optional (a storage without it has no leases). Extends the lease of each run by `leaseMs` from
   * now, by the storage's own clock, held by `workerId`. A run that is not stored or already
   * finished gets none. A run that ends (finishStatus, a finished saveStatus) or is deleted loses
   * its lease.
   */
  renewLeases?(pipelineIds: readonly string[], leaseMs: number, workerId: string): Promise<void>;
  /**
   * Optional, with `renewLeases`. Ends every run whose lease expired (by the storage's clock;
   * `now` replaces that clock where the storage allows it, memory only): FAILED with
   * "worker lost: <workerId> (lease expired)", RUNNING steps FAILED, PENDING ones CANCELLED,
   * written as `finishStatus` writes and announced like any change. A run ends once however many
   * sweepers race each other or the run's own end. Answers the runs this call ended. A run that
   * never had a lease (an import) is never touched.
   */
  sweepExpiredLeases?(now?: Date): Promise<ExpiredLease[]>;
  /** Optional: a worker's heartbeat (lib/workers/types.ts, WorkerRegistry). */
  recordWorker?(info: WorkerInfo, options?: HeartbeatOptions): Promise<void>;
  /** Optional, with `recordWorker`: the workers seen within the last hour. */
  listWorkers?(): Promise<WorkerRecord[]>;
  /** Flush what is buffered and release connections. */
  close(): Promise<void>;
}

export const DEFAULT_PAGE_LIMIT = 50;
export const MAX_PAGE_LIMIT = 500;
