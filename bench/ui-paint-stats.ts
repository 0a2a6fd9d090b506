/**
 * The paint benchmark's arithmetic: each step finish the worker printed joined with the message that
 * carried it into the page and the frame that painted it, and the percentiles of each leg.
 */
import type { Page } from "@playwright/test";
import type { Arrival, Paint } from "./ui-paint-probe";
import type { WorkerLine } from "./ui-paint-worker";

export type Finish = Extract<WorkerLine, { kind: "finish" }>;

/** One page visit's records: the list page for the whole run, or one detail page. */
export interface Visit {
  /** Epoch ms the page's navigation started (its `performance.timeOrigin`). */
  navigatedAt: number;
  paints: Paint[];
  arrivals: Arrival[];
}

/** Latency samples in ms, each sorted ascending. */
export interface Legs {
  /** finish → first task after the frame that paints it (the paint's upper bound). */
  paint: number[];
  /** finish → that frame begins. */
  frame: number[];
  /** finish → the message carrying it in the page (Redis, change feed, server, Socket.IO). */
  arrival: number[];
  /** that message → the paint's upper bound. */
  messageToPaint: number[];
  /** that message → the frame that paints it begins. */
  messageToFrame: number[];
  missing: number;
}

const emptyLegs = (): Legs => ({ paint: [], frame: [], arrival: [], messageToPaint: [], messageToFrame: [], missing: 0 });

function add(legs: Legs, f: Finish, paint: Paint | undefined, arrival: Arrival | undefined): void {
  if (!paint) {
    legs.missing++;
    return;
  }
  legs.paint.push(paint.after - f.at);
  legs.frame.push(paint.raf - f.at);
  if (arrival) {
    legs.arrival.push(arrival.t - f.at);
    legs.messageToPaint.push(paint.after - arrival.t);
    legs.messageToFrame.push(paint.raf - arrival.t);
  }
}

export function sortAll(legs: Legs): Legs {
  for (const xs of [legs.paint, legs.frame, legs.arrival, legs.messageToPaint, legs.messageToFrame]) xs.sort((a, b) => a - b);
  return legs;
}

function groupBy<T>(xs: T[], key: (x: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const x of xs) {
    const k = key(x);
    const list = out.get(k);
    if (list) list.push(x);
    else out.set(k, [x]);
  }
  return out;
}

/**
 * List page: a finish is painted by the first frame whose row shows at least its step count (a later
 * step of the same run painted first counts: the row then shows this finish too).
 */
export function joinList(finishes: Finish[], visit: Visit): { all: Legs; final: Legs } {
  const paints = groupBy(
    visit.paints.filter((p) => p.kind === "row"),
    (p) => p.id,
  );
  for (const list of paints.values()) list.sort((a, b) => a.raf - b.raf);
  const arrivals = groupBy(
    visit.arrivals.filter((a) => a.kind === "row"),
    (a) => a.id,
  );
  const all = emptyLegs();
  const final = emptyLegs();
  for (const f of finishes) {
    const paint = paints.get(f.pipelineId)?.find((p) => p.done >= f.stepsCompleted);
    const arrival = arrivals.get(f.pipelineId)?.find((a) => a.done >= f.stepsCompleted);
    add(all, f, paint, arrival);
    // A one-step run's finish is its final state (COMPLETED): what a coalescing window could hold back.
    if (f.role === "list") add(final, f, paint, arrival);
  }
  return { all: sortAll(all), final: sortAll(final) };
}

/**
 * One detail page visit: every step of its run that finished after the page was requested, painted as
 * COMPLETED in the step table. `loading` are those that finished before the page's first live
 * `step:update` (the server-rendered snapshot had to be brought up to date); `live` the rest.
 */
export function joinDetail(
  finishes: Finish[],
  pipelineId: string,
  visit: Visit,
  into: { loading: Legs; live: Legs; inSnapshot: number },
): void {
  const paints = groupBy(
    visit.paints.filter((p) => p.kind === "step" && p.id === pipelineId && p.status === "COMPLETED"),
    (p) => p.step,
  );
  for (const list of paints.values()) list.sort((a, b) => a.raf - b.raf);
  const stepArrivals = visit.arrivals.filter((a) => a.kind === "step" && a.id === pipelineId);
  const firstLive = Math.min(...stepArrivals.map((a) => a.t));
  const arrivals = groupBy(
    stepArrivals.filter((a) => a.status === "COMPLETED"),
    (a) => a.step,
  );
  for (const f of finishes) {
    if (f.pipelineId !== pipelineId) continue;
    if (f.at < visit.navigatedAt) {
      into.inSnapshot++;
      continue;
    }
    add(f.at < firstLive ? into.loading : into.live, f, paints.get(f.step)?.[0], arrivals.get(f.step)?.[0]);
  }
}

export function detailLegs(): { loading: Legs; live: Legs; inSnapshot: number } {
  return { loading: emptyLegs(), live: emptyLegs(), inSnapshot: 0 };
}

export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

export const ms = (n: number) => (Number.isFinite(n) ? `${n.toFixed(1)} ms` : "—");

/** A markdown table row: label, sample count, p50, p95 (bold when `bold`), p99, max. */
export function tableRow(label: string, xs: number[], bold = false): string {
  const p95 = ms(quantile(xs, 0.95));
  return `| ${label} | ${xs.length} | ${ms(quantile(xs, 0.5))} | ${bold ? `**${p95}**` : p95} | ${ms(quantile(xs, 0.99))} | ${ms(xs.at(-1) ?? NaN)} |`;
}

const epochNow = () => performance.timeOrigin + performance.now();

/** Page clock − Node clock, from the tightest of several round trips (± half that round trip). */
export async function clockOffset(page: Page): Promise<{ offset: number; uncertainty: number }> {
  let best = { offset: 0, uncertainty: Infinity };
  for (let i = 0; i < 20; i++) {
    const t0 = epochNow();
    const p = await page.evaluate(() => performance.timeOrigin + performance.now());
    const t1 = epochNow();
    if ((t1 - t0) / 2 < best.uncertainty) best = { offset: p - (t0 + t1) / 2, uncertainty: (t1 - t0) / 2 };
  }
  return best;
}
