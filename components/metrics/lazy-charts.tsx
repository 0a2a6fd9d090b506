"use client";
/**
 * The metrics charts, loaded as their own chunk after the page shell: recharts is most of the
 * metrics page's JavaScript, and the KPI cards and tables need none of it. A same-sized
 * placeholder keeps the layout still while it loads.
 */
import dynamic from "next/dynamic";

function ChartPlaceholder() {
  return <div className="h-[240px] w-full animate-pulse rounded bg-zinc-100 dark:bg-zinc-800/60" aria-label="Loading chart" />;
}

export const SuccessRateChart = dynamic(() => import("./success-rate-chart").then((m) => m.SuccessRateChart), {
  ssr: false,
  loading: ChartPlaceholder,
});
export const DailyVolumeChart = dynamic(() => import("./daily-volume-chart").then((m) => m.DailyVolumeChart), {
  ssr: false,
  loading: ChartPlaceholder,
});
export const BusiestHoursChart = dynamic(() => import("./busiest-hours-chart").then((m) => m.BusiestHoursChart), {
  ssr: false,
  loading: ChartPlaceholder,
});
