"use client";
/** A fixed-height, full-width box: recharts needs a sized container to draw into. */
import type { ReactElement } from "react";
import { ResponsiveContainer } from "recharts";

export function ChartFrame({ height = 240, testId, children }: { height?: number; testId?: string; children: ReactElement }) {
  return (
    <div style={{ height }} className="w-full text-zinc-200 dark:text-zinc-800" data-testid={testId}>
      <ResponsiveContainer width="100%" height="100%" initialDimension={{ width: 520, height }}>
        {children}
      </ResponsiveContainer>
    </div>
  );
}

/** Axis and grid styling shared by every chart; ticks stay readable in light and dark. */
export const AXIS_TICK = { fontSize: 11, fill: "#71717a" };
export const GRID_STROKE = "currentColor";

/** "2026-11-28" → "Nov 28" (UTC, the day the metrics mean). */
export function shortDay(date: string): string {
  const d = new Date(`${date}T00:00:00Z`);
  return d.toLocaleDateString("en-US", { month: "short", day: "numeric", timeZone: "UTC" });
}
