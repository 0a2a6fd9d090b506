/**
 * The final state of a run whose worker stopped renewing its lease: what every storage's sweep
 * writes, so a run lost by a dead process reads the same whichever storage or sweeper ended it.
 */
import { isFinished, type PipelineStatus, type StepStatus } from "../models";

/** Every lease-sweep error starts with this, followed by the worker's id. */
export const WORKER_LOST_PREFIX = "worker lost: ";

export function workerLostMessage(workerId: string): string {
  return `${WORKER_LOST_PREFIX}${workerId} (lease expired)`;
}

/** FAILED at `nowMs`: RUNNING steps FAILED with the same error, steps never started CANCELLED. */
export function lostWorkerStatus(run: PipelineStatus, workerId: string, nowMs: number): PipelineStatus {
  const now = new Date(Math.max(nowMs, run.startedAt.getTime()));
  const error = workerLostMessage(workerId);
  const steps = run.steps.map((step): StepStatus => {
    if (isFinished(step.status)) return step;
    const startedAt = step.startedAt;
    const durationMs = startedAt ? Math.max(0, now.getTime() - startedAt.getTime()) : null;
    if (step.status === "RUNNING") return { ...step, status: "FAILED", completedAt: now, durationMs, error };
    return { ...step, status: "CANCELLED", completedAt: startedAt ? now : null, durationMs };
  });
  return {
    ...run,
    status: "FAILED",
    completedAt: now,
    durationMs: Math.max(0, now.getTime() - run.startedAt.getTime()),
    error,
    steps,
  };
}
