/**
 * Metrics computed from raw runs (the memory storage, and the reference the Redis rollups are
 * tested against). Pure: same runs and `now`, same answer.
 */
import type { DailyMetrics, MetricsQuery, PipelineMetrics, StepMetrics } from "./metrics-types";
import type { PipelineStatus } from "./models";

const DAY_MS = 86_400_000;
export const MAX_METRICS_DAYS = 90;
const REASON_CHARS = 120;

export function assertMetricsDays(days: unknown): asserts days is number {
  if (typeof days !== "number" || !Number.isInteger(days) || days < 1 || days > MAX_METRICS_DAYS) {
    throw new RangeError(`days must be an integer from 1 to ${MAX_METRICS_DAYS}`);
  }
}

/** Midnight UTC of the first day of a `days`-long window ending today. */
export function windowStart(days: number, now: Date): Date {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return new Date(today - (days - 1) * DAY_MS);
}

export function utcDate(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/** How a failure is grouped: its first line, at most 120 chars. */
export function failureReason(error: string | null): string {
  const firstLine = (error ?? "").split("\n", 1)[0]!.trim();
  return firstLine ? firstLine.slice(0, REASON_CHARS) : "(no error message)";
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

const average = (sum: number, n: number): number | null => (n === 0 ? null : sum / n);
const rate = (completed: number, failed: number): number | null =>
  completed + failed === 0 ? null : completed / (completed + failed);

interface StepAcc {
  count: number;
  failed: number;
  durations: number[];
}

export function computeMetrics(runs: Iterable<PipelineStatus>, query: MetricsQuery): PipelineMetrics {
  assertMetricsDays(query.days);
  const now = query.now ?? new Date();
  const from = windowStart(query.days, now);
  const fromMs = from.getTime();
  const nowMs = now.getTime();

  const daily: (DailyMetrics & { durationSum: number; durationCount: number })[] = [];
  for (let i = 0; i < query.days; i++) {
    daily.push({
      date: utcDate(new Date(fromMs + i * DAY_MS)),
      total: 0, completed: 0, failed: 0, cancelled: 0, successRate: null, avgDurationMs: null,
      durationSum: 0, durationCount: 0,
    });
  }
  const hours = new Array<number>(24).fill(0);
  const durations: number[] = [];
  const failureReasons: Record<string, number> = Object.create(null) as Record<string, number>;
  const steps = new Map<string, StepAcc>();
  let total = 0, completed = 0, failed = 0, cancelled = 0, running = 0;

  for (const run of runs) {
    const startedMs = run.startedAt.getTime();
    if (startedMs < fromMs || startedMs > nowMs) continue;
    const day = daily[Math.floor((startedMs - fromMs) / DAY_MS)]!;
    total++;
    day.total++;
    hours[run.startedAt.getUTCHours()]!++;
    switch (run.status) {
      case "COMPLETED": completed++; day.completed++; break;
      case "FAILED":
        failed++; day.failed++;
        const reason = failureReason(run.error);
        failureReasons[reason] = (failureReasons[reason] ?? 0) + 1;
        break;
      case "CANCELLED": cancelled++; day.cancelled++; break;
      default: running++;
    }
    if (run.status !== "RUNNING" && run.status !== "PENDING" && run.durationMs !== null) {
      durations.push(run.durationMs);
      day.durationSum += run.durationMs;
      day.durationCount++;
    }
    for (const step of run.steps) {
      if ((step.status !== "COMPLETED" && step.status !== "FAILED") || step.durationMs === null) continue;
      let acc = steps.get(step.stepName);
      if (!acc) steps.set(step.stepName, (acc = { count: 0, failed: 0, durations: [] }));
      acc.count++;
      if (step.status === "FAILED") acc.failed++;
      acc.durations.push(step.durationMs);
    }
  }

  durations.sort((a, b) => a - b);
  const finished = completed + failed + cancelled;
  const windowMinutes = Math.max(1, (nowMs - fromMs) / 60_000);
  const stepMetrics: StepMetrics[] = [];
  for (const [stepName, acc] of steps) {
    acc.durations.sort((a, b) => a - b);
    stepMetrics.push({
      stepName,
      count: acc.count,
      failed: acc.failed,
      avgDurationMs: average(acc.durations.reduce((s, d) => s + d, 0), acc.durations.length),
      p95DurationMs: percentile(acc.durations, 95),
      maxDurationMs: acc.durations.length ? acc.durations[acc.durations.length - 1]! : null,
    });
  }
  stepMetrics.sort((a, b) => (b.avgDurationMs ?? 0) - (a.avgDurationMs ?? 0) || a.stepName.localeCompare(b.stepName));

  return {
    days: query.days,
    from: from.toISOString(),
    to: now.toISOString(),
    totalPipelines: total,
    completed,
    failed,
    cancelled,
    running,
    successRate: rate(completed, failed),
    avgDurationMs: average(durations.reduce((s, d) => s + d, 0), durations.length),
    p50DurationMs: percentile(durations, 50),
    p95DurationMs: percentile(durations, 95),
    throughputPerMinute: finished / windowMinutes,
    failureReasons: { ...failureReasons },
    daily: daily.map(({ durationSum, durationCount, ...d }) => ({
      ...d,
      successRate: rate(d.completed, d.failed),
      avgDurationMs: average(durationSum, durationCount),
    })),
    busiestHours: hours.map((count, hour) => ({ hour, count })),
    steps: stepMetrics,
  };
}
