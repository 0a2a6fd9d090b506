/**
 * A run's Redis hash ↔ `PipelineStatus` / `PipelineSummary` (field layout in keys.ts). Summaries are
 * read from three small fields (doc, ss, names) so a list page never loads steps or results. Anything
 * that does not decode (corrupt JSON, a foreign value under the prefix) throws `CorruptRecordError`
 * for that record only; lists skip it and log.
 */
import { toJsonSafe } from "../json-safe";
import {
  PIPELINE_ID_PATTERN, SUMMARY_ERROR_CHARS, STATUSES, parseStatus, serializeStep,
  type PipelineStatus, type PipelineSummary, type Status, type StepStatus,
} from "../models";
import { stepRank } from "./step-order";

export class CorruptRecordError extends Error {
  constructor(readonly pipelineId: string, reason: string) {
    super(`Corrupt pipeline record "${pipelineId}" in Redis: ${reason}`);
    this.name = "CorruptRecordError";
  }
}

const STATUS_CHAR: Record<Status, string> = { PENDING: "P", RUNNING: "R", COMPLETED: "C", FAILED: "F", CANCELLED: "X" };

export function statusChar(status: Status): string {
  return STATUS_CHAR[status];
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value ?? null) ?? "null";
  } catch {
    // A status saved directly (not through the manager) may hold BigInt or cycles.
    return JSON.stringify(toJsonSafe(value));
  }
}

/** "<rank><step JSON>": the rank char lets the script refuse a backwards move without decoding. */
export function encodeStep(step: StepStatus): string {
  const json = serializeStep(step);
  return `${stepRank(step.status)}${safeJson(json)}`;
}

interface RunDoc {
  pipelineId: string;
  pipelineName: string | null;
  status: Status;
  pipelineType: "sequential" | "dataflow";
  startedAt: string;
  completedAt: string | null;
  durationMs: number | null;
  error: string | null;
}

export function encodeDoc(status: PipelineStatus): string {
  const doc: RunDoc = {
    pipelineId: status.pipelineId,
    pipelineName: status.pipelineName,
    status: status.status,
    pipelineType: status.pipelineType,
    startedAt: status.startedAt.toISOString(),
    completedAt: status.completedAt ? status.completedAt.toISOString() : null,
    durationMs: status.durationMs,
    error: status.error,
  };
  return JSON.stringify(doc);
}

export function encodeResult(result: unknown): string {
  return safeJson(result);
}

function parseJson(id: string, what: string, text: string | undefined | null): unknown {
  if (text === undefined || text === null) throw new CorruptRecordError(id, `missing ${what}`);
  try {
    return JSON.parse(text);
  } catch {
    throw new CorruptRecordError(id, `${what} is not JSON`);
  }
}

function parseNames(id: string, text: string | undefined | null): string[] {
  const names = parseJson(id, "step names", text);
  if (!Array.isArray(names) || !names.every((n) => typeof n === "string")) throw new CorruptRecordError(id, "bad step names");
  return names;
}

/** The full run from HGETALL's answer; null when the hash is empty (no such run). */
export function decodeRun(id: string, hash: Record<string, string>): PipelineStatus | null {
  if (!hash || Object.keys(hash).length === 0) return null;
  const doc = parseJson(id, "doc", hash.doc) as Record<string, unknown>;
  const names = parseNames(id, hash.names);
  const steps = names.map((name) => {
    const raw = hash[`s:${name}`];
    return parseJson(id, `step ${name}`, raw === undefined ? undefined : raw.slice(1));
  });
  try {
    return parseStatus({ ...doc, result: parseJson(id, "result", hash.res ?? "null"), steps });
  } catch (err) {
    throw new CorruptRecordError(id, err instanceof Error ? err.message : String(err));
  }
}

const STATUS_SET = new Set<string>(STATUSES);
const isNullableString = (v: unknown): v is string | null => v === null || typeof v === "string";

/** A summary from HMGET doc, ss, names; null when the run is gone. */
export function decodeSummary(id: string, doc: string | null, ss: string | null, namesText: string | null): PipelineSummary | null {
  if (doc === null && ss === null && namesText === null) return null;
  const d = parseJson(id, "doc", doc) as Partial<Record<keyof RunDoc, unknown>> | null;
  if (
    !d || typeof d.pipelineId !== "string" || !PIPELINE_ID_PATTERN.test(d.pipelineId) || !STATUS_SET.has(String(d.status))
    || (d.pipelineType !== "sequential" && d.pipelineType !== "dataflow") || typeof d.startedAt !== "string"
    || !isNullableString(d.pipelineName) || !isNullableString(d.completedAt) || !isNullableString(d.error)
    || !(d.durationMs === null || typeof d.durationMs === "number") || typeof ss !== "string"
  ) {
    throw new CorruptRecordError(id, "doc does not describe a run");
  }
  const names = parseNames(id, namesText);
  let stepsCompleted = 0;
  let stepsFailed = 0;
  let currentStep: string | null = null;
  for (let i = 0; i < ss.length; i++) {
    const c = ss[i];
    if (c === "C") stepsCompleted++;
    else if (c === "F") stepsFailed++;
    else if (c === "R" && currentStep === null) currentStep = names[i] ?? null;
  }
  return {
    pipelineId: d.pipelineId,
    pipelineName: d.pipelineName,
    status: d.status as Status,
    pipelineType: d.pipelineType,
    startedAt: d.startedAt,
    completedAt: d.completedAt,
    durationMs: d.durationMs,
    error: d.error === null ? null : d.error.slice(0, SUMMARY_ERROR_CHARS),
    stepsTotal: ss.length,
    stepsCompleted,
    stepsFailed,
    currentStep,
  };
}
