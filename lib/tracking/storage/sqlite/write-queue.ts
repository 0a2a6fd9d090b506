/**
 * The SQLite storage's writes: queued and written together, one transaction per flush (at most
 * MAX_BATCH_OPS writes each), on the next turn of the event loop (setImmediate), or at once when a
 * read needs them (read-your-writes: every read flushes first, synchronously). A write that fails for a reason that may pass (the database
 * locked past the busy timeout, a full disk, an I/O error) stays queued and is retried with
 * back-off; its caller is answered at once as buffered, so a pipeline run never waits on or fails
 * with the disk. The queue is bounded: past `maxBuffered` the oldest writes are dropped (logged).
 */
import type { Logger } from "../../../logger";
import { isFinished } from "../../models";
import { isBusyError, isTransientSqliteError, type Database, type Statement } from "./driver";
import type { RunState } from "./records";
import { WriteBatch, type WrittenChange } from "./batch";
import { BatchStatements } from "./statements";

export interface WriteOp<T = unknown> {
  apply(batch: WriteBatch): T;
  /** What a caller is answered when the write is buffered after a failure; absent: it is rejected. */
  buffered?: () => T;
  resolve(value: T): void;
  reject(err: unknown): void;
  settled?: boolean;
}

const FIRST_RETRY_MS = 100;
const MAX_HELD = 10_000;
/** A run whose steps take more than this (large results) is read again rather than held. */
const MAX_HELD_BYTES = 16_384;
/** Writes per transaction: bounds how long one holds the event loop and the database's write lock. */
const MAX_BATCH_OPS = 10_000;
const MAX_RETRY_MS = 5000;

export class SqliteWriteQueue {
  private ops: WriteOp[] = [];
  private scheduled: NodeJS.Immediate | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private retryMs = 0;
  private readonly statements: BatchStatements;
  private closed = false;
  private dropped = 0;
  private lastFailure: Error | null = null;
  /** Runs in progress as this process holds them; valid while `data_version` says no one else wrote. */
  private readonly runs = new Map<string, RunState | null>();
  private cacheVersion = -1;
  private readonly dataVersion: Statement;

  constructor(
    private readonly db: Database,
    private readonly logger: Logger,
    private readonly options: {
      writer: string;
      ttlMs: number | null;
      maxBuffered: number;
      /** Hears what each committed batch wrote (the change feed announces it). */
      onCommit(changes: WrittenChange[]): void;
    },
  ) {
    this.statements = new BatchStatements(db);
    this.dataVersion = db.prepare("PRAGMA data_version").pluck();
  }

  /** Writes waiting (not flushed yet, or buffered after a failure). */
  get size(): number {
    return this.ops.length;
  }

  /** True while writes fail and wait for a retry. */
  get failing(): boolean {
    return this.retryTimer !== null;
  }

  push<T>(apply: (batch: WriteBatch) => T, buffered?: () => T): Promise<T> {
    if (this.closed) return Promise.reject(new Error("The SQLite storage is closed"));
    return new Promise<T>((resolve, reject) => {
      this.ops.push({ apply, buffered, resolve, reject } as WriteOp);
      if (this.ops.length > this.options.maxBuffered) this.dropOldest();
      if (this.failing) {
        // Answered now; written when the database takes writes again.
        this.answerBuffered(this.ops[this.ops.length - 1]!, this.lastFailure ?? new Error("SQLite writes are failing"));
      } else this.scheduled ??= setImmediate(() => this.flushSome());
    });
  }

  /** Writes everything queued now, in one transaction. True when nothing is left queued. */
  flush(): boolean {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = null;
    while (this.ops.length > 0) if (!this.writeBatch()) return false;
    return true;
  }

  /** The next turn's flush: one transaction, the rest on the turn after, so the event loop breathes. */
  private flushSome(): void {
    this.scheduled = null;
    if (this.writeBatch() && this.ops.length > 0) this.scheduled = setImmediate(() => this.flushSome());
  }

  /** Writes up to MAX_BATCH_OPS queued writes in one transaction. */
  private writeBatch(): boolean {
    if (this.ops.length === 0) return true;
    if (this.failing) return false;
    const ops = this.ops.length <= MAX_BATCH_OPS ? this.ops : this.ops.slice(0, MAX_BATCH_OPS);
    this.ops = ops === this.ops ? [] : this.ops.slice(MAX_BATCH_OPS);
    const batch = new WriteBatch(this.statements, this.runs, this.options.writer, this.options.ttlMs);
    const results: { op: WriteOp; ok: boolean; value: unknown }[] = [];
    try {
      this.db
        .transaction(() => {
          // Under the write lock: if another connection committed since our last batch, what we hold may be stale.
          const version = Number(this.dataVersion.get());
          if (version !== this.cacheVersion) this.runs.clear();
          this.cacheVersion = version;
          for (const op of ops) {
            try {
              results.push({ op, ok: true, value: op.apply(batch) });
            } catch (err) {
              // Failures of the database itself fail the batch; anything else is this write's alone.
              if (isTransientSqliteError(err)) throw err;
              results.push({ op, ok: false, value: err });
            }
          }
          batch.writeOut();
        })
        .immediate();
    } catch (err) {
      // The batch changed held states in place before it failed.
      this.runs.clear();
      this.ops = ops.concat(this.ops);
      this.failed(err);
      return false;
    }
    this.retryMs = 0;
    this.forgetFinished(batch.seen);
    for (const { op, ok, value } of results) {
      if (op.settled) continue;
      op.settled = true;
      if (ok) op.resolve(value);
      else op.reject(value);
    }
    if (batch.written.length > 0) this.options.onCommit(batch.written);
    return true;
  }

  /** Flushes, and while writes are failing waits for the retries, up to `timeoutMs`. */
  async drain(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.flush()) {
      if (Date.now() >= deadline) return false;
      await new Promise((r) => setTimeout(r, Math.min(50, Math.max(1, deadline - Date.now()))));
    }
    return true;
  }

  close(): void {
    this.closed = true;
    if (this.scheduled) clearImmediate(this.scheduled);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.scheduled = null;
    this.retryTimer = null;
    if (this.ops.length > 0) this.logger.error({ lost: this.ops.length }, "SQLite storage closed with writes it could not write");
    for (const op of this.ops) this.answerBuffered(op, new Error("The SQLite storage closed before this write was written"));
    this.ops = [];
  }

  /** Keeps small runs in progress only, and at most MAX_HELD of them (the oldest held go first): memory stays bounded. */
  private forgetFinished(seen: Set<string>): void {
    for (const id of seen) {
      const state = this.runs.get(id);
      if (!state || isFinished(state.run.status) || (state.bytes ?? 0) > MAX_HELD_BYTES) this.runs.delete(id);
    }
    for (const id of this.runs.keys()) {
      if (this.runs.size <= MAX_HELD) break;
      this.runs.delete(id);
    }
  }

  private failed(err: unknown): void {
    this.retryMs = Math.min(MAX_RETRY_MS, this.retryMs === 0 ? FIRST_RETRY_MS : this.retryMs * 2);
    const reason = isBusyError(err) ? "the database stayed locked past the busy timeout" : (err as Error).message;
    this.lastFailure = new Error(`SQLite writes are failing: ${reason}`, { cause: err });
    if (!isTransientSqliteError(err)) {
      // Not the disk's fault: retrying would fail the same way; drop the batch's writes with the error.
      this.logger.error({ err }, "a SQLite write batch failed");
      const ops = this.ops;
      this.ops = [];
      for (const op of ops) this.settle(op, err);
      return;
    }
    this.logger.warn({ err, pending: this.ops.length, retryInMs: this.retryMs }, `SQLite writes failed (${reason}); retrying`);
    for (const op of this.ops) this.answerBuffered(op, this.lastFailure);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.flushSome();
    }, this.retryMs);
    this.retryTimer.unref();
  }

  private answerBuffered(op: WriteOp, err: unknown): void {
    if (op.settled) return;
    if (op.buffered) {
      op.settled = true;
      op.resolve(op.buffered());
      return;
    }
    // A write whose answer cannot be guessed (a delete, a sweep): its caller hears the failure and
    // the write leaves the queue.
    this.ops = this.ops.filter((o) => o !== op);
    this.settle(op, err);
  }

  private settle(op: WriteOp, err: unknown): void {
    if (op.settled) return;
    op.settled = true;
    op.reject(err);
  }

  private dropOldest(): void {
    this.ops.shift();
    this.dropped++;
    if (this.dropped === 1 || this.dropped % 1000 === 0) {
      this.logger.error({ dropped: this.dropped, max: this.options.maxBuffered }, "SQLite write buffer full: dropped the oldest writes");
    }
  }
}
