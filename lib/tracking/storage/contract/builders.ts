/** Run builders of the battery, without vitest: child processes of tests use them too. */
import type { PipelineStatus, Status, StepStatus } from "../../models";

export const DAY_MS = 86_400_000;
export const FINISHED: readonly Status[] = ["COMPLETED", "FAILED", "CANCELLED"];

let idCounter = 0;
/** A pipeline id no other test (or earlier run of this battery) uses. */
export function uniqueId(label: string): string {
  idCounter++;
  return `ct-${label}-${Date.now().toString(36)}-${idCounter}-${Math.random().toString(36).slice(2, 8)}`;
}

export function makeStep(stepName: string, fields: Partial<StepStatus> = {}): StepStatus {
  return {
    stepName,
    status: "PENDING",
    startedAt: null,
    completedAt: null,
    durationMs: null,
    result: null,
    error: null,
    dependsOn: [],
    attempts: 0,
    workerId: null,
    ...fields,
  };
}

/** A run in the shape the manager stores; finished statuses get completedAt/durationMs filled. */
export function makeRun(pipelineId: string, fields: Partial<PipelineStatus> = {}): PipelineStatus {
  const startedAt = fields.startedAt ?? new Date();
  const status = fields.status ?? "COMPLETED";
  const finished = FINISHED.includes(status);
  const durationMs = fields.durationMs !== undefined ? fields.durationMs : finished ? 1000 : null;
  return {
    pipelineId,
    pipelineName: "contract",
    status,
    pipelineType: "sequential",
    startedAt,
    completedAt: finished && durationMs !== null ? new Date(startedAt.getTime() + Math.round(durationMs)) : null,
    durationMs,
    steps: [makeStep("only", { status: finished ? "COMPLETED" : "PENDING" })],
    result: null,
    error: status === "FAILED" ? "boom" : null,
    ...fields,
  };
}
