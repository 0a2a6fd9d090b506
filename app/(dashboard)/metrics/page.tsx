import type { Metadata } from "next";
import { FailureReasons } from "@/components/metrics/failure-reasons";
import { KpiCards } from "@/components/metrics/kpi-cards";
import { BusiestHoursChart, DailyVolumeChart, SuccessRateChart } from "@/components/metrics/lazy-charts";
import { MetricsAutoRefresh } from "@/components/metrics/metrics-auto-refresh";
import { MetricsRangePicker } from "@/components/metrics/metrics-range-picker";
import { SlowestStepsTable } from "@/components/metrics/slowest-steps-table";
import { ParamError } from "@/components/ui/param-error";
import { checkQuery, correctedQuery, metricsQuerySchema } from "@/server/params";
import { getRuntime } from "@/server/runtime";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Metrics" };

type SearchParams = Promise<Record<string, string | string[] | undefined>>;

function ChartCard({ title, subtitle, children }: { title: string; subtitle: string; children: React.ReactNode }) {
  return (
    <section className="card p-5" aria-label={title}>
      <h2 className="text-sm font-semibold">{title}</h2>
      <p className="mb-3 text-xs text-subtle">{subtitle}</p>
      {children}
    </section>
  );
}

export default async function MetricsPage({ searchParams }: { searchParams: SearchParams }) {
  const params = await searchParams;
  const checked = checkQuery(metricsQuerySchema, params);
  if (!checked.ok) {
    const query = correctedQuery(metricsQuerySchema, params, checked.issues).toString();
    return <ParamError issues={checked.issues} correctedHref={query ? `/metrics?${query}` : "/metrics"} />;
  }
  const { days } = checked.value;
  const metrics = await getRuntime().tracking.getMetrics({ days });
  return (
    <div className="space-y-6">
      <MetricsAutoRefresh />
      <div className="flex flex-col gap-3 sm:flex-row sm:items-end sm:justify-between">
        <div>
          <h1 className="text-xl font-semibold tracking-tight">Metrics</h1>
          <p className="text-sm text-subtle">
            Last {days} day{days === 1 ? "" : "s"} (UTC days), computed {metrics.to.slice(0, 19).replace("T", " ")} UTC.
          </p>
        </div>
        <MetricsRangePicker days={days} />
      </div>
      <KpiCards metrics={metrics} />
      <div className="grid gap-6 lg:grid-cols-2">
        <ChartCard title="Success rate per day" subtitle="completed ÷ (completed + failed); gaps are days with no finished run">
          <SuccessRateChart daily={metrics.daily} />
        </ChartCard>
        <ChartCard title="Daily volume by status" subtitle="runs started per UTC day">
          <DailyVolumeChart daily={metrics.daily} />
        </ChartCard>
        <ChartCard title="Failure reasons" subtitle="top 10 by count, first line of the error">
          <FailureReasons reasons={metrics.failureReasons} />
        </ChartCard>
        <ChartCard title="Busiest hours" subtitle="runs started per hour of day (UTC) over the range">
          <BusiestHoursChart hours={metrics.busiestHours} />
        </ChartCard>
      </div>
      <ChartCard title="Slowest steps" subtitle="by average duration over finished executions">
        <SlowestStepsTable steps={metrics.steps} />
      </ChartCard>
    </div>
  );
}
