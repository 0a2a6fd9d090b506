"use client";
/** Cancel (while running), export JSON, delete (confirmed). */
import { useState } from "react";
import type { PipelineStatusJSON } from "@/lib/tracking/models";
import { fetchJson } from "../api/api-client";
import { DeleteRunDialog } from "./delete-run-dialog";
import { ExportMenu } from "./export-menu";

interface Props {
  run: PipelineStatusJSON;
  onChanged: (next: PipelineStatusJSON | null) => void;
  /** true when a delete starts, false when it failed (the run is still there). */
  onDeleting: (deleting: boolean) => void;
}

export function PipelineActions({ run, onChanged, onDeleting }: Props) {
  const [cancelling, setCancelling] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const active = run.status === "RUNNING" || run.status === "PENDING";

  const cancel = async () => {
    setCancelling(true);
    setError(null);
    try {
      const next = await fetchJson<PipelineStatusJSON>(`/api/pipelines/${encodeURIComponent(run.pipelineId)}/cancel`, { method: "POST" });
      onChanged(next);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
      onChanged(null);
    } finally {
      setCancelling(false);
    }
  };

  return (
    <div className="flex flex-col items-end gap-1">
      <div className="flex flex-wrap gap-2">
        {active && (
          <button type="button" className="btn" onClick={() => void cancel()} disabled={cancelling} data-testid="cancel-run">
            {cancelling ? "Cancelling…" : "Cancel run"}
          </button>
        )}
        <ExportMenu pipelineId={run.pipelineId} />
        <DeleteRunDialog
          pipelineId={run.pipelineId}
          onDeleting={onDeleting}
          onFailed={(message) => setError(message && `Delete failed: ${message}`)}
        />
      </div>
      {error && (
        <p role="alert" className="text-xs text-danger" data-testid="action-error">
          {error}
        </p>
      )}
    </div>
  );
}
