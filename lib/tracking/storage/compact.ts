/**
 * How the memory storage holds a run still in progress: dates as epoch milliseconds and one
 * shared empty `dependsOn` (a `Date` is ~60 bytes, and an empty array per step adds up). Results
 * are held only as immutable JSON-safe values (see `storable`). Stored runs are never mutated in
 * place — a write replaces the object — so a reference to one is a stable snapshot. A finished
 * run is sealed into a far smaller form (sealed-run.ts).
 */
import { isStorableAsIs, toJsonSafe } from "../json-safe";
import type { PipelineStatus, StepStatus } from "../models";

export interface StoredStep extends Omit<StepStatus, "startedAt" | "completedAt" | "dependsOn"> {
  startedAt: number | null;
  completedAt: number | null;
  dependsOn: readonly string[];
}

export interface StoredRun extends Omit<PipelineStatus, "startedAt" | "completedAt" | "steps"> {
  startedAt: number;
  completedAt: number | null;
  steps: readonly StoredStep[];
}

const NO_DEPENDENCIES: readonly string[] = Object.freeze([]);

/**
 * A result the store may keep by reference: the manager's results are already frozen JSON-safe
 * copies; anything else (a storage written to directly) is copied so its owner cannot change it.
 */
export const storable = (value: unknown): unknown => (isStorableAsIs(value) ? value : toJsonSafe(value, Infinity));

const ms = (d: Date | null): number | null => (d === null ? null : d.getTime());
const date = (n: number | null): Date | null => (n === null ? null : new Date(n));

export function toStoredStep(step: StepStatus): StoredStep {
  return {
    stepName: step.stepName,
    status: step.status,
    startedAt: ms(step.startedAt),
    completedAt: ms(step.completedAt),
    durationMs: step.durationMs,
    result: storable(step.result),
    error: step.error,
    dependsOn: step.dependsOn.length === 0 ? NO_DEPENDENCIES : step.dependsOn.slice(),
    attempts: step.attempts,
    workerId: step.workerId,
  };
}

export function toStoredRun(status: PipelineStatus): StoredRun {
  return {
    pipelineId: status.pipelineId,
    pipelineName: status.pipelineName,
    status: status.status,
    pipelineType: status.pipelineType,
    startedAt: status.startedAt.getTime(),
    completedAt: ms(status.completedAt),
    durationMs: status.durationMs,
    steps: status.steps.map(toStoredStep),
    result: storable(status.result),
    error: status.error,
  };
}

export function fromStoredStep(s: StoredStep): StepStatus {
  return {
    stepName: s.stepName,
    status: s.status,
    startedAt: date(s.startedAt),
    completedAt: date(s.completedAt),
    durationMs: s.durationMs,
    result: s.result,
    error: s.error,
    dependsOn: s.dependsOn.slice(),
    attempts: s.attempts,
    workerId: s.workerId,
  };
}

/** A fresh `PipelineStatus` that shares nothing mutable with the store (results are frozen). */
export function fromStoredRun(run: StoredRun): PipelineStatus {
  return {
    pipelineId: run.pipelineId,
    pipelineName: run.pipelineName,
    status: run.status,
    pipelineType: run.pipelineType,
    startedAt: new Date(run.startedAt),
    completedAt: date(run.completedAt),
    durationMs: run.durationMs,
    steps: run.steps.map(fromStoredStep),
    result: run.result,
    error: run.error,
  };
}
