"use client";
import Link from "next/link";
import type { PipelineStatusJSON } from "@/lib/tracking/models";
import { PipelineActions } from "./pipeline-actions";
import { PipelineHeader } from "./pipeline-header";
import { StepTable } from "./step-table";
import { StepTimeline } from "./step-timeline";
import { useLivePipeline } from "./use-live-pipeline";

/** The run detail page: header, Gantt timeline and step table, all following the run live. */
export function PipelineDetail({ initial }: { initial: PipelineStatusJSON }) {
  const { run, setRun, deleted, refetch, setDeleting } = useLivePipeline(initial);
  return (
    <div className="space-y-6">
      <nav aria-label="Breadcrumb" className="text-sm text-subtle">
        <Link href="/" className="rounded hover:text-zinc-900 hover:underline dark:hover:text-white focus-ring">
          Pipelines
        </Link>
        <span aria-hidden="true"> / </span>
        <span className="font-mono">{run.pipelineId}</span>
      </nav>
      {deleted && (
        <p
          role="alert"
          className="rounded-md border border-amber-300 bg-amber-50 p-3 text-sm text-amber-900 dark:border-amber-700 dark:bg-amber-950 dark:text-amber-200"
        >
          This run has been deleted. What you see is its last known state.
        </p>
      )}
      <PipelineHeader run={run}>
        {!deleted && <PipelineActions run={run} onChanged={(next) => (next ? setRun(next) : void refetch())} onDeleting={setDeleting} />}
      </PipelineHeader>
      <section className="card p-5" aria-labelledby="timeline-title">
        <h2 id="timeline-title" className="mb-4 text-sm font-semibold uppercase tracking-wide text-subtle">
          Step timeline
        </h2>
        <StepTimeline run={run} />
      </section>
      <section className="card" aria-labelledby="steps-title">
        <h2 id="steps-title" className="px-5 pt-5 text-sm font-semibold uppercase tracking-wide text-subtle">
          Steps
        </h2>
        <StepTable steps={run.steps} />
      </section>
    </div>
  );
}
