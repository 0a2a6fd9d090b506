/** What the battery's area files share: run builders, unique ids, paging and metrics comparisons. */
import { expect } from "vitest";
import type { PipelineMetrics } from "../../metrics-types";
import type { PipelineSummary, Status } from "../../models";
import type { TrackingStorage } from "../types";

export interface StorageHarness {
  storage: TrackingStorage;
  cleanup: () => Promise<void>;
}

export { DAY_MS, FINISHED, uniqueId, makeStep, makeRun } from "./builders";

/** Waits until `check` stops throwing (for storages whose change feed is asynchronous). */
export async function eventually(check: () => void, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      check();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

export async function pageThrough(
  storage: TrackingStorage,
  query: { status?: Status; q?: string; limit: number },
): Promise<PipelineSummary[]> {
  const all: PipelineSummary[] = [];
  let cursor: string | null = null;
  for (let guard = 0; guard < 10_000; guard++) {
    const page = await storage.listPage({ ...query, cursor });
    expect(page.items.length).toBeLessThanOrEqual(query.limit);
    all.push(...page.items);
    if (!page.nextCursor) return all;
    expect(page.items.length).toBe(query.limit);
    cursor = page.nextCursor;
  }
  throw new Error("paging never ended");
}

function expectClose(actual: number | null, expected: number | null, what: string, rel: number, abs: number): void {
  if (expected === null || actual === null) {
    expect(actual, what).toBe(expected);
    return;
  }
  const diff = Math.abs(actual - expected);
  expect(diff <= abs || diff <= Math.abs(expected) * rel, `${what}: ${actual} vs ${expected}`).toBe(true);
}

/** Exact where a rollup can be exact; percentiles within 10% or 1 ms (histogram buckets are allowed). */
export function expectMetricsMatch(actual: PipelineMetrics, expected: PipelineMetrics): void {
  const exact = (a: number | null, e: number | null, what: string) => expectClose(a, e, what, 1e-9, 1e-6);
  const pct = (a: number | null, e: number | null, what: string) => expectClose(a, e, what, 0.1, 1);
  expect(actual.days).toBe(expected.days);
  expect(actual.from).toBe(expected.from);
  expect(actual.to).toBe(expected.to);
  for (const k of ["totalPipelines", "completed", "failed", "cancelled", "running"] as const) {
    expect(actual[k], k).toBe(expected[k]);
  }
  exact(actual.successRate, expected.successRate, "successRate");
  exact(actual.avgDurationMs, expected.avgDurationMs, "avgDurationMs");
  exact(actual.throughputPerMinute, expected.throughputPerMinute, "throughputPerMinute");
  pct(actual.p50DurationMs, expected.p50DurationMs, "p50DurationMs");
  pct(actual.p95DurationMs, expected.p95DurationMs, "p95DurationMs");
  expect(actual.failureReasons).toEqual(expected.failureReasons);
  expect(actual.busiestHours).toEqual(expected.busiestHours);
  expect(actual.daily.map((d) => d.date)).toEqual(expected.daily.map((d) => d.date));
  actual.daily.forEach((d, i) => {
    const e = expected.daily[i]!;
    expect({ ...d, successRate: 0, avgDurationMs: 0 }, d.date).toEqual({ ...e, successRate: 0, avgDurationMs: 0 });
    exact(d.successRate, e.successRate, `${d.date} successRate`);
    exact(d.avgDurationMs, e.avgDurationMs, `${d.date} avgDurationMs`);
  });
  expect(actual.steps.map((s) => s.stepName)).toEqual(expected.steps.map((s) => s.stepName));
  actual.steps.forEach((s, i) => {
    const e = expected.steps[i]!;
    expect(s.count, `${s.stepName} count`).toBe(e.count);
    expect(s.failed, `${s.stepName} failed`).toBe(e.failed);
    exact(s.avgDurationMs, e.avgDurationMs, `${s.stepName} avgDurationMs`);
    exact(s.maxDurationMs, e.maxDurationMs, `${s.stepName} maxDurationMs`);
    pct(s.p95DurationMs, e.p95DurationMs, `${s.stepName} p95DurationMs`);
  });
}

/** Deterministic pseudo-random numbers (mulberry32), so a failure reproduces. */
export function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
