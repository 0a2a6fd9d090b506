/**
 * A run's Redis hash ↔ `PipelineStatus` / `PipelineSummary` (field layout in keys.ts). Summaries are
 * read from three small fields (doc, ss, names) so a list page never loads steps or results. Anything
 * that does not decode (corrupt JSON, a foreign value under the prefix) throws `CorruptRecordError`
 * for that record only; lists skip it and log.
 */
import { toJsonSafe } from "../../json-safe";
import { STATUS_LETTER } from "../../status";
import {
  PIPELINE_ID_PATTERN,
  SUMMARY_ERROR_CHARS,
  STATUSES,
  parseStatus,
  type PipelineStatus,
  type PipelineSummary,
  type Status,
  type StepStatus,
} from "../../models";
import { stepRank } from "../step-order";

export class CorruptRecordError extends Error {
  constructor(
    readonly pipelineId: string,
    reason: string,
  ) {
    super(`Corrupt pipeline record "${pipelineId}" in Redis: ${reason}`);
    this.name = "CorruptRecordError";
  }
}

export function statusChar(status: Status): string {
  return STATUS_LETTER[status];
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value ?? null) ?? "null";
  } catch {
    // A status saved directly (not through the manager) may hold BigInt or cycles.
    return JSON.stringify(toJsonSafe(value));
  }
}

/** Separators of the packed script arguments (lua/includes/transport.lua): unit, record, group. */
const US = "\x1f";
const RS = "\x1e";
const GS = "\x1d";

/**
 * A string that may hold anything (a step or pipeline name, a failure reason) travels as its JSON
 * string literal, which never holds a control character, so it cannot break the packed record.
 */
export function tx(value: string): string {
  return JSON.stringify(value);
}

// toISOString is a visible cost at tens of thousands of transitions/s and most timestamps of a
// burst share their millisecond: a small direct-mapped cache of the last ones.
const ISO_SLOTS = 256;
const isoMs = new Float64Array(ISO_SLOTS).fill(NaN);
const isoText: string[] = new Array<string>(ISO_SLOTS).fill("");

function isoJson(d: Date | null): string {
  if (!d) return "null";
  const ms = d.getTime();
  const slot = ms & (ISO_SLOTS - 1);
  if (isoMs[slot] === ms) return isoText[slot]!;
  const text = `"${d.toISOString()}"`; // throws for an invalid date, as JSON.stringify would
  isoMs[slot] = ms;
  isoText[slot] = text;
  return text;
}
const jsonOrNull = (v: unknown): string => (v === null ? "null" : JSON.stringify(v));

/**
 * A step as JSON, written field by field: what `JSON.stringify(serializeStep(step))` gives (fields that
 * are undefined left out, so the decoder's defaults apply), without the intermediate object; this runs
 * for every transition.
 */
export function stepJson(step: StepStatus): string {
  let s = `{"stepName":${JSON.stringify(step.stepName)},"status":${JSON.stringify(step.status)}`;
  s += `,"startedAt":${isoJson(step.startedAt)},"completedAt":${isoJson(step.completedAt)}`;
  if (step.durationMs !== undefined) s += `,"durationMs":${jsonOrNull(step.durationMs)}`;
  s += `,"result":${safeJson(step.result)}`;
  if (step.error !== undefined) s += `,"error":${jsonOrNull(step.error)}`;
  if (step.dependsOn !== undefined) s += `,"dependsOn":${step.dependsOn.length === 0 ? "[]" : JSON.stringify(step.dependsOn)}`;
  if (step.attempts !== undefined) s += `,"attempts":${jsonOrNull(step.attempts)}`;
  if (step.workerId !== undefined) s += `,"workerId":${jsonOrNull(step.workerId)}`;
  return `${s}}`;
}

/** "<rank><step JSON>": the rank char lets the script refuse a backwards move without decoding. */
export function encodeStep(step: StepStatus): string {
  return `${stepRank(step.status)}${stepJson(step)}`;
}

/** One step write for the saveSteps script: id, name, status char, contribution, encoded step. */
export function stepRecord(pipelineId: string, step: StepStatus, contribution: string): string {
  return pipelineId + US + tx(step.stepName) + US + statusChar(step.status) + US + contribution + US + encodeStep(step) + RS;
}

export interface RunRecordParts {
  status: PipelineStatus;
  /** The run's rollup contribution (rollups.ts). */
  contribution: string;
  /** Epoch ms when the record expires, 0 for never. */
  expireAt: number;
  stepContribution: (step: StepStatus) => string;
}

/** One whole-run save for the saveStatus script (field order: lua/includes/save-runs.lua). */
export function runRecord({ status, contribution, expireAt, stepContribution }: RunRecordParts): string {
  const name = status.pipelineName;
  const lower = name === null ? "" : name.toLowerCase();
  let names = "";
  let ss = "";
  let steps = "";
  for (const step of status.steps) {
    const tname = tx(step.stepName);
    names += names ? `,${tname}` : tname;
    ss += statusChar(step.status);
    steps += GS + tname + US + stepContribution(step) + US + encodeStep(step);
  }
  return (
    status.pipelineId +
    US +
    status.status +
    US +
    status.startedAt.getTime() +
    US +
    (name === null ? "0" : "1") +
    US +
    tx(name ?? "") +
    US +
    (name !== null && lower !== name ? tx(lower) : "") +
    US +
    tx(contribution) +
    US +
    expireAt +
    US +
    ss +
    US +
    encodeDoc(status) +
    US +
    encodeResult(status.result) +
    US +
    `[${names}]` +
    steps +
    RS
  );
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
const STEP_CHARS = new RegExp(`^[${Object.values(STATUS_LETTER).join("")}]*$`);
const isNullableString = (v: unknown): v is string | null => v === null || typeof v === "string";

/** A summary from HMGET doc, ss, names; null when the run is gone. */
export function decodeSummary(id: string, doc: string | null, ss: string | null, namesText: string | null): PipelineSummary | null {
  if (doc === null && ss === null && namesText === null) return null;
  const d = parseJson(id, "doc", doc) as Partial<Record<keyof RunDoc, unknown>> | null;
  if (
    !d ||
    typeof d.pipelineId !== "string" ||
    !PIPELINE_ID_PATTERN.test(d.pipelineId) ||
    !STATUS_SET.has(String(d.status)) ||
    (d.pipelineType !== "sequential" && d.pipelineType !== "dataflow") ||
    typeof d.startedAt !== "string" ||
    !isNullableString(d.pipelineName) ||
    !isNullableString(d.completedAt) ||
    !isNullableString(d.error) ||
    !(d.durationMs === null || typeof d.durationMs === "number") ||
    typeof ss !== "string" ||
    !STEP_CHARS.test(ss)
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
