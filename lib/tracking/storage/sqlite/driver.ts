/**
 * better-sqlite3 is an optional peer dependency: it is required only when a SQLite storage is
 * built, so a process that never uses one (or a package install without it) never loads it.
 */
import { createRequire } from "node:module";
import type BetterSqlite3 from "better-sqlite3";

export type Database = BetterSqlite3.Database;
export type Statement = BetterSqlite3.Statement;
type DatabaseConstructor = typeof BetterSqlite3;

let loaded: DatabaseConstructor | undefined;

/** The better-sqlite3 constructor, or an error that says how to install it. */
export function loadBetterSqlite3(): DatabaseConstructor {
  if (loaded) return loaded;
  const require = createRequire(import.meta.url);
  try {
    loaded = require("better-sqlite3") as DatabaseConstructor;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === "MODULE_NOT_FOUND" || code === "ERR_MODULE_NOT_FOUND") {
      throw new Error("SqlitePipelineStorage needs the optional package better-sqlite3: npm install better-sqlite3", {
        cause: err,
      });
    }
    throw err;
  }
  return loaded;
}

/** SQLite result codes that mean "try again later" rather than "this write is wrong". */
const TRANSIENT = /^SQLITE_(BUSY|LOCKED|FULL|IOERR|READONLY|CANTOPEN|PROTOCOL|NOMEM)/;

export function isTransientSqliteError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && TRANSIENT.test(code);
}

export function isBusyError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && /^SQLITE_(BUSY|LOCKED)/.test(code);
}
