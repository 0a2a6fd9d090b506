/**
 * The tracking data model (docs/api.md describes its JSON). Dates are `Date` in memory and ISO-8601 UTC strings in
 * JSON; `serializeStatus` / `parseStatus` convert between the two and are the only place that does.
 */
import { z } from "zod";
import { STATUSES, type Status } from "./status";

export { STATUSES, isFinished, type Status } from "./status";

export type PipelineType = "sequential" | "dataflow";

export interface StepStatus {
  stepName: string;
  status: Status;
  startedAt: Date | null;
  completedAt: Date | null;
  durationMs: number | null;
  /** JSON-safe (see `toJsonSafe`). */
  result: unknown;
  error: string | null;
  dependsOn: string[];
  /** 1 unless retried: one more for every retry; a step that never started has 1. */
  attempts: number;
  /** Who ran the step (the broker's worker id). */
  workerId: string | null;
}

export interface PipelineStatus {
  pipelineId: string;
  pipelineName: string | null;
  status: Status;
  pipelineType: PipelineType;
  startedAt: Date;
  completedAt: Date | null;
  durationMs: number | null;
  /** Every declared step, in declaration order, from the moment the run is stored. */
  steps: StepStatus[];
  result: unknown;
  error: string | null;
}

/** What lists and live list updates carry: no results, error cut to 200 chars. */
export interface PipelineSummary {
  pipelineId: string;
  pipelineName: string | null;
  status: Status;
  pipelineType: PipelineType;
  startedAt: string;
  completedAt: string | null;
  durationMs: number | null;
  error: string | null;
  stepsTotal: number;
  stepsCompleted: number;
  stepsFailed: number;
  currentStep: string | null;
}

export const SUMMARY_ERROR_CHARS = 200;
export const PIPELINE_ID_PATTERN = /^[A-Za-z0-9._:-]{1,200}$/;

export function isValidPipelineId(id: unknown): id is string {
  return typeof id === "string" && PIPELINE_ID_PATTERN.test(id);
}

export function assertPipelineId(id: unknown): asserts id is string {
  if (!isValidPipelineId(id)) {
    throw new TypeError(`Invalid pipelineId ${JSON.stringify(String(id).slice(0, 60))}: expected 1-200 characters of [A-Za-z0-9._:-]`);
  }
}

export function summarize(status: PipelineStatus): PipelineSummary {
  let stepsCompleted = 0;
  let stepsFailed = 0;
  let currentStep: string | null = null;
  for (const step of status.steps) {
    if (step.status === "COMPLETED") stepsCompleted++;
    else if (step.status === "FAILED") stepsFailed++;
    else if (step.status === "RUNNING" && currentStep === null) currentStep = step.stepName;
  }
  return {
    pipelineId: status.pipelineId,
    pipelineName: status.pipelineName,
    status: status.status,
    pipelineType: status.pipelineType,
    startedAt: status.startedAt.toISOString(),
    completedAt: status.completedAt ? status.completedAt.toISOString() : null,
    durationMs: status.durationMs,
    error: status.error === null ? null : status.error.slice(0, SUMMARY_ERROR_CHARS),
    stepsTotal: status.steps.length,
    stepsCompleted,
    stepsFailed,
    currentStep,
  };
}

/** A copy that shares nothing mutable with the original but the (immutable, JSON-safe) results. */
export function cloneStatus(status: PipelineStatus): PipelineStatus {
  return { ...status, steps: status.steps.map(cloneStep) };
}

export function cloneStep(step: StepStatus): StepStatus {
  return { ...step, dependsOn: step.dependsOn.slice() };
}

// ---- JSON form -------------------------------------------------------------------------------

export type StepStatusJSON = Omit<StepStatus, "startedAt" | "completedAt"> & {
  startedAt: string | null;
  completedAt: string | null;
};
export type PipelineStatusJSON = Omit<PipelineStatus, "startedAt" | "completedAt" | "steps"> & {
  startedAt: string;
  completedAt: string | null;
  steps: StepStatusJSON[];
};

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

export function serializeStep(step: StepStatus): StepStatusJSON {
  return { ...step, startedAt: iso(step.startedAt), completedAt: iso(step.completedAt) };
}

export function serializeStatus(status: PipelineStatus): PipelineStatusJSON {
  return {
    ...status,
    startedAt: status.startedAt.toISOString(),
    completedAt: iso(status.completedAt),
    steps: status.steps.map(serializeStep),
  };
}

const statusSchema = z.enum(STATUSES);
const dateSchema = z.iso.datetime({ offset: true }).transform((s) => new Date(s));
const nullableDate = dateSchema.nullable();

export const stepStatusSchema = z.object({
  stepName: z.string().min(1),
  status: statusSchema,
  startedAt: nullableDate,
  completedAt: nullableDate,
  durationMs: z.number().nonnegative().nullable(),
  result: z.unknown().transform((v) => (v === undefined ? null : v)),
  error: z.string().nullable(),
  dependsOn: z.array(z.string()).default([]),
  attempts: z.number().int().nonnegative().default(1),
  workerId: z.string().nullable().default(null),
});

export const pipelineStatusSchema = z.object({
  pipelineId: z.string().regex(PIPELINE_ID_PATTERN),
  pipelineName: z.string().nullable().default(null),
  status: statusSchema,
  pipelineType: z.enum(["sequential", "dataflow"]),
  startedAt: dateSchema,
  completedAt: nullableDate,
  durationMs: z.number().nonnegative().nullable(),
  steps: z.array(stepStatusSchema),
  result: z.unknown().transform((v) => (v === undefined ? null : v)),
  error: z.string().nullable(),
});

/** Parse the JSON form (from Redis, a file, an API) back into a `PipelineStatus`; throws on bad data. */
export function parseStatus(json: unknown): PipelineStatus {
  const parsed = pipelineStatusSchema.safeParse(json);
  if (!parsed.success) {
    throw new Error(`Invalid pipeline status: ${z.prettifyError(parsed.error)}`);
  }
  return parsed.data;
}
