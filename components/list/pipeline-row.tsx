"use client";
import Link from "next/link";
import { memo } from "react";
import type { PipelineSummary } from "@/lib/tracking/models";
import { LiveDuration } from "../ui/live-duration";
import { RelativeTime } from "../ui/relative-time";
import { StatusBadge } from "../ui/status-badge";
import { StepProgress } from "./step-progress";

/** Column template shared by the header and every row, so they line up without a <table>. */
export const LIST_COLUMNS =
  "grid grid-cols-[minmax(0,1fr)_auto] md:grid-cols-[minmax(0,2.2fr)_minmax(0,1.4fr)_88px_110px_140px_96px_84px_minmax(0,2fr)] items-center gap-x-3";

const HIDE_SMALL = "hidden md:block";
/** Phones (~390 px) show two columns: the id with the name under it, and the status. */
const SMALL_ONLY = "md:hidden";

interface RowProps {
  summary: PipelineSummary;
  /** No longer matches the filter: shown highlighted for a moment, then removed. */
  leaving: boolean;
  /** aria-rowindex: 1 is the header. */
  rowIndex: number;
  /** Pixel offset inside the virtual list. */
  top: number;
  height: number;
}

export const PipelineRow = memo(function PipelineRow({ summary, leaving, rowIndex, top, height }: RowProps) {
  const running = summary.status === "RUNNING" || summary.status === "PENDING";
  return (
    <div
      role="row"
      aria-rowindex={rowIndex}
      style={{ position: "absolute", top: 0, left: 0, width: "100%", height, transform: `translateY(${top}px)` }}
      data-testid="pipeline-row"
      data-pipeline-id={summary.pipelineId}
      data-status={summary.status}
      data-leaving={leaving || undefined}
      title={leaving ? "No longer matches this filter" : undefined}
      className={`${LIST_COLUMNS} border-b border-zinc-100 px-4 text-sm transition-[opacity,background-color] duration-700 dark:border-zinc-800 ${
        leaving ? "bg-amber-50 opacity-60 dark:bg-amber-950/40" : "hover:bg-zinc-50 dark:hover:bg-zinc-800/50"
      }`}
    >
      <div role="cell" className="min-w-0">
        <Link
          href={`/pipelines/${encodeURIComponent(summary.pipelineId)}`}
          className="block truncate rounded font-mono text-[13px] text-accent hover:underline focus-ring"
          title={summary.pipelineId}
        >
          {summary.pipelineId}
        </Link>
        {summary.currentStep && (
          <div className={`${HIDE_SMALL} truncate text-xs text-subtle`} title={`Running step: ${summary.currentStep}`}>
            ▸ {summary.currentStep}
          </div>
        )}
        <div className={`${SMALL_ONLY} truncate text-xs text-subtle`}>
          {summary.pipelineName ?? "unnamed"}
          {summary.currentStep && ` · ▸ ${summary.currentStep}`}
        </div>
      </div>
      <div role="cell" className={`${HIDE_SMALL} truncate`} title={summary.pipelineName ?? undefined}>
        {summary.pipelineName ?? <span className="text-subtle">unnamed</span>}
      </div>
      <div role="cell" className={`${HIDE_SMALL} text-xs text-muted`}>
        {summary.pipelineType}
      </div>
      <div role="cell">
        <StatusBadge status={summary.status} />
      </div>
      <div role="cell" className={HIDE_SMALL}>
        <StepProgress total={summary.stepsTotal} completed={summary.stepsCompleted} failed={summary.stepsFailed} />
      </div>
      <div role="cell" className={`${HIDE_SMALL} text-xs text-muted`}>
        <RelativeTime iso={summary.startedAt} />
      </div>
      <div role="cell" className={`${HIDE_SMALL} text-xs`}>
        <LiveDuration startedAt={summary.startedAt} durationMs={summary.durationMs} running={running} />
      </div>
      <div role="cell" className={`${HIDE_SMALL} truncate text-xs text-danger`} title={summary.error ?? undefined}>
        {summary.error}
      </div>
    </div>
  );
});

export function PipelineListHeader() {
  const cell = "text-xs font-semibold uppercase tracking-wide text-subtle";
  return (
    <div role="row" className={`${LIST_COLUMNS} h-10 border-b border-zinc-200 px-4 dark:border-zinc-800`}>
      <div role="columnheader" className={cell}>
        Run id
      </div>
      <div role="columnheader" className={`${cell} ${HIDE_SMALL}`}>
        Name
      </div>
      <div role="columnheader" className={`${cell} ${HIDE_SMALL}`}>
        Type
      </div>
      <div role="columnheader" className={cell}>
        Status
      </div>
      <div role="columnheader" className={`${cell} ${HIDE_SMALL}`}>
        Steps
      </div>
      <div role="columnheader" className={`${cell} ${HIDE_SMALL}`}>
        Started
      </div>
      <div role="columnheader" className={`${cell} ${HIDE_SMALL}`}>
        Duration
      </div>
      <div role="columnheader" className={`${cell} ${HIDE_SMALL}`}>
        Error
      </div>
    </div>
  );
}
