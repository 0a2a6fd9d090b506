/**
 * Paging cursors: an opaque base64url of "<startedAtMs>:<pipelineId>", the last item of a page.
 * Lists sort newest first by (startedAt desc, pipelineId desc), so the next page is everything
 * strictly after that pair, and runs that arrive meanwhile (newer) never shift it.
 */
import { PIPELINE_ID_PATTERN } from "../models";

export interface CursorPosition {
  startedAtMs: number;
  pipelineId: string;
}

export function encodeCursor(position: CursorPosition): string {
  return Buffer.from(`${position.startedAtMs}:${position.pipelineId}`, "utf8").toString("base64url");
}

export class InvalidCursorError extends Error {
  constructor() {
    super("Invalid cursor: pass the nextCursor of a previous page");
    this.name = "InvalidCursorError";
  }
}

export function decodeCursor(cursor: string): CursorPosition {
  const text = Buffer.from(cursor, "base64url").toString("utf8");
  const sep = text.indexOf(":");
  const startedAtMs = Number(text.slice(0, sep));
  const pipelineId = text.slice(sep + 1);
  if (sep <= 0 || !Number.isSafeInteger(startedAtMs) || !PIPELINE_ID_PATTERN.test(pipelineId)) {
    throw new InvalidCursorError();
  }
  return { startedAtMs, pipelineId };
}

/** Newest-first order: negative when `a` sorts before `b`. */
export function compareNewestFirst(a: CursorPosition, b: CursorPosition): number {
  if (a.startedAtMs !== b.startedAtMs) return b.startedAtMs - a.startedAtMs;
  return a.pipelineId < b.pipelineId ? 1 : a.pipelineId > b.pipelineId ? -1 : 0;
}
