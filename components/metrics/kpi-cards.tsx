import type { PipelineMetrics } from "@/lib/tracking/metrics-types";
import { formatDuration } from "../ui/duration-format";
import { formatPercent, formatRate } from "./metric-format";

function Kpi({ label, value, hint, testId }: { label: string; value: string; hint: string; testId: string }) {
  return (
    <div className="card p-4" data-testid={testId}>
      <p className="text-xs font-medium uppercase tracking-wide text-subtle">{label}</p>
      <p className="mt-1 text-2xl font-semibold tabular-nums">{value}</p>
      <p className="mt-0.5 text-xs text-subtle">{hint}</p>
    </div>
  );
}

export function KpiCards({ metrics }: { metrics: PipelineMetrics }) {
  const rate = formatPercent(metrics.successRate);
  const throughput = formatRate(metrics.throughputPerMinute);
  return (
    <div className="grid grid-cols-2 gap-4 md:grid-cols-5">
      <Kpi testId="kpi-runs" label="Runs" value={metrics.totalPipelines.toLocaleString()} hint={`${metrics.running} running now`} />
      <Kpi testId="kpi-success-rate" label="Success rate" value={rate} hint={`${metrics.completed} completed · ${metrics.failed} failed`} />
      <Kpi
        testId="kpi-avg-duration"
        label="Avg duration"
        value={formatDuration(metrics.avgDurationMs)}
        hint={`p50 ${formatDuration(metrics.p50DurationMs)}`}
      />
      <Kpi testId="kpi-p95-duration" label="p95 duration" value={formatDuration(metrics.p95DurationMs)} hint="finished runs" />
      <Kpi testId="kpi-throughput" label="Throughput" value={throughput.value} hint={`finished runs per ${throughput.unit}`} />
    </div>
  );
}
