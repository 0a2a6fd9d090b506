"use client";
/** Runs started per UTC day, stacked by how they ended (still running ones as "other"). */
import { Bar, BarChart, CartesianGrid, Legend, Tooltip, XAxis, YAxis } from "recharts";
import type { DailyMetrics } from "@/lib/tracking/metrics-types";
import { AXIS_TICK, ChartFrame, GRID_STROKE, LEGEND, shortDay } from "./chart-frame";
import { STATUS_COLOR } from "../ui/status-style";

export function DailyVolumeChart({ daily }: { daily: DailyMetrics[] }) {
  const data = daily.map((d) => ({
    date: d.date,
    completed: d.completed,
    failed: d.failed,
    cancelled: d.cancelled,
    other: Math.max(0, d.total - d.completed - d.failed - d.cancelled),
  }));
  return (
    <ChartFrame testId="daily-volume-chart">
      <BarChart data={data} margin={{ top: 8, right: 12, bottom: 0, left: -8 }}>
        <CartesianGrid stroke={GRID_STROKE} strokeDasharray="3 3" vertical={false} />
        <XAxis dataKey="date" tickFormatter={shortDay} tick={AXIS_TICK} minTickGap={16} />
        <YAxis
          allowDecimals={false}
          tick={AXIS_TICK}
          width={48}
          label={{ value: "runs", angle: -90, position: "insideLeft", offset: 18, style: AXIS_TICK }}
        />
        <Tooltip labelFormatter={(label) => `${shortDay(String(label))} (UTC)`} cursor={{ fillOpacity: 0.1 }} />
        <Legend {...LEGEND} />
        <Bar dataKey="completed" name="Completed" stackId="runs" fill={STATUS_COLOR.COMPLETED} isAnimationActive={false} />
        <Bar dataKey="failed" name="Failed" stackId="runs" fill={STATUS_COLOR.FAILED} isAnimationActive={false} />
        <Bar dataKey="cancelled" name="Cancelled" stackId="runs" fill={STATUS_COLOR.CANCELLED} isAnimationActive={false} />
        <Bar dataKey="other" name="Running / pending" stackId="runs" fill={STATUS_COLOR.RUNNING} isAnimationActive={false} />
      </BarChart>
    </ChartFrame>
  );
}
