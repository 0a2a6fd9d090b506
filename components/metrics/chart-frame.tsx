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

/**
 * Axis, grid and legend styling shared by every chart. Ticks use the `subtle` text token (a CSS
 * variable, so they follow the theme: SVG presentation attributes accept var()). Legend labels use
 * `muted` text, not recharts' default of the series colour, which is a fill colour too light for
 * text on white; the swatch beside each label still shows the colour.
 */
export const AXIS_TICK = { fontSize: 11, fill: "var(--color-subtle)" };
export const GRID_STROKE = "currentColor";
export const LEGEND = {
  wrapperStyle: { fontSize: 12 },
  formatter: (value: string) => <span className="text-muted">{value}</span>,
};

/** "2026-11-28" → "Nov 28" (UTC, the day the metrics mean). */
export function shortDay(date: string): string {
  const d = new Date(`${date}T00:00:00Z`);
  return d.toLocaleDateString("en-US", { month: "short", day: "numeric", timeZone: "UTC" });
}
