/**
 * How the memory storage holds a run: dates as epoch milliseconds and one shared empty
 * `dependsOn`, which halves the memory per finished 10-step run (a `Date` is ~60 bytes, and an
 * empty array per step adds up; see bench/results/core.md). Stored runs are never mutated in
 * place — a write replaces the object — so a reference to one is a stable snapshot.
 */
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

const ms = (d: Date | null): number | null => (d === null ? null : d.getTime());
const date = (n: number | null): Date | null => (n === null ? null : new Date(n));

export function toStoredStep(step: StepStatus): StoredStep {
  return {
    stepName: step.stepName,
    status: step.status,
    startedAt: ms(step.startedAt),
    completedAt: ms(step.completedAt),
    durationMs: step.durationMs,
    result: step.result,
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
    result: status.result,
    error: status.error,
  };
}

/** A fresh `PipelineStatus` that shares nothing mutable with the store but the (JSON-safe) results. */
export function fromStoredRun(run: StoredRun): PipelineStatus {
  return {
    pipelineId: run.pipelineId,
    pipelineName: run.pipelineName,
    status: run.status,
    pipelineType: run.pipelineType,
    startedAt: new Date(run.startedAt),
    completedAt: date(run.completedAt),
    durationMs: run.durationMs,
    steps: run.steps.map((s) => ({
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
    })),
    result: run.result,
    error: run.error,
  };
}
