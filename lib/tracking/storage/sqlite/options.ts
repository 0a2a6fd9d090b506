/** The SQLite storage's options (docs/storage.md has the table). */
import type { Logger } from "../../../logger";

export interface SqliteStorageOptions {
  /** The database file; its folder is created when missing. */
  path: string;
  /** Finished runs are deleted this long after they finish. Default: never. */
  ttlSeconds?: number;
  /** How long the per-day metrics rollups are kept. Default 90. */
  metricsRetentionDays?: number;
  /** How long a write waits for another process's transaction before it counts as failed. Default 2000. */
  busyTimeoutMs?: number;
  /** Writes held while the database refuses them; past this the oldest are dropped (logged). Default 100 000. */
  maxBufferedWrites?: number;
  /** How often subscribers look for other processes' changes. Default 50 ms. */
  pollMs?: number;
  /** Changes kept for subscribers of other processes (one per run at most). Default 100 000. */
  keepChanges?: number;
  logger?: Logger;
}
