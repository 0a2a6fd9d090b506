/**
 * SqlitePipelineStorage (docs/storage.md): runs in one SQLite file (better-sqlite3, WAL) that any
 * number of processes on one machine share. Writes are queued and written one transaction per
 * flush (write-queue.ts, batch.ts); every read flushes this process's queue first, so a process
 * reads its own writes. Metrics come from per-day rollups (rollups.ts), O(days). Other processes'
 * changes reach subscribers through a polled change table (feed.ts). Leases and worker liveness are
 * judged by the database's clock.
 */
import { randomBytes } from "node:crypto";
import { defaultLogger, type Logger } from "../../../logger";
import { assertMetricsDays } from "../../metrics";
import type { MetricsQuery, PipelineMetrics } from "../../metrics-types";
import { STATUSES, isValidPipelineId, type PipelineStatus, type Status, type StepStatus } from "../../models";
import type { HeartbeatOptions, WorkerInfo, WorkerRecord } from "../../../workers/types";
import { toStoredRun, toStoredStep } from "../compact";
import { checkCleanupLimit } from "../cleanup-limit";
import { decodeCursor, encodeCursor } from "../cursor";
import { StorageUnavailableError } from "../errors";
import {
  DEFAULT_PAGE_LIMIT,
  type CleanupOptions,
  type ExpiredLease,
  type FeedEvents,
  type FinishOutcome,
  type HistoryQuery,
  type ListFilter,
  type Page,
  type PageQuery,
  type StorageChange,
  type TrackingStorage,
  type WriteOptions,
} from "../types";
import { isBusyError, type Database, type Statement } from "./driver";
import { SqliteChangeFeed } from "./feed";
import { pageQuery } from "./page-query";
import { RUN_COLUMNS, statusOfRow, summaryOfRow, type RunRow, type SummaryRow } from "./records";
import { MetricsReader, prepareRollupStatements, type RollupStatements } from "./rollups";
import { openDatabase } from "./schema";
import { SqliteWriteQueue } from "./write-queue";
import { SqliteWorkerRegistry } from "./workers";

export { SqliteStorageError } from "./schema";
export type { SqliteStorageOptions } from "./options";
import type { SqliteStorageOptions } from "./options";

const SWEEP_BATCH = 500;
const CLEANUP_BATCH = 1000;
/** A read that finds the database locked retries this often before it gives up. */
const READ_ATTEMPTS = 3;
const REAP_EVERY_MS = 1000;
const ROLLUP_EXPIRY_EVERY_MS = 3_600_000;

export class SqlitePipelineStorage implements TrackingStorage {
  readonly kind = "sqlite";
  readonly path: string;
  readonly ttlSeconds: number | null;
  readonly metricsRetentionDays: number;
  private readonly db: Database;
  private readonly logger: Logger;
  private readonly queue: SqliteWriteQueue;
  private readonly feed: SqliteChangeFeed;
  private readonly workers: SqliteWorkerRegistry;
  private readonly rollups: RollupStatements;
  private readonly metrics: MetricsReader;
  private readonly statements = new Map<string, Statement>();
  private lastReap = 0;
  private lastRollupExpiry = 0;
  private closed = false;

  /** Throws `SqliteStorageError` when the file cannot be opened or written, or has a newer schema. */
  constructor(options: SqliteStorageOptions) {
    if (!options || typeof options.path !== "string" || options.path === "") throw new TypeError("SqlitePipelineStorage needs { path }");
    const ttl = options.ttlSeconds;
    if (ttl !== undefined && !(Number.isFinite(ttl) && ttl > 0)) throw new RangeError("ttlSeconds must be a positive number");
    this.path = options.path;
    this.ttlSeconds = ttl ?? null;
    this.metricsRetentionDays = options.metricsRetentionDays ?? 90;
    this.logger = options.logger ?? defaultLogger();
    this.db = openDatabase({ path: options.path, busyTimeoutMs: options.busyTimeoutMs ?? 2000 });
    const writer = randomBytes(6).toString("base64url");
    this.feed = new SqliteChangeFeed(this.db, writer, this.logger, {
      pollMs: options.pollMs ?? 50,
      keepChanges: options.keepChanges ?? 100_000,
    });
    this.queue = new SqliteWriteQueue(this.db, this.logger, {
      writer,
      ttlMs: this.ttlSeconds === null ? null : Math.round(this.ttlSeconds * 1000),
      maxBuffered: options.maxBufferedWrites ?? 100_000,
      onCommit: (changes) => {
        this.feed.announce(changes);
        this.maintain();
      },
    });
    this.workers = new SqliteWorkerRegistry(this.db, this.logger);
    this.rollups = prepareRollupStatements(this.db);
    this.metrics = new MetricsReader(this.rollups);
  }

  async saveStatus(status: PipelineStatus, options?: WriteOptions): Promise<void> {
    const run = toStoredRun(checkId(status));
    return this.queue.push(
      (batch) => batch.save(run, options?.origin),
      () => undefined,
    );
  }

  /** One transaction checks and writes; while writes fail it answers applied (written best-effort later). */
  async finishStatus(status: PipelineStatus, options?: WriteOptions): Promise<FinishOutcome> {
    const run = toStoredRun(checkId(status));
    return this.queue.push(
      (batch) => batch.finish(run, options?.origin),
      () => ({ applied: true, current: status }),
    );
  }

  /** Not async: it runs for every transition, and the queue's promise is all a caller needs. */
  saveStep(pipelineId: string, step: StepStatus, options?: WriteOptions): Promise<void> {
    if (!isValidPipelineId(pipelineId)) return Promise.resolve();
    const stored = toStoredStep(step);
    return this.queue.push(
      (batch) => batch.step(pipelineId, stored, options?.origin),
      () => undefined,
    );
  }

  async getStatus(pipelineId: string): Promise<PipelineStatus | null> {
    if (!isValidPipelineId(pipelineId)) return null;
    return this.read(() => {
      const row = this.statement(`SELECT ${RUN_COLUMNS} FROM runs WHERE id = ?`).get(pipelineId) as RunRow | undefined;
      return row ? statusOfRow(row) : null;
    });
  }

  async listPipelines(filter: ListFilter = {}): Promise<PipelineStatus[]> {
    return this.read(() => {
      const where = filter.status ? "WHERE status = ?" : "";
      const sql = `SELECT ${RUN_COLUMNS} FROM runs ${where} ORDER BY started_at DESC, id DESC LIMIT ?`;
      const rows = this.statement(sql).all(...(filter.status ? [filter.status] : []), limitOf(filter.limit)) as RunRow[];
      return this.decodeAll(rows);
    });
  }

  async getHistory(query: HistoryQuery = {}): Promise<PipelineStatus[]> {
    return this.read(() => {
      const since = query.since?.getTime();
      const where = since !== undefined ? "WHERE started_at >= ?" : "";
      const sql = `SELECT ${RUN_COLUMNS} FROM runs ${where} ORDER BY started_at DESC, id DESC LIMIT ?`;
      const rows = this.statement(sql).all(...(since !== undefined ? [since] : []), limitOf(query.limit)) as RunRow[];
      return this.decodeAll(rows);
    });
  }

  /** Summaries from their own columns: a page never reads steps or results. */
  async listPage(query: PageQuery = {}): Promise<Page> {
    const limit = query.limit ?? DEFAULT_PAGE_LIMIT;
    const after = query.cursor ? decodeCursor(query.cursor) : null;
    return this.read(() => {
      const { sql, args } = pageQuery(query, after);
      const rows = this.statement(sql).all(...args, limit + 1) as SummaryRow[];
      const more = rows.length > limit;
      const items = rows.slice(0, limit);
      const last = items[items.length - 1];
      return {
        items: items.map(summaryOfRow),
        nextCursor: more && last ? encodeCursor({ startedAtMs: last.started_at, pipelineId: last.id }) : null,
      };
    });
  }

  /** Kept as counters by every write, so this is a five-row read however many runs are stored. */
  async countByStatus(): Promise<Record<Status, number>> {
    return this.read(() => {
      const counts = Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<Status, number>;
      for (const [status, n] of this.statement("SELECT status, n FROM status_counts").raw().all() as [Status, number][]) {
        if (status in counts) counts[status] = n;
      }
      return counts;
    });
  }

  deletePipeline(pipelineId: string, options?: WriteOptions): Promise<boolean> {
    if (!isValidPipelineId(pipelineId)) return Promise.resolve(false);
    return this.queue.push((batch) => batch.delete(pipelineId, options?.origin));
  }

  /** In transactions of at most CLEANUP_BATCH runs, so no single one holds the write lock for long. */
  async cleanupOlderThan(cutoff: Date, options?: CleanupOptions): Promise<number> {
    const limit = checkCleanupLimit(options?.limit) ?? Number.POSITIVE_INFINITY;
    let deleted = 0;
    while (deleted < limit) {
      const batchLimit = Math.min(CLEANUP_BATCH, limit - deleted);
      const n = await this.queue.push((batch) => batch.cleanup(cutoff.getTime(), batchLimit));
      deleted += n;
      if (n < batchLimit) break;
    }
    return deleted;
  }

  async getMetrics(query: MetricsQuery): Promise<PipelineMetrics> {
    assertMetricsDays(query.days);
    return this.read(() => this.metrics.read(query));
  }

  /** Own writes are announced as they commit; other processes' within `pollMs` (feed.ts). */
  subscribe(handler: (change: StorageChange) => void, events?: FeedEvents): () => void {
    return this.feed.subscribe(handler, events);
  }

  /** Queued like a step write (after the run's start); the expiry is the database's clock plus `leaseMs`. */
  renewLeases(pipelineIds: readonly string[], leaseMs: number, workerId: string): Promise<void> {
    const ids = pipelineIds.filter(isValidPipelineId);
    if (ids.length === 0) return Promise.resolve();
    const ms = Math.max(1, Math.round(leaseMs));
    return this.queue.push(
      (batch) => batch.renew(ids, ms, workerId),
      () => undefined,
    );
  }

  /** One transaction per batch of expired leases: two sweepers, or a sweep and the run's own end, never both end a run. */
  async sweepExpiredLeases(_now?: Date): Promise<ExpiredLease[]> {
    const ended: ExpiredLease[] = [];
    for (;;) {
      const swept = await this.queue.push((batch) => batch.sweep(SWEEP_BATCH));
      ended.push(...swept);
      if (swept.length < SWEEP_BATCH) return ended;
    }
  }

  /** Queued like a step write; `last_seen` is the database's clock when it is written. */
  async recordWorker(info: WorkerInfo, options?: HeartbeatOptions): Promise<void> {
    const copy = structuredClone(info);
    return this.queue.push(
      () => this.workers.record(copy, options),
      () => undefined,
    );
  }

  async listWorkers(): Promise<WorkerRecord[]> {
    return this.read(() => this.workers.all());
  }

  /** Waits (up to `timeoutMs`) until every write issued so far is in the database. */
  flush(timeoutMs = 10_000): Promise<boolean> {
    return this.queue.drain(timeoutMs);
  }

  /** Writes waiting to be written (queued, or buffered while the database refuses them). */
  get pendingWrites(): number {
    return this.queue.size;
  }

  /** The cross-process feed polls the file this storage has open, with no connection to lose: always live. */
  get changeFeedState(): "live" {
    return "live";
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue.drain(5000);
    this.queue.close();
    this.feed.close();
    this.db.close();
  }

  // ---- internals ------------------------------------------------------------------------------

  /** This process's writes first, then the read; a database locked past the busy timeout is retried, then reported. */
  private read<T>(load: () => T): Promise<T> {
    if (this.closed) return Promise.reject(new Error("The SQLite storage is closed"));
    this.reapIfDue();
    this.queue.flush();
    for (let attempt = 1; ; attempt++) {
      try {
        return Promise.resolve(load());
      } catch (err) {
        if (!isBusyError(err)) return Promise.reject(err);
        if (attempt >= READ_ATTEMPTS) {
          return Promise.reject(
            new StorageUnavailableError(`The SQLite database ${this.path} is locked by another process (tried ${attempt} times)`, {
              cause: err,
            }),
          );
        }
      }
    }
  }

  private decodeAll(rows: RunRow[]): PipelineStatus[] {
    const out: PipelineStatus[] = [];
    for (const row of rows) {
      try {
        out.push(statusOfRow(row));
      } catch (err) {
        // One unreadable row must not hide the others.
        this.logger.error({ err, pipelineId: row.id }, "skipped a run that does not decode");
      }
    }
    return out;
  }

  private statement(sql: string): Statement {
    let statement = this.statements.get(sql);
    if (!statement) this.statements.set(sql, (statement = this.db.prepare(sql)));
    return statement;
  }

  /** Runs past their `ttlSeconds` are deleted before reads, at most once a second. */
  private reapIfDue(): void {
    if (this.ttlSeconds === null || Date.now() - this.lastReap < REAP_EVERY_MS) return;
    this.lastReap = Date.now();
    const reap = (): Promise<number> =>
      this.queue.push((batch) => batch.reap(CLEANUP_BATCH)).then((n) => (n === CLEANUP_BATCH ? reap() : n));
    reap().catch((err: unknown) => this.logger.warn({ err }, "deleting expired runs from SQLite failed"));
  }

  /** After a commit: trims the change table, and drops rollups past their retention once an hour. */
  private maintain(): void {
    try {
      this.feed.trimIfDue();
      if (Date.now() - this.lastRollupExpiry > ROLLUP_EXPIRY_EVERY_MS) {
        this.lastRollupExpiry = Date.now();
        const oldest = new Date(Date.now() - (this.metricsRetentionDays + 1) * 86_400_000).toISOString().slice(0, 10);
        this.rollups.expire.run(oldest);
        this.rollups.expireDays.run(oldest);
      }
    } catch (err) {
      this.logger.warn({ err }, "SQLite housekeeping failed; it is retried after a later write");
    }
  }
}

function checkId(status: PipelineStatus): PipelineStatus {
  if (!isValidPipelineId(status.pipelineId)) throw new TypeError(`Invalid pipelineId ${JSON.stringify(status.pipelineId)}`);
  return status;
}

/** SQLite's LIMIT -1 is "no limit". */
const limitOf = (limit: number | undefined): number => (limit === undefined || !Number.isFinite(limit) ? -1 : limit);
