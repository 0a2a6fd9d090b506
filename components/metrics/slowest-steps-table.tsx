import type { StepMetrics } from "@/lib/tracking/metrics-types";
import { formatDuration } from "../ui/duration-format";

const MAX_ROWS = 15;
const TH = "px-3 py-2 text-xs font-semibold uppercase tracking-wide text-subtle";

export function SlowestStepsTable({ steps }: { steps: StepMetrics[] }) {
  if (steps.length === 0) return <p className="py-6 text-center text-sm text-subtle">No finished steps in this range.</p>;
  return (
    <div className="overflow-x-auto">
      <table className="w-full text-sm" data-testid="slowest-steps">
        <thead className="border-b border-zinc-200 dark:border-zinc-800">
          <tr>
            <th className={`${TH} text-left`}>Step</th>
            <th className={`${TH} text-right`}>Runs</th>
            <th className={`${TH} text-right`}>Failed</th>
            <th className={`${TH} text-right`}>Avg</th>
            <th className={`${TH} text-right`}>p95</th>
            <th className={`${TH} text-right`}>Max</th>
          </tr>
        </thead>
        <tbody className="tabular-nums">
          {steps.slice(0, MAX_ROWS).map((s) => (
            <tr key={s.stepName} className="border-b border-zinc-100 last:border-0 dark:border-zinc-800">
              <td className="max-w-xs truncate px-3 py-2 font-medium" title={s.stepName}>
                {s.stepName}
              </td>
              <td className="px-3 py-2 text-right">{s.count}</td>
              <td className={`px-3 py-2 text-right ${s.failed ? "text-danger" : ""}`}>{s.failed}</td>
              <td className="px-3 py-2 text-right">{formatDuration(s.avgDurationMs)}</td>
              <td className="px-3 py-2 text-right">{formatDuration(s.p95DurationMs)}</td>
              <td className="px-3 py-2 text-right">{formatDuration(s.maxDurationMs)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
