/**
 * PipelineTrackingManager: records runs into a storage and answers queries about them. It is put
 * together from three parts, each with one role:
 * - `RunRecorder` (recorder.ts): the runs this process executes and their transitions;
 * - `ChangeStream` (change-stream.ts): the one source of change events, this process's and others';
 * - `TrackingQueries` (queries.ts): validated reads.
 * Listeners are subscribers of the change stream like any other (the live server is one too).
 */
import { randomUUID } from "node:crypto";
import type { Broker } from "../pipeline/broker";
import { defaultLogger, type Logger } from "../logger";
import { cancelStoredRun, type CancelOutcome } from "./cancel-stored";
import { ChangeStream, type ChangeStreamEvents } from "./change-stream";
import { DEFAULT_MAX_RESULT_BYTES } from "./json-safe";
import { ListenerSet, type TrackingListener } from "./listeners";
import type { PipelineMetrics } from "./metrics-types";
import { cloneStatus, type PipelineStatus, type Status } from "./models";
import { NO_STORAGE_MESSAGE, TrackingQueries } from "./queries";
import { LeaseKeeper, DEFAULT_LEASE_MS } from "./leases";
import { RunRecorder, SHUTDOWN_MESSAGE, type EndOutcome, type RecordedEnd, type RunHandle } from "./recorder";
import { InMemoryPipelineStorage } from "./storage/memory";
import { isCluster } from "./storage/redis/client";
import { DEFAULT_CLUSTER_KEY_PREFIX } from "./storage/redis/keys";
import { RedisPipelineStorage } from "./storage/redis/storage";
import type { HistoryQuery, ListFilter, Page, PageQuery, TrackingStorage } from "./storage/types";

export { NO_STORAGE_MESSAGE } from "./queries";
export type { CancelOutcome } from "./cancel-stored";
export { CANCELLED_MESSAGE, DELETED_MESSAGE, SHUTDOWN_MESSAGE } from "./recorder";
export { DEFAULT_LEASE_MS } from "./leases";
export type { EndOutcome, RecordedEnd, RunHandle } from "./recorder";
export type { ChangeStreamEvents, StatusChange } from "./change-stream";

export interface TrackingManagerOptions {
  logger?: Logger;
  /** Results larger than this (JSON, UTF-8) are stored as `{ truncated, bytes, preview }`. Default 64 KiB. */
  maxResultBytes?: number;
  /**
   * How long a run executing here stays owned without news from this process. Renewed every
   * leaseMs / 3 while it runs; once expired (the process died or froze) any manager sharing the
   * storage ends it FAILED "worker lost: <workerId> (lease expired)". Default 30 000.
   */
  leaseMs?: number;
  /** Named in this manager's leases. Default: the run's broker's (`<hostname>:<pid>`). */
  workerId?: string;
}

export interface ShutdownOptions {
  /** How long to wait for the runs executing here before cancelling them. Default 10 000. */
  graceMs?: number;
}

/** What a `kiq` (or `recordPipelineStart`) after `shutdown` began rejects with. */
export const SHUTTING_DOWN_MESSAGE = "The tracking manager is shutting down: it accepts no new runs";

export class PipelineTrackingManager {
  /** Identifies this manager's writes in a shared storage's change feed. */
  readonly instanceId = randomUUID();
  readonly logger: Logger;
  readonly maxResultBytes: number;
  private currentStorage: TrackingStorage | null = null;
  private readonly recorder: RunRecorder;
  private readonly stream: ChangeStream;
  private readonly queries: TrackingQueries;
  private readonly listeners: ListenerSet;
  private unsubscribeListeners: (() => void) | null = null;
  private readonly leases: LeaseKeeper;
  private shutdownDone: Promise<void> | null = null;

  constructor(options: TrackingManagerOptions = {}) {
    this.logger = options.logger ?? defaultLogger();
    this.maxResultBytes = options.maxResultBytes ?? DEFAULT_MAX_RESULT_BYTES;
    const storage = () => this.storage;
    this.recorder = new RunRecorder({ origin: this.instanceId, logger: this.logger, maxResultBytes: this.maxResultBytes, storage });
    this.stream = new ChangeStream(this.instanceId, this.recorder, this.logger);
    this.recorder.stream = this.stream;
    this.queries = new TrackingQueries(storage);
    this.listeners = new ListenerSet(this.logger);
    this.leases = new LeaseKeeper({
      leaseMs: options.leaseMs ?? DEFAULT_LEASE_MS,
      workerId: options.workerId ?? null,
      logger: this.logger,
      storage: () => this.currentStorage,
    });
  }

  // ---- configuration --------------------------------------------------------------------------

  withStorage(storage: TrackingStorage): this {
    if (!storage || typeof storage.saveStatus !== "function") throw new TypeError("withStorage needs a TrackingStorage");
    this.currentStorage = storage;
    this.stream.attach(storage);
    this.leases.attach(storage);
    return this;
  }

  /**
   * Redis when the broker has a Redis connection, memory otherwise. The broker's key prefix, else
   * the default one: "{pipewatch}:" on a Cluster (which needs a hash-tagged prefix), "pipewatch:" on one server.
   */
  withAutoStorage(broker: Broker): this {
    if (!broker.redis) return this.withStorage(new InMemoryPipelineStorage());
    const keyPrefix = broker.keyPrefix ?? (isCluster(broker.redis) ? DEFAULT_CLUSTER_KEY_PREFIX : undefined);
    return this.withStorage(new RedisPipelineStorage(broker.redis, { keyPrefix, logger: this.logger }));
  }

  get storage(): TrackingStorage {
    if (!this.currentStorage) throw new Error(NO_STORAGE_MESSAGE);
    return this.currentStorage;
  }

  get hasStorage(): boolean {
    return this.currentStorage !== null;
  }

  // ---- the change stream ----------------------------------------------------------------------

  /**
   * Every change of every run: `status` for a run recorded here or written by another process
   * sharing the storage, `deleted` for a run deleted anywhere (API, retention, expiry, a data set
   * that vanished). After a gap in a shared storage's feed, what changed meanwhile arrives here too.
   */
  onChange<E extends keyof ChangeStreamEvents>(event: E, handler: ChangeStreamEvents[E]): () => void {
    void this.storage;
    return this.stream.on(event, handler);
  }

  /** A listener hears the stream's status changes (and, for local runs, their lifecycle events). */
  addListener(listener: TrackingListener): void {
    void this.storage;
    this.listeners.add(listener);
    this.unsubscribeListeners ??= this.stream.on("status", ({ status, events }) => {
      for (const event of events) this.listeners.event(event);
      this.listeners.statusUpdate(status);
    });
  }

  removeListener(listener: TrackingListener): boolean {
    void this.storage;
    const removed = this.listeners.remove(listener);
    if (this.listeners.size === 0) {
      this.unsubscribeListeners?.();
      this.unsubscribeListeners = null;
    }
    return removed;
  }

  // ---- queries --------------------------------------------------------------------------------

  getStatus(pipelineId: string): Promise<PipelineStatus | null> {
    return this.queries.getStatus(pipelineId);
  }
  listPipelines(filter?: ListFilter): Promise<PipelineStatus[]> {
    return this.queries.listPipelines(filter);
  }
  listPage(query?: PageQuery): Promise<Page> {
    return this.queries.listPage(query);
  }
  countByStatus(): Promise<Record<Status, number>> {
    return this.queries.countByStatus();
  }
  getHistory(query?: HistoryQuery): Promise<PipelineStatus[]> {
    return this.queries.getHistory(query);
  }
  /** Deletes finished runs started more than `days` days ago, at most `limit` of them; never a running one. */
  cleanupOlderThan(options: { days: number; limit?: number }): Promise<number> {
    return this.queries.cleanupOlderThan(options);
  }
  getMetrics(options?: { days?: number; now?: Date }): Promise<PipelineMetrics> {
    return this.queries.getMetrics(options);
  }

  // ---- operator actions -----------------------------------------------------------------------

  /** Deletes a run; a run still executing here is cancelled first. */
  async deletePipeline(pipelineId: string): Promise<boolean> {
    const storage = this.storage;
    await this.recorder.cancelLocal(pipelineId, "Deleted");
    return storage.deletePipeline(pipelineId, { origin: this.instanceId });
  }

  /**
   * Cancels a run: one executing in this process stops at once; one executing elsewhere is marked
   * CANCELLED in the storage, and its own process (hearing the change feed) stops it. The mark is a
   * compare-and-set (`finishStatus`): a cancel that loses to the run's own end answers
   * `{ cancelled: false, status: <final> }`. Null when the id is unknown.
   */
  async cancel(pipelineId: string): Promise<CancelOutcome | null> {
    const storage = this.storage;
    const local = this.recorder.localStatus(pipelineId);
    const cancelledHere = await this.recorder.cancelLocal(pipelineId);
    if (cancelledHere !== null) {
      const status = (await storage.getStatus(pipelineId)) ?? local!;
      return { cancelled: cancelledHere, status };
    }
    const outcome = await cancelStoredRun(storage, pipelineId, this.instanceId);
    if (outcome?.cancelled) this.stream.emitLocal(cloneStatus(outcome.status));
    return outcome;
  }

  // ---- recording (called by the executor of a run) ---------------------------------------------

  /** Stores a new run with every declared step; resolves once it is stored (or the storage failed). */
  recordPipelineStart(status: PipelineStatus, handle: RunHandle | null = null): Promise<void> {
    void this.storage;
    this.assertAcceptingRuns();
    const stored = this.recorder.start(status, handle);
    // Asked for after the start is issued (one call for all runs started in this macrotask), so a
    // queueing storage sends it in order behind the starts.
    this.leases.hold(status.pipelineId, handle?.workerId);
    return stored;
  }
  recordStepStart(pipelineId: string, stepName: string, details: { attempt?: number; workerId?: string | null } = {}): void {
    this.recorder.stepStart(pipelineId, stepName, details);
  }
  recordStepComplete(pipelineId: string, stepName: string, result: unknown, durationMs?: number): void {
    this.recorder.stepComplete(pipelineId, stepName, result, durationMs);
  }
  recordStepFailure(pipelineId: string, stepName: string, error: unknown, durationMs?: number): void {
    this.recorder.stepFailure(pipelineId, stepName, error, durationMs);
  }
  /** Ends a run (see `RunRecorder.end`): resolves once its final state is stored. */
  async recordPipelineEnd(pipelineId: string, outcome: EndOutcome): Promise<RecordedEnd | null> {
    try {
      return await this.recorder.end(pipelineId, outcome);
    } finally {
      this.leases.release(pipelineId);
    }
  }

  /** True while a run recorded by this manager is executing in this process. */
  isActive(pipelineId: string): boolean {
    return this.recorder.isActive(pipelineId);
  }

  /** Runs executing in this process, by id. */
  get activeRunIds(): string[] {
    return this.recorder.activeRunIds;
  }

  /** The lease length this manager records with its runs. */
  get leaseMs(): number {
    return this.leases.leaseMs;
  }

  /**
   * Ends the runs of processes that died (their lease expired) now, rather than at the next timed
   * sweep; answers how many it ended. Every manager also does this on its own timer.
   */
  sweepExpiredLeases(): Promise<number> {
    void this.storage;
    return this.leases.sweep();
  }

  /** True once `shutdown` began. */
  get isShuttingDown(): boolean {
    return this.shutdownDone !== null;
  }

  /** Throws once `shutdown` began (`kiq` calls it before starting a run). */
  assertAcceptingRuns(): void {
    if (this.shutdownDone) throw new Error(SHUTTING_DOWN_MESSAGE);
  }

  /**
   * Stops this process's part: no new run is accepted, the runs executing here get `graceMs` to end
   * on their own, those still going are cancelled (CANCELLED "worker shut down"), every write is
   * flushed, the timers stop and the storage is closed. No run this process executed is left
   * RUNNING. Calling it again answers the same promise.
   */
  shutdown(options: ShutdownOptions = {}): Promise<void> {
    const graceMs = options.graceMs ?? 10_000;
    if (!(Number.isFinite(graceMs) && graceMs >= 0)) return Promise.reject(new RangeError("graceMs must be a non-negative number"));
    this.shutdownDone ??= this.shutDown(graceMs);
    return this.shutdownDone;
  }

  private async shutDown(graceMs: number): Promise<void> {
    await this.recorder.whenIdle(graceMs);
    const left = this.recorder.activeRunIds;
    if (left.length > 0) this.logger.warn({ runs: left.length, graceMs }, "cancelling the runs still executing at shutdown");
    await Promise.allSettled(
      left.map(async (id) => {
        const cancelled = await this.recorder.cancelLocal(id, SHUTDOWN_MESSAGE);
        // A run recorded without a handle (no executor here to stop): end it directly.
        if (cancelled === null) await this.recordPipelineEnd(id, { status: "CANCELLED", error: SHUTDOWN_MESSAGE });
      }),
    );
    await this.close();
  }

  /** Waits for every write issued so far, stops the lease timers, then closes the storage's connections. */
  async close(): Promise<void> {
    this.leases.stop();
    await this.recorder.drain();
    this.stream.close();
    await this.currentStorage?.close();
  }
}
