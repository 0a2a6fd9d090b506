"use client";
import { Bar, BarChart, CartesianGrid, Legend, Tooltip, XAxis, YAxis } from "recharts";
import { AXIS_TICK, ChartFrame, GRID_STROKE, LEGEND } from "./chart-frame";

const hourLabel = (hour: number) => `${String(hour).padStart(2, "0")}:00`;

export function BusiestHoursChart({ hours }: { hours: { hour: number; count: number }[] }) {
  return (
    <ChartFrame testId="busiest-hours-chart">
      <BarChart data={hours} margin={{ top: 8, right: 12, bottom: 0, left: -8 }}>
        <CartesianGrid stroke={GRID_STROKE} strokeDasharray="3 3" vertical={false} />
        <XAxis dataKey="hour" tickFormatter={hourLabel} tick={AXIS_TICK} interval={2} />
        <YAxis
          allowDecimals={false}
          tick={AXIS_TICK}
          width={48}
          label={{ value: "runs", angle: -90, position: "insideLeft", offset: 18, style: AXIS_TICK }}
        />
        <Tooltip
          labelFormatter={(label) => `${hourLabel(Number(label))}–${hourLabel((Number(label) + 1) % 24)} UTC`}
          cursor={{ fillOpacity: 0.1 }}
        />
        <Legend {...LEGEND} />
        <Bar dataKey="count" name="Runs started (UTC hour)" fill="#6366f1" radius={[3, 3, 0, 0]} isAnimationActive={false} />
      </BarChart>
    </ChartFrame>
  );
}
