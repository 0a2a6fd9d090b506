/**
 * The SQL of a list page: newest first by (started_at, id), so every filter is a range scan of an
 * index (with a status, `runs_by_status`), and a cursor is a row-value comparison on the same order.
 */
import type { CursorPosition } from "../cursor";
import type { PageQuery } from "../types";
import { SUMMARY_COLUMNS } from "./records";

/** The page's statement (LIMIT left as the last parameter) and its arguments before it. */
export function pageQuery(query: PageQuery, after: CursorPosition | null): { sql: string; args: (string | number)[] } {
  const where: string[] = [];
  const args: (string | number)[] = [];
  if (query.status) {
    where.push("status = ?");
    args.push(query.status);
  }
  if (after) {
    where.push("(started_at, id) < (?, ?)");
    args.push(after.startedAtMs, after.pipelineId);
  }
  if (query.q) {
    // LIKE is case-insensitive for ASCII; the pattern's own wildcards are escaped.
    const pattern = `${query.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    where.push("(id LIKE ? ESCAPE '\\' OR name LIKE ? ESCAPE '\\')");
    args.push(pattern, pattern);
  }
  const sql =
    `SELECT ${SUMMARY_COLUMNS} FROM runs ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ` +
    "ORDER BY started_at DESC, id DESC LIMIT ?";
  return { sql, args };
}
