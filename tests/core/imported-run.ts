/** A finished (or still running) run saved straight into storage, as an import of older data would, for the usage examples. */
import type { PipelineStatus } from "../../lib";

export const DAY_MS = 86_400_000;

export function importedRun(pipelineId: string, startedAt: Date, status: PipelineStatus["status"] = "COMPLETED"): PipelineStatus {
  return {
    pipelineId,
    pipelineName: "import",
    status,
    pipelineType: "sequential",
    startedAt,
    completedAt: status === "RUNNING" ? null : new Date(startedAt.getTime() + 1000),
    durationMs: status === "RUNNING" ? null : 1000,
    result: null,
    error: status === "FAILED" ? "old failure" : null,
    steps: [
      {
        stepName: "only",
        status: status === "RUNNING" ? "RUNNING" : "COMPLETED",
        startedAt,
        completedAt: null,
        durationMs: null,
        result: null,
        error: null,
        dependsOn: [],
        attempts: 1,
        workerId: null,
      },
    ],
  };
}
