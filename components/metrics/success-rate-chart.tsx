"use client";
/** Success rate per UTC day; a day without finished runs is a gap (null), never 0%. */
import { CartesianGrid, Legend, Line, LineChart, Tooltip, XAxis, YAxis } from "recharts";
import type { DailyMetrics } from "@/lib/tracking/metrics-types";
import { AXIS_TICK, ChartFrame, GRID_STROKE, LEGEND, shortDay } from "./chart-frame";

export function SuccessRateChart({ daily }: { daily: DailyMetrics[] }) {
  const data = daily.map((d) => ({
    date: d.date,
    rate: d.successRate === null ? null : Math.round(d.successRate * 1000) / 10,
    finished: d.completed + d.failed,
  }));
  return (
    <ChartFrame testId="success-rate-chart">
      <LineChart data={data} margin={{ top: 8, right: 12, bottom: 0, left: -8 }}>
        <CartesianGrid stroke={GRID_STROKE} strokeDasharray="3 3" />
        <XAxis dataKey="date" tickFormatter={shortDay} tick={AXIS_TICK} minTickGap={16} />
        <YAxis domain={[0, 100]} unit="%" tick={AXIS_TICK} width={48} />
        <Tooltip
          labelFormatter={(label) => `${shortDay(String(label))} (UTC)`}
          formatter={(value) =>
            value === null || value === undefined ? ["no finished runs", "Success rate"] : [`${String(value)}%`, "Success rate"]
          }
        />
        <Legend {...LEGEND} />
        <Line
          type="linear"
          dataKey="rate"
          name="Success rate (%)"
          stroke="#10b981"
          strokeWidth={2}
          dot={{ r: 3.5, fill: "#10b981" }}
          connectNulls={false}
          isAnimationActive={false}
        />
      </LineChart>
    </ChartFrame>
  );
}
