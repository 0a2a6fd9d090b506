/** The live-list benchmark's table row for one phase: long tasks against the budget, arrival-to-paint latencies, updates painted within a frame. */
import type { PhaseResult } from "./ui-live-probe";

export const LONG_TASK_BUDGET_MS = 50;

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** How many frames began after the arrival up to (and including) the commit's frame. */
function framesToCommit(frames: number[], arrival: number, commit: number): number {
  let n = 0;
  for (const f of frames) if (f > arrival && f <= commit) n++;
  return n;
}

const ms = (n: number) => (Number.isFinite(n) ? `${n.toFixed(1)} ms` : "—");

export function describe(name: string, r: PhaseResult): { row: string; longOk: boolean; paintOk: boolean | null } {
  const longest = Math.max(0, ...r.longTasks.map((t) => t.duration));
  const over = r.longTasks.filter((t) => t.duration > LONG_TASK_BUDGET_MS).length;
  const latencies = r.painted.map((p) => p.paint - p.arrival).sort((a, b) => a - b);
  const frameCounts = r.painted.map((p) => framesToCommit(r.frames, p.arrival, p.commit));
  const withinOne = frameCounts.filter((n) => n <= 1).length;
  const fps = r.frames.length > 1 ? (r.frames.length - 1) / ((r.frames.at(-1)! - r.frames[0]!) / 1000) : NaN;
  const paintOk = r.painted.length ? withinOne === r.painted.length : null;
  const share = r.painted.length ? `${withinOne}/${r.painted.length} (${((withinOne / r.painted.length) * 100).toFixed(1)}%)` : "—";
  return {
    row: `| ${name} | ${r.seconds} s | ${r.longTasks.length} | ${ms(longest)} | ${over} | ${r.arrivals} / ${r.painted.length} | ${ms(quantile(latencies, 0.5))} | ${ms(quantile(latencies, 0.95))} | ${ms(latencies.at(-1) ?? NaN)} | ${share} | ${fps.toFixed(0)} |`,
    longOk: over === 0,
    paintOk,
  };
}
