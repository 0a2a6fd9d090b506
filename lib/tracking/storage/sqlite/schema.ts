/**
 * Opening a SQLite storage: the file and its folder, the pragmas, and the schema, migrated in
 * versioned steps recorded in `PRAGMA user_version`. A file that cannot be opened or written, or
 * whose schema is newer than this code, throws `SqliteStorageError` here, before any run is recorded.
 */
import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { isBusyError, loadBetterSqlite3, type Database } from "./driver";

/**
 * One entry per schema version, applied in order inside one transaction each.
 * Runs hold their steps as one JSON array (one row per run: a step write rewrites a few hundred
 * bytes, and a list page never reads it, thanks to the summary columns). Rollups are the same
 * counters the Redis storage keeps per day (kind 0 counters incl. per-hour "h<hour>" fields, 1
 * failure reasons, 2 steps), so both assemble metrics with the same code. `rollup_days` gives each day
 * a version that grows with every write to it (from one counter that never repeats), so a reader
 * keeps the days it parsed until they change.
 */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    name TEXT,
    status TEXT NOT NULL,
    type TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    completed_at INTEGER,
    duration_ms REAL,
    error TEXT,
    result TEXT NOT NULL,
    steps TEXT NOT NULL,
    steps_total INTEGER NOT NULL,
    steps_completed INTEGER NOT NULL,
    steps_failed INTEGER NOT NULL,
    current_step TEXT,
    lease_worker TEXT,
    lease_until REAL,
    expire_at INTEGER
  );
  CREATE INDEX runs_by_start ON runs (started_at DESC, id DESC);
  CREATE INDEX runs_by_status ON runs (status, started_at DESC, id DESC);
  CREATE INDEX runs_by_lease ON runs (lease_until) WHERE lease_until IS NOT NULL;
  CREATE INDEX runs_by_expiry ON runs (expire_at) WHERE expire_at IS NOT NULL;
  CREATE TABLE status_counts (status TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
  CREATE TABLE rollups (
    day TEXT NOT NULL,
    kind INTEGER NOT NULL,
    field TEXT NOT NULL,
    value REAL NOT NULL,
    PRIMARY KEY (day, kind, field)
  ) WITHOUT ROWID;
  CREATE TABLE rollup_days (day TEXT PRIMARY KEY, version INTEGER NOT NULL) WITHOUT ROWID;
  CREATE TABLE changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    pipeline_id TEXT NOT NULL,
    deleted INTEGER NOT NULL,
    origin TEXT,
    writer TEXT NOT NULL
  );
  CREATE INDEX changes_by_run ON changes (pipeline_id);
  CREATE TABLE workers (
    worker_id TEXT PRIMARY KEY,
    info TEXT NOT NULL,
    last_seen REAL NOT NULL,
    stopped INTEGER NOT NULL
  );
  CREATE TABLE meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID;
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

export class SqliteStorageError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "SqliteStorageError";
  }
}

export interface OpenOptions {
  path: string;
  busyTimeoutMs: number;
}

/** Opens (creating when missing) and migrates the database; proves it writable with one small write. */
export function openDatabase({ path, busyTimeoutMs }: OpenOptions): Database {
  const file = resolve(path);
  const Sqlite = loadBetterSqlite3();
  try {
    mkdirSync(dirname(file), { recursive: true });
  } catch (err) {
    throw new SqliteStorageError(`Cannot create the folder for the SQLite database ${file}: ${(err as Error).message}`, { cause: err });
  }
  let db: Database;
  try {
    db = new Sqlite(file, { timeout: busyTimeoutMs });
  } catch (err) {
    throw new SqliteStorageError(`Cannot open the SQLite database ${file}: ${(err as Error).message}`, { cause: err });
  }
  try {
    db.pragma(`busy_timeout = ${Math.max(0, Math.round(busyTimeoutMs))}`);
    const mode = db.pragma("journal_mode = WAL", { simple: true });
    if (String(mode).toLowerCase() !== "wal") throw new Error(`journal_mode is ${String(mode)}, WAL is needed`);
    db.pragma("synchronous = NORMAL");
    migrate(db, file);
    // A read-only file opens and reads fine: this write is what finds out.
    db.prepare("INSERT INTO meta (key, value) VALUES ('opened_at', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value").run(
      new Date().toISOString(),
    );
  } catch (err) {
    db.close();
    if (err instanceof SqliteStorageError) throw err;
    const reason = isBusyError(err) ? `the database is locked by another connection (waited ${busyTimeoutMs} ms)` : (err as Error).message;
    throw new SqliteStorageError(`Cannot write the SQLite database ${file}: ${reason}`, { cause: err });
  }
  return db;
}

function migrate(db: Database, file: string): void {
  const current = Number(db.pragma("user_version", { simple: true }));
  if (current > SCHEMA_VERSION) {
    throw new SqliteStorageError(
      `The SQLite database ${file} has schema version ${current}, newer than this version of pipewatch knows ` +
        `(${SCHEMA_VERSION}): upgrade pipewatch, or point it at another file`,
    );
  }
  for (let version = current; version < SCHEMA_VERSION; version++) {
    db.transaction(() => {
      // Another process may have migrated between our read and our lock.
      if (Number(db.pragma("user_version", { simple: true })) > version) return;
      db.exec(MIGRATIONS[version]!);
      db.pragma(`user_version = ${version + 1}`);
    }).immediate();
  }
}
