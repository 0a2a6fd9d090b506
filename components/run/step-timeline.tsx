"use client";
/**
 * Gantt view of a run: one bar per declared step (pending ones included), placed by its start and
 * end relative to the run's start. Running bars grow with the shared clock. Dataflow runs are
 * grouped by stage, each step naming what it waits for.
 */
import { memo } from "react";
import type { PipelineStatusJSON, StepStatusJSON } from "@/lib/tracking/models";
import { formatDuration, formatUtc } from "../ui/duration-format";
import { STATUS_FILL } from "../ui/status-style";
import { stepStages } from "./step-depth";
import { useNow } from "../ui/use-now";

const ms = (iso: string | null) => (iso ? new Date(iso).getTime() : null);
const COLUMNS = "grid grid-cols-[200px_1fr_64px] gap-x-4";

/** Axis ticks at round offsets (250 ms, 2 s, 5 min…): about four steps across the run. */
function axisTicks(span: number): number[] {
  const rough = span / 4;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = ([1, 2, 2.5, 5, 10].find((m) => m * magnitude >= rough) ?? 10) * magnitude;
  const ticks: number[] = [];
  for (let t = 0; t <= span + 1e-9; t += step) ticks.push(t);
  return ticks;
}

/** Ticks sit on round offsets, so "+1 s" rather than formatDuration's "+1.00 s". */
function formatTick(t: number): string {
  if (t >= 1000 && t < 60_000) return `${Number((t / 1000).toFixed(2))} s`;
  if (t >= 60_000 && t < 3_600_000 && t % 60_000 === 0) return `${t / 60_000} min`;
  if (t >= 3_600_000 && t % 3_600_000 === 0) return `${t / 3_600_000} h`;
  return formatDuration(t);
}

function runWindow(run: PipelineStatusJSON, now: number): { start: number; span: number } {
  const start = new Date(run.startedAt).getTime();
  let end = ms(run.completedAt) ?? (now > 0 ? now : start);
  for (const s of run.steps) end = Math.max(end, ms(s.completedAt) ?? ms(s.startedAt) ?? end);
  return { start, span: Math.max(end - start, 1) };
}

function barTitle(step: StepStatusJSON, runningFor: number | null): string {
  const lines = [`${step.stepName} — ${step.status}`, `start: ${formatUtc(step.startedAt)}`];
  if (step.completedAt) lines.push(`end: ${formatUtc(step.completedAt)}`);
  if (step.durationMs !== null) lines.push(`duration: ${formatDuration(step.durationMs)}`);
  else if (runningFor !== null) lines.push(`running for ${formatDuration(runningFor)}`);
  if (step.dependsOn.length) lines.push(`after: ${step.dependsOn.join(", ")}`);
  return lines.join("\n");
}

/**
 * One step's bar. Memoized on plain values: a live update of one step re-renders that row alone,
 * not every bar of a long run (the run's window, and with it the others' places, moves only with
 * the shared clock's tick).
 */
const TimelineRow = memo(function TimelineRow({
  step,
  stage,
  left,
  width,
  runningFor,
}: {
  step: StepStatusJSON;
  /** The stage this row opens (dataflow), or null. */
  stage: number | null;
  left: string;
  /** Null for a step that has not started: a dashed placeholder to the end of the window. */
  width: string | null;
  runningFor: number | null;
}) {
  const placeholder = width === null;
  return (
    <li>
      {stage !== null && (
        <p className="mt-2 border-t border-dashed border-zinc-200 pt-1 text-[11px] font-semibold uppercase tracking-wide text-subtle dark:border-zinc-700">
          Stage {stage + 1}
        </p>
      )}
      <div className={`${COLUMNS} items-center py-1`}>
        <div className="min-w-0 text-sm">
          <p className="truncate font-medium" title={step.stepName}>
            {step.stepName}
          </p>
          {step.dependsOn.length > 0 && (
            <p className="truncate text-[11px] text-subtle" title={`Waits for ${step.dependsOn.join(", ")}`}>
              ↳ after {step.dependsOn.join(", ")}
            </p>
          )}
        </div>
        <div className="relative h-6 rounded bg-zinc-100 dark:bg-zinc-800/60">
          <div
            data-testid="step-bar"
            data-step-name={step.stepName}
            data-status={step.status}
            title={barTitle(step, runningFor)}
            className={`absolute top-0.5 bottom-0.5 rounded-sm ${
              placeholder
                ? "border border-dashed border-zinc-300 bg-transparent dark:border-zinc-600"
                : `${STATUS_FILL[step.status]} ${step.status === "RUNNING" ? "animate-pulse" : ""}`
            }`}
            style={{ left, width: width ?? `calc(100% - ${left})`, minWidth: 3 }}
          >
            <span className="sr-only">
              {step.stepName}: {step.status}
            </span>
          </div>
        </div>
        {/* Beside the bar, never over it: a full-width bar would hide it. */}
        <span className="text-right text-xs tabular-nums text-muted">
          {step.durationMs !== null ? formatDuration(step.durationMs) : step.status === "RUNNING" ? "running" : step.status.toLowerCase()}
        </span>
      </div>
    </li>
  );
});

export function StepTimeline({ run }: { run: PipelineStatusJSON }) {
  const now = useNow();
  const { start, span } = runWindow(run, now);
  const stages = stepStages(run);
  const dataflow = run.pipelineType === "dataflow";
  const pct = (t: number) => `${Math.min(100, Math.max(0, ((t - start) / span) * 100))}%`;
  const ordered = dataflow ? run.steps.slice().sort((a, b) => (stages.get(a.stepName) ?? 0) - (stages.get(b.stepName) ?? 0)) : run.steps;
  const ends = new Map(run.steps.map((s) => [s.stepName, ms(s.completedAt)]));

  if (run.steps.length === 0) return <p className="text-sm text-subtle">This run declares no steps.</p>;

  return (
    <div className="overflow-x-auto">
      <div className="min-w-[640px]">
        <div className={`${COLUMNS} text-xs text-subtle`} aria-hidden="true">
          <span />
          <div className="relative h-5 border-b border-zinc-200 dark:border-zinc-700">
            {axisTicks(span).map((t) => (
              <span
                key={t}
                className="absolute -translate-x-1/2 whitespace-nowrap tabular-nums first:translate-x-0"
                style={{ left: `${(t / span) * 100}%` }}
              >
                {t === 0 ? "0" : `+${formatTick(t)}`}
              </span>
            ))}
          </div>
          <span />
        </div>
        <ol className="mt-1">
          {ordered.map((step, i) => {
            const stage = stages.get(step.stepName) ?? 0;
            const begin = ms(step.startedAt);
            const end = ms(step.completedAt) ?? (step.status === "RUNNING" && now > 0 ? now : begin);
            const placeholder = begin === null;
            const depsEnd = placeholder ? Math.max(start, ...step.dependsOn.map((d) => ends.get(d) ?? start)) : start;
            return (
              <TimelineRow
                key={step.stepName}
                step={step}
                stage={dataflow && (i === 0 || stage !== stages.get(ordered[i - 1]!.stepName)) ? stage : null}
                left={placeholder ? pct(depsEnd) : pct(begin)}
                width={placeholder ? null : `${Math.max(0, (((end ?? begin) - begin) / span) * 100)}%`}
                runningFor={step.durationMs === null && begin !== null && end !== null ? end - begin : null}
              />
            );
          })}
        </ol>
      </div>
    </div>
  );
}
