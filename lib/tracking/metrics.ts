/**
 * Metrics computed from raw runs (the memory storage, and the reference the Redis rollups are
 * tested against). Pure: same runs and `now`, same answer.
 */
import type { DailyMetrics, MetricsQuery, PipelineMetrics, StepMetrics } from "./metrics-types";
import type { PipelineStatus, Status } from "./models";

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
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
export function percentile(sorted: ArrayLike<number>, p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

/** A sorted copy; a Float64Array sorts numerically without a comparator call per pair (~5x faster). */
const ascending = (values: readonly number[]): Float64Array => Float64Array.from(values).sort();

const average = (sum: number, n: number): number | null => (n === 0 ? null : sum / n);
const rate = (completed: number, failed: number): number | null => (completed + failed === 0 ? null : completed / (completed + failed));

interface StepAcc {
  count: number;
  failed: number;
  durations: number[];
}

type DayAcc = DailyMetrics & { durationSum: number; durationCount: number };

/**
 * Metrics built run by run, so a storage that holds runs in its own compact form (the memory
 * storage) feeds the very same arithmetic as `computeMetrics` without building `PipelineStatus`es.
 */
export class MetricsAccumulator {
  private readonly days: number;
  private readonly now: Date;
  private readonly from: Date;
  private readonly fromMs: number;
  private readonly nowMs: number;
  private readonly daily: DayAcc[] = [];
  private readonly hours = new Array<number>(24).fill(0);
  private readonly durations: number[] = [];
  private readonly failureReasons: Record<string, number> = Object.create(null) as Record<string, number>;
  private readonly steps = new Map<string, StepAcc>();
  private total = 0;
  private completed = 0;
  private failed = 0;
  private cancelled = 0;
  private running = 0;

  constructor(query: MetricsQuery) {
    assertMetricsDays(query.days);
    this.days = query.days;
    this.now = query.now ?? new Date();
    this.from = windowStart(query.days, this.now);
    this.fromMs = this.from.getTime();
    this.nowMs = this.now.getTime();
    for (let i = 0; i < query.days; i++) {
      this.daily.push({
        date: utcDate(new Date(this.fromMs + i * DAY_MS)),
        total: 0,
        completed: 0,
        failed: 0,
        cancelled: 0,
        successRate: null,
        avgDurationMs: null,
        durationSum: 0,
        durationCount: 0,
      });
    }
  }

  /** Counts a run; false when it started outside the window (then skip its steps too). */
  addRun(startedMs: number, status: Status, error: string | null, durationMs: number | null): boolean {
    if (startedMs < this.fromMs || startedMs > this.nowMs) return false;
    const day = this.daily[Math.floor((startedMs - this.fromMs) / DAY_MS)]!;
    this.total++;
    day.total++;
    // The UTC hour, as Date#getUTCHours gives it, without a Date per run (and right before 1970).
    this.hours[((Math.floor(startedMs / HOUR_MS) % 24) + 24) % 24]!++;
    switch (status) {
      case "COMPLETED":
        this.completed++;
        day.completed++;
        break;
      case "FAILED":
        this.failed++;
        day.failed++;
        const reason = failureReason(error);
        this.failureReasons[reason] = (this.failureReasons[reason] ?? 0) + 1;
        break;
      case "CANCELLED":
        this.cancelled++;
        day.cancelled++;
        break;
      default:
        this.running++;
    }
    if (status !== "RUNNING" && status !== "PENDING" && durationMs !== null) {
      this.durations.push(durationMs);
      day.durationSum += durationMs;
      day.durationCount++;
    }
    return true;
  }

  /** A step of the run last added (only finished executions with a duration count). */
  addStep(stepName: string, status: Status, durationMs: number | null): void {
    if ((status !== "COMPLETED" && status !== "FAILED") || durationMs === null) return;
    let acc = this.steps.get(stepName);
    if (!acc) this.steps.set(stepName, (acc = { count: 0, failed: 0, durations: [] }));
    acc.count++;
    if (status === "FAILED") acc.failed++;
    acc.durations.push(durationMs);
  }

  result(): PipelineMetrics {
    const durations = ascending(this.durations);
    const finished = this.completed + this.failed + this.cancelled;
    const windowMinutes = Math.max(1, (this.nowMs - this.fromMs) / 60_000);
    const stepMetrics: StepMetrics[] = [];
    for (const [stepName, acc] of this.steps) {
      const sorted = ascending(acc.durations);
      stepMetrics.push({
        stepName,
        count: acc.count,
        failed: acc.failed,
        avgDurationMs: average(
          sorted.reduce((s, d) => s + d, 0),
          sorted.length,
        ),
        p95DurationMs: percentile(sorted, 95),
        maxDurationMs: sorted.length ? sorted[sorted.length - 1]! : null,
      });
    }
    stepMetrics.sort((a, b) => (b.avgDurationMs ?? 0) - (a.avgDurationMs ?? 0) || a.stepName.localeCompare(b.stepName));

    return {
      days: this.days,
      from: this.from.toISOString(),
      to: this.now.toISOString(),
      totalPipelines: this.total,
      completed: this.completed,
      failed: this.failed,
      cancelled: this.cancelled,
      running: this.running,
      successRate: rate(this.completed, this.failed),
      avgDurationMs: average(
        durations.reduce((s, d) => s + d, 0),
        durations.length,
      ),
      p50DurationMs: percentile(durations, 50),
      p95DurationMs: percentile(durations, 95),
      throughputPerMinute: finished / windowMinutes,
      failureReasons: { ...this.failureReasons },
      daily: this.daily.map(({ durationSum, durationCount, ...d }) => ({
        ...d,
        successRate: rate(d.completed, d.failed),
        avgDurationMs: average(durationSum, durationCount),
      })),
      busiestHours: this.hours.map((count, hour) => ({ hour, count })),
      steps: stepMetrics,
    };
  }
}

export function computeMetrics(runs: Iterable<PipelineStatus>, query: MetricsQuery): PipelineMetrics {
  const acc = new MetricsAccumulator(query);
  for (const run of runs) {
    if (!acc.addRun(run.startedAt.getTime(), run.status, run.error, run.durationMs)) continue;
    for (const step of run.steps) acc.addStep(step.stepName, step.status, step.durationMs);
  }
  return acc.result();
}
