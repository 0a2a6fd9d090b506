"use client";
/** Every step with its times, attempts, the worker that ran it, its error and (on demand) result. */
import { memo, useCallback, useState } from "react";
import type { StepStatusJSON } from "@/lib/tracking/models";
import { formatUtc } from "../ui/duration-format";
import { LiveDuration } from "../ui/live-duration";
import { ResultViewer } from "./result-viewer";
import { StatusBadge } from "../ui/status-badge";

const TH = "px-3 py-2 text-left text-xs font-semibold uppercase tracking-wide text-subtle";
const TD = "px-3 py-2 align-top";

export function StepTable({ steps }: { steps: StepStatusJSON[] }) {
  const [open, setOpen] = useState<ReadonlySet<string>>(new Set());
  const toggle = useCallback(
    (name: string) =>
      setOpen((current) => {
        const next = new Set(current);
        if (next.has(name)) next.delete(name);
        else next.add(name);
        return next;
      }),
    [],
  );

  return (
    <div className="relative overflow-x-auto p-2">
      <table className="w-full text-sm">
        <thead className="border-b border-zinc-200 dark:border-zinc-800">
          <tr>
            <th className={TH}>Step</th>
            <th className={TH}>Status</th>
            <th className={TH}>Started (UTC)</th>
            <th className={TH}>Ended (UTC)</th>
            <th className={TH}>Duration</th>
            <th className={TH}>Attempts</th>
            <th className={TH}>Worker</th>
            <th className={TH}>Error</th>
            <th className={TH}>
              <span className="sr-only">Result</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {steps.map((step) => (
            <StepRow key={step.stepName} step={step} expanded={open.has(step.stepName)} onToggle={toggle} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

/**
 * One step (and its result when expanded). Memoized: a live update replaces only the steps that
 * changed, so a run of many steps re-renders one or two rows per update, not all of them.
 */
const StepRow = memo(function StepRow({
  step,
  expanded,
  onToggle,
}: {
  step: StepStatusJSON;
  expanded: boolean;
  onToggle: (name: string) => void;
}) {
  const hasResult = step.result !== null && step.result !== undefined;
  return (
    <>
      <tr className="border-b border-zinc-100 dark:border-zinc-800" data-testid="step-row" data-step-name={step.stepName}>
        <td className={`${TD} max-w-56 truncate font-medium`} title={step.stepName}>
          {step.stepName}
        </td>
        <td className={TD}>
          <StatusBadge status={step.status} />
        </td>
        <td className={`${TD} whitespace-nowrap tabular-nums text-muted`}>
          {step.startedAt ? formatUtc(step.startedAt).slice(11, 23) : "—"}
        </td>
        <td className={`${TD} whitespace-nowrap tabular-nums text-muted`}>
          {step.completedAt ? formatUtc(step.completedAt).slice(11, 23) : "—"}
        </td>
        <td className={TD}>
          <LiveDuration startedAt={step.startedAt} durationMs={step.durationMs} running={step.status === "RUNNING"} />
        </td>
        <td className={`${TD} tabular-nums`}>{step.attempts}</td>
        <td className={`${TD} max-w-40 truncate text-xs text-muted`} title={step.workerId ?? undefined} data-testid="step-worker">
          {step.workerId ?? "—"}
        </td>
        <td className={`${TD} max-w-xs`}>
          {step.error && (
            <p className="line-clamp-3 break-words text-xs text-danger" title={step.error} data-testid="step-error">
              {step.error}
            </p>
          )}
        </td>
        <td className={`${TD} text-right`}>
          {hasResult && (
            <button type="button" className="btn-ghost text-xs" aria-expanded={expanded} onClick={() => onToggle(step.stepName)}>
              {expanded ? "Hide result" : "Show result"}
            </button>
          )}
        </td>
      </tr>
      {expanded && hasResult && (
        <tr className="border-b border-zinc-100 dark:border-zinc-800">
          <td colSpan={9} className="px-3 pb-3">
            <ResultViewer result={step.result} />
          </td>
        </tr>
      )}
    </>
  );
});
