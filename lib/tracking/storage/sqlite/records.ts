/**
 * How a run is kept in its row: scalar columns for what lists filter, sort and summarise by, the
 * steps as one compact JSON array ([name, status letter, startedAt, completedAt, durationMs,
 * result, error, dependsOn, attempts, workerId] per step), the result as JSON. A row that does not
 * decode throws `CorruptRecordError` for that run only; lists skip it and log.
 */
import { STATUSES, SUMMARY_ERROR_CHARS, type PipelineStatus, type PipelineSummary, type PipelineType, type Status } from "../../models";
import { STATUS_LETTER, STATUS_OF_LETTER } from "../../status";
import { fromStoredRun, type StoredRun, type StoredStep } from "../compact";

export class CorruptRecordError extends Error {
  constructor(
    readonly pipelineId: string,
    reason: string,
  ) {
    super(`Corrupt pipeline record "${pipelineId}" in SQLite: ${reason}`);
    this.name = "CorruptRecordError";
  }
}

/** A run as a write batch holds it: the run plus its lease and expiry columns. */
export interface RunState {
  run: StoredRun;
  leaseWorker: string | null;
  /** Epoch ms by the database's clock. */
  leaseUntil: number | null;
  expireAt: number | null;
  /** Length of the steps column as last read or written: the write queue holds only small runs. */
  bytes?: number;
}

/** The columns every full read selects. */
export const RUN_COLUMNS =
  "id, name, status, type, started_at, completed_at, duration_ms, error, result, steps, lease_worker, lease_until, expire_at";

export interface RunRow {
  id: string;
  name: string | null;
  status: string;
  type: string;
  started_at: number;
  completed_at: number | null;
  duration_ms: number | null;
  error: string | null;
  result: string;
  steps: string;
  lease_worker: string | null;
  lease_until: number | null;
  expire_at: number | null;
}

export const SUMMARY_COLUMNS =
  "id, name, status, type, started_at, completed_at, duration_ms, error, steps_total, steps_completed, steps_failed, current_step";

export interface SummaryRow {
  id: string;
  name: string | null;
  status: string;
  type: string;
  started_at: number;
  completed_at: number | null;
  duration_ms: number | null;
  error: string | null;
  steps_total: number;
  steps_completed: number;
  steps_failed: number;
  current_step: string | null;
}

const VALID_STATUS = new Set<string>(STATUSES);

/** Each step's JSON, kept while the (immutable) step object lives: a write re-encodes only the step that changed. */
const stepJson = new WeakMap<StoredStep, string>();

function encodeStep(s: StoredStep): string {
  let json = stepJson.get(s);
  if (json === undefined) {
    json = JSON.stringify([
      s.stepName,
      STATUS_LETTER[s.status],
      s.startedAt,
      s.completedAt,
      s.durationMs,
      s.result ?? null,
      s.error,
      s.dependsOn,
      s.attempts,
      s.workerId,
    ]);
    stepJson.set(s, json);
  }
  return json;
}

export function encodeSteps(steps: readonly StoredStep[]): string {
  return `[${steps.map(encodeStep).join(",")}]`;
}

type StepTuple = [string, string, number | null, number | null, number | null, unknown, string | null, string[], number, string | null];

function decodeSteps(id: string, text: string): StoredStep[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CorruptRecordError(id, "steps are not JSON");
  }
  if (!Array.isArray(parsed)) throw new CorruptRecordError(id, "steps are not an array");
  return parsed.map((entry: unknown) => {
    const t = entry as StepTuple;
    const status = Array.isArray(t) ? STATUS_OF_LETTER[t[1]] : undefined;
    if (!Array.isArray(t) || typeof t[0] !== "string" || !status || !Array.isArray(t[7])) {
      throw new CorruptRecordError(id, "a step is malformed");
    }
    return {
      stepName: t[0],
      status,
      startedAt: t[2],
      completedAt: t[3],
      durationMs: t[4],
      result: t[5],
      error: t[6],
      dependsOn: t[7],
      attempts: t[8],
      workerId: t[9],
    };
  });
}

export function decodeRow(row: RunRow): RunState {
  if (!VALID_STATUS.has(row.status)) throw new CorruptRecordError(row.id, `unknown status ${JSON.stringify(row.status)}`);
  let result: unknown;
  try {
    result = JSON.parse(row.result);
  } catch {
    throw new CorruptRecordError(row.id, "result is not JSON");
  }
  return {
    run: {
      pipelineId: row.id,
      pipelineName: row.name,
      status: row.status as Status,
      pipelineType: row.type as PipelineType,
      startedAt: row.started_at,
      completedAt: row.completed_at,
      durationMs: row.duration_ms,
      steps: decodeSteps(row.id, row.steps),
      result,
      error: row.error,
    },
    leaseWorker: row.lease_worker,
    leaseUntil: row.lease_until,
    expireAt: row.expire_at,
    bytes: row.steps.length,
  };
}

export const statusOfRow = (row: RunRow): PipelineStatus => fromStoredRun(decodeRow(row).run);

/** The steps column and the summary columns computed from the steps, in `updateSteps`' order (batch.ts). */
export function stepValues(run: StoredRun): [string, number, number, number, string | null, string] {
  let completed = 0;
  let failed = 0;
  let current: string | null = null;
  for (const step of run.steps) {
    if (step.status === "COMPLETED") completed++;
    else if (step.status === "FAILED") failed++;
    else if (step.status === "RUNNING" && current === null) current = step.stepName;
  }
  return [encodeSteps(run.steps), run.steps.length, completed, failed, current, run.pipelineId];
}

/** Every column's value. */
export function rowParams(state: RunState): Record<string, string | number | null> {
  const { run } = state;
  const [steps, total, completed, failed, current] = stepValues(run);
  return {
    steps,
    steps_total: total,
    steps_completed: completed,
    steps_failed: failed,
    current_step: current,
    id: run.pipelineId,
    name: run.pipelineName,
    status: run.status,
    type: run.pipelineType,
    started_at: run.startedAt,
    completed_at: run.completedAt,
    duration_ms: run.durationMs,
    error: run.error,
    result: JSON.stringify(run.result ?? null),
    lease_worker: state.leaseWorker,
    lease_until: state.leaseUntil,
    expire_at: state.expireAt,
  };
}

export function summaryOfRow(row: SummaryRow): PipelineSummary {
  return {
    pipelineId: row.id,
    pipelineName: row.name,
    status: row.status as Status,
    pipelineType: row.type as PipelineType,
    startedAt: new Date(row.started_at).toISOString(),
    completedAt: row.completed_at === null ? null : new Date(row.completed_at).toISOString(),
    durationMs: row.duration_ms,
    error: row.error === null ? null : row.error.slice(0, SUMMARY_ERROR_CHARS),
    stepsTotal: row.steps_total,
    stepsCompleted: row.steps_completed,
    stepsFailed: row.steps_failed,
    currentStep: row.current_step,
  };
}
