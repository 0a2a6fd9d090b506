/**
 * The SQLite storage's change feed. Writes of this process are announced to its subscribers as soon
 * as their transaction commits. Other processes' writes are found by polling: every `pollMs` the
 * feed asks `PRAGMA data_version` (no I/O: it changes only when another connection committed), and
 * only then reads the `changes` rows past the last one it saw. The table keeps one row per run (its
 * newest change) and is trimmed to the newest `keepChanges`; a subscriber that fell behind the trim
 * hears `onReset` and reads again what it shows.
 */
import type { Logger } from "../../../logger";
import type { FeedEvents, StorageChange } from "../types";
import type { Database, Statement } from "./driver";
import { fromStoredRun } from "../compact";
import type { WrittenChange } from "./batch";

interface Subscriber {
  handler: (change: StorageChange) => void;
  events: FeedEvents | undefined;
}

const READ_BATCH = 2000;

export class SqliteChangeFeed {
  private readonly subscribers = new Set<Subscriber>();
  private timer: NodeJS.Timeout | null = null;
  private lastSeq = 0;
  private dataVersion = -1;
  private readonly dataVersionStmt: Statement;
  private readonly since: Statement;
  private readonly maxSeq: Statement;
  private readonly trimmedThrough: Statement;
  private readonly trim: Statement;
  private readonly noteTrim: Statement;
  private insertedSinceTrim = 0;

  constructor(
    private readonly db: Database,
    private readonly writer: string,
    private readonly logger: Logger,
    private readonly options: { pollMs: number; keepChanges: number },
  ) {
    this.dataVersionStmt = db.prepare("PRAGMA data_version").pluck();
    this.since = db.prepare("SELECT seq, pipeline_id, deleted, origin, writer FROM changes WHERE seq > ? ORDER BY seq LIMIT ?");
    this.maxSeq = db.prepare("SELECT coalesce(max(seq), 0) FROM changes").pluck();
    this.trimmedThrough = db.prepare("SELECT value FROM meta WHERE key = 'changes_trimmed_through'").pluck();
    this.trim = db.prepare("DELETE FROM changes WHERE seq <= ?");
    this.noteTrim = db.prepare(
      "INSERT INTO meta (key, value) VALUES ('changes_trimmed_through', ?) ON CONFLICT (key) DO UPDATE SET value = max(value, excluded.value)",
    );
  }

  subscribe(handler: (change: StorageChange) => void, events?: FeedEvents): () => void {
    const subscriber: Subscriber = { handler, events };
    if (this.subscribers.size === 0) this.start();
    this.subscribers.add(subscriber);
    return () => {
      this.subscribers.delete(subscriber);
      if (this.subscribers.size === 0) this.stop();
    };
  }

  /** This process's own writes, just committed. */
  announce(changes: WrittenChange[]): void {
    this.insertedSinceTrim += changes.length;
    if (this.subscribers.size === 0) return;
    // No other connection committed since the last poll: nothing below our own newest change is
    // unread, so the poller may skip past it (and a later trim of our own rows is no gap).
    if (Number(this.dataVersionStmt.get()) === this.dataVersion) {
      for (const written of changes) if (written.version > this.lastSeq) this.lastSeq = written.version;
    }
    for (const written of changes) {
      const change: StorageChange = {
        pipelineId: written.pipelineId,
        version: written.version,
        origin: written.origin,
        deleted: written.run === null,
      };
      const run = written.run;
      if (run) {
        let status: StorageChange["status"];
        Object.defineProperty(change, "status", { enumerable: true, get: () => (status ??= fromStoredRun(run)) });
      }
      this.deliver(change);
    }
  }

  /** Trims the table once enough changes were written since the last trim (called after a flush). */
  trimIfDue(): void {
    if (this.insertedSinceTrim < Math.max(100, this.options.keepChanges / 10)) return;
    this.insertedSinceTrim = 0;
    const through = Number(this.maxSeq.get()) - this.options.keepChanges;
    if (through <= 0) return;
    this.db
      .transaction(() => {
        this.trim.run(through);
        this.noteTrim.run(through);
      })
      .immediate();
  }

  /** Reads other processes' changes now (the poller calls it; tests may too). */
  poll(): void {
    const version = Number(this.dataVersionStmt.get());
    if (version === this.dataVersion) return;
    this.dataVersion = version;
    const trimmed = Number(this.trimmedThrough.get() ?? 0);
    if (this.lastSeq < trimmed) {
      // Changes were trimmed before this process read them: they cannot be replayed.
      this.lastSeq = Number(this.maxSeq.get());
      for (const s of this.subscribers) this.safely(() => s.events?.onReset?.());
      return;
    }
    for (;;) {
      const rows = this.since.raw().all(this.lastSeq, READ_BATCH) as [number, string, number, string | null, string][];
      for (const [seq, pipelineId, deleted, origin, writer] of rows) {
        this.lastSeq = seq;
        if (writer === this.writer) continue;
        this.deliver({ pipelineId, version: seq, origin, deleted: deleted === 1 });
      }
      if (rows.length < READ_BATCH) return;
    }
  }

  close(): void {
    this.stop();
    this.subscribers.clear();
  }

  private start(): void {
    this.lastSeq = Number(this.maxSeq.get());
    this.dataVersion = Number(this.dataVersionStmt.get());
    this.timer = setInterval(() => {
      try {
        this.poll();
      } catch (err) {
        this.logger.warn({ err }, "reading other processes' changes from SQLite failed; retrying");
        this.dataVersion = -1;
      }
    }, this.options.pollMs);
    this.timer.unref();
  }

  private stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private deliver(change: StorageChange): void {
    for (const s of this.subscribers) this.safely(() => s.handler(change));
  }

  private safely(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      // A subscriber's failure is its own; the write already happened.
      this.logger.warn({ err }, "a change feed subscriber threw");
    }
  }
}
