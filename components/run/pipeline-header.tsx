"use client";
import type { ReactNode } from "react";
import type { PipelineStatusJSON } from "@/lib/tracking/models";
import { formatUtc } from "../ui/duration-format";
import { LiveDuration } from "../ui/live-duration";
import { STATUS_BADGE } from "../ui/status-style";

function Field({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="min-w-0">
      <dt className="text-xs font-medium uppercase tracking-wide text-subtle">{label}</dt>
      <dd className="mt-0.5 truncate text-sm">{children}</dd>
    </div>
  );
}

export function PipelineHeader({ run, children }: { run: PipelineStatusJSON; children?: ReactNode }) {
  const running = run.status === "RUNNING" || run.status === "PENDING";
  return (
    <section className="card p-5" aria-label="Run summary">
      <div className="flex flex-col gap-4 md:flex-row md:items-start md:justify-between">
        <div className="min-w-0">
          <div className="flex flex-wrap items-center gap-3">
            <h1 className="truncate text-xl font-semibold tracking-tight">{run.pipelineName ?? "Unnamed pipeline"}</h1>
            <span
              data-testid="pipeline-status"
              className={`rounded-full px-2.5 py-0.5 text-sm font-semibold ring-1 ring-inset ${STATUS_BADGE[run.status]}`}
            >
              {run.status}
            </span>
          </div>
          <p className="mt-1 break-all font-mono text-sm text-subtle">{run.pipelineId}</p>
        </div>
        <div className="flex shrink-0 flex-wrap gap-2">{children}</div>
      </div>
      <dl className="mt-5 grid grid-cols-2 gap-4 md:grid-cols-5">
        <Field label="Type">{run.pipelineType}</Field>
        <Field label="Steps">{run.steps.length}</Field>
        <Field label="Started (UTC)">
          <span title={formatUtc(run.startedAt)}>{formatUtc(run.startedAt).slice(0, 19)}</span>
        </Field>
        <Field label="Ended (UTC)">
          <span title={formatUtc(run.completedAt)}>{run.completedAt ? formatUtc(run.completedAt).slice(0, 19) : "—"}</span>
        </Field>
        <Field label="Duration">
          <span data-testid="pipeline-duration">
            <LiveDuration startedAt={run.startedAt} durationMs={run.durationMs} running={running} />
          </span>
        </Field>
      </dl>
      {run.error && (
        <div className="mt-4 rounded-md border border-rose-200 bg-rose-50 p-3 dark:border-rose-900 dark:bg-rose-950/50">
          <p className="text-xs font-semibold uppercase tracking-wide text-danger">Error</p>
          <pre
            className="mt-1 max-h-48 overflow-auto whitespace-pre-wrap break-words font-mono text-sm text-rose-900 dark:text-rose-200"
            data-testid="pipeline-error"
          >
            {run.error}
          </pre>
        </div>
      )}
    </section>
  );
}
