/**
 * The change feed's wire format (keys.ts, lua/includes/changes.lua): a message is "@<epoch>" then one
 * line per change, "<seq>|<version>|<deleted 0/1>|<origin>|<id>". The replay script answers lines of
 * the same shape (origin left empty), so both go through `parseChangeLine`.
 */
import { isValidPipelineId } from "../../../models";
import type { StorageChange } from "../../types";

/** A change with its place in the dataset's change sequence. */
export interface SequencedChange {
  seq: number;
  change: StorageChange;
}

/** "<seq>|<version>|<deleted>|<origin>|<id>": the id never holds "|", the origin (which may) is between. */
export function parseChangeLine(line: string, epoch?: string): SequencedChange | null {
  const a = line.indexOf("|");
  const b = line.indexOf("|", a + 1);
  const c = line.indexOf("|", b + 1);
  const d = line.lastIndexOf("|");
  if (a < 0 || b < 0 || c < 0 || d < c) return null;
  const seq = Number(line.slice(0, a));
  const version = Number(line.slice(a + 1, b));
  const origin = line.slice(c + 1, d);
  const pipelineId = line.slice(d + 1);
  const deleted = line.slice(b + 1, c);
  if (a === 0 || b === a + 1 || (deleted !== "0" && deleted !== "1")) return null;
  if (!Number.isSafeInteger(seq) || !Number.isFinite(version) || !isValidPipelineId(pipelineId)) return null;
  const change: StorageChange = { pipelineId, version, origin: origin || null, deleted: deleted === "1" };
  if (epoch) change.epoch = epoch;
  return { seq, change };
}

/** A published message: its epoch (undefined without the "@" line) and its changes, lines that do not parse left out. */
export function parseChangeMessage(message: string): { epoch: string | undefined; changes: SequencedChange[] } {
  // A merged batch of writes announces itself as one message, one change per line.
  let epoch: string | undefined;
  const changes: SequencedChange[] = [];
  for (const line of message.split("\n")) {
    if (line.startsWith("@")) {
      epoch = line.slice(1);
      continue;
    }
    const parsed = parseChangeLine(line, epoch);
    if (parsed) changes.push(parsed);
  }
  return { epoch, changes };
}
