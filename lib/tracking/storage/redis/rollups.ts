/**
 * Metrics rollups for the Redis storage: what each run and step adds to its start day's counters
 * (computed here, applied by the Lua scripts), and `getMetrics` assembled from those counters in
 * O(days). The semantics are `computeMetrics`'s: runs count by the UTC day/hour they started,
 * running ones included; durations and percentiles over finished runs; step stats over finished
 * (completed or failed) steps of every run.
 *
 * Durations go into a log-spaced histogram: bucket 0 holds [0, 1) ms, bucket b ≥ 1 holds
 * [1.02^(b-1), 1.02^b) ms and answers its geometric middle, so a percentile is within 1 % (or 0.5 ms).
 */
import { failureReason, utcDate, windowStart } from "../../metrics";
import type { MetricsQuery, PipelineMetrics, StepMetrics } from "../../metrics-types";
import type { PipelineStatus, StepStatus } from "../../models";

const DAY_MS = 86_400_000;
const GROWTH = 1.02;
const LOG_GROWTH = Math.log(GROWTH);

export function durationBucket(ms: number): number {
  return ms < 1 ? 0 : 1 + Math.floor(Math.log(ms) / LOG_GROWTH);
}

export function bucketValue(bucket: number): number {
  return bucket === 0 ? 0.5 : Math.exp((bucket - 0.5) * LOG_GROWTH);
}

/** "<day>|<expire-at ms>" of a run's start day; rollups live `retentionDays` after that day ends. */
export function dayStamp(startedAt: Date, retentionDays: number): string {
  const dayStart = Date.UTC(startedAt.getUTCFullYear(), startedAt.getUTCMonth(), startedAt.getUTCDate());
  return `${utcDate(startedAt)}|${dayStart + (retentionDays + 1) * DAY_MS}`;
}

/** A run's contribution: "<day>|<exp>|<hour>|<status>|<duration>|<bucket>|<reason>". */
export function runContribution(status: PipelineStatus, stamp: string): string {
  const finished = status.status !== "RUNNING" && status.status !== "PENDING";
  const d = finished && status.durationMs !== null ? status.durationMs : null;
  const reason = status.status === "FAILED" ? failureReason(status.error) : "";
  return `${stamp}|${status.startedAt.getUTCHours()}|${status.status}|${d === null ? "" : d}|${d === null ? "" : durationBucket(d)}|${reason}`;
}

/** A step's contribution without its day ("<failed 0/1>|<duration>|<bucket>"), or "" when it adds none. */
export function stepContribution(step: StepStatus): string {
  if ((step.status !== "COMPLETED" && step.status !== "FAILED") || step.durationMs === null) return "";
  return `${step.status === "FAILED" ? 1 : 0}|${step.durationMs}|${durationBucket(step.durationMs)}`;
}

type Hash = Record<string, string>;

interface StepAcc {
  count: number;
  failed: number;
  sum: number;
  max: number | null;
  buckets: Histogram;
}

/** One day's three rollup hashes, parsed: what `assembleMetrics` sums over a window. */
export interface DayRollup {
  total: number;
  completed: number;
  failed: number;
  cancelled: number;
  running: number;
  durationSum: number;
  durationCount: number;
  /** [hour, count] pairs */
  hours: [number, number][];
  durations: Histogram;
  reasons: [string, number][];
  steps: Map<string, StepAcc>;
}

/**
 * Counts by bucket number, dense (holes are 0): bucket numbers are small (a day's duration is bucket
 * ~920), and summing or ranking a dense array costs no Map operations and no sort; that was most
 * of getMetrics' time once the rollups themselves were kept parsed (read/metrics.ts).
 */
type Histogram = number[];

/** Largest bucket kept: durationBucket(Number.MAX_VALUE) is ~35 850. */
const MAX_BUCKET = 40_000;

function addBucket(buckets: Histogram, bucket: number, n: number): void {
  if (n === 0 || !(bucket >= 0 && bucket <= MAX_BUCKET)) return;
  for (let i = buckets.length; i < bucket; i++) buckets[i] = 0;
  buckets[bucket] = (buckets[bucket] ?? 0) + n;
}

function addHistogram(into: Histogram, from: Histogram): void {
  for (let i = into.length; i < from.length; i++) into[i] = 0;
  for (let i = 0; i < from.length; i++) into[i]! += from[i]!;
}

/** Nearest-rank percentile of a histogram, as `percentile()` ranks a sorted array. */
function histogramPercentile(buckets: Histogram, total: number, p: number, max: number | null): number | null {
  if (total <= 0) return null;
  const rank = Math.min(total, Math.max(1, Math.ceil((p / 100) * total)));
  let seen = 0;
  for (let bucket = 0; bucket < buckets.length; bucket++) {
    seen += buckets[bucket]!;
    if (seen >= rank) return max === null ? bucketValue(bucket) : Math.min(max, bucketValue(bucket));
  }
  return null;
}

const int = (v: string | undefined): number => (v === undefined ? 0 : Number.parseInt(v, 10) || 0);
const float = (v: string | undefined): number => (v === undefined ? 0 : Number.parseFloat(v) || 0);
const average = (sum: number, n: number): number | null => (n <= 0 ? null : sum / n);
const rate = (completed: number, failed: number): number | null => (completed + failed === 0 ? null : completed / (completed + failed));

/** The days of a window, oldest first, as `computeMetrics` lays them out. */
export function windowDays(query: MetricsQuery): { from: Date; now: Date; days: string[] } {
  const now = query.now ?? new Date();
  const from = windowStart(query.days, now);
  const days = Array.from({ length: query.days }, (_, i) => utcDate(new Date(from.getTime() + i * DAY_MS)));
  return { from, now, days };
}

/** A day's rollups from its three hashes (counters, reasons, steps; HGETALL objects). */
export function parseDay(c: Hash, reasons: Hash, s: Hash): DayRollup {
  const day: DayRollup = {
    total: int(c.t),
    completed: int(c["s:COMPLETED"]),
    failed: int(c["s:FAILED"]),
    cancelled: int(c["s:CANCELLED"]),
    running: int(c["s:RUNNING"]) + int(c["s:PENDING"]),
    durationSum: float(c.ds),
    durationCount: int(c.dc),
    hours: [],
    durations: [],
    reasons: [],
    steps: new Map(),
  };
  for (const [field, value] of Object.entries(c)) {
    if (field[0] === "h") day.hours.push([int(field.slice(1)), int(value)]);
    else if (field[0] === "b") addBucket(day.durations, int(field.slice(1)), int(value));
  }
  for (const [reason, value] of Object.entries(reasons)) {
    const n = int(value);
    if (n > 0) day.reasons.push([reason, n]);
  }
  for (const [field, value] of Object.entries(s)) addStepField(day.steps, field, value);
  return day;
}

const EMPTY_DAY: DayRollup = parseDay({}, {}, {});

/** `PipelineMetrics` from each window day's parsed rollups (oldest first). */
export function assembleMetrics(query: MetricsQuery, perDay: readonly DayRollup[]): PipelineMetrics {
  const { from, now, days } = windowDays(query);
  const hours = new Array<number>(24).fill(0);
  const durations: Histogram = [];
  const failureReasons: Record<string, number> = {};
  const steps = new Map<string, StepAcc>();
  let total = 0,
    completed = 0,
    failed = 0,
    cancelled = 0,
    running = 0,
    durationSum = 0,
    durationCount = 0;

  const daily = days.map((date, i) => {
    const d = perDay[i] ?? EMPTY_DAY;
    total += d.total;
    completed += d.completed;
    failed += d.failed;
    cancelled += d.cancelled;
    running += d.running;
    durationSum += d.durationSum;
    durationCount += d.durationCount;
    for (const [hour, n] of d.hours) hours[hour]! += n;
    addHistogram(durations, d.durations);
    for (const [reason, n] of d.reasons) failureReasons[reason] = (failureReasons[reason] ?? 0) + n;
    for (const [name, s] of d.steps) {
      let acc = steps.get(name);
      if (!acc) steps.set(name, (acc = { count: 0, failed: 0, sum: 0, max: null, buckets: [] }));
      acc.count += s.count;
      acc.failed += s.failed;
      acc.sum += s.sum;
      if (s.max !== null) acc.max = Math.max(acc.max ?? -Infinity, s.max);
      addHistogram(acc.buckets, s.buckets);
    }
    return {
      date,
      total: d.total,
      completed: d.completed,
      failed: d.failed,
      cancelled: d.cancelled,
      successRate: rate(d.completed, d.failed),
      avgDurationMs: average(d.durationSum, d.durationCount),
    };
  });

  const stepMetrics: StepMetrics[] = [];
  for (const [stepName, acc] of steps) {
    if (acc.count <= 0) continue;
    stepMetrics.push({
      stepName,
      count: acc.count,
      failed: acc.failed,
      avgDurationMs: average(acc.sum, acc.count),
      p95DurationMs: histogramPercentile(acc.buckets, acc.count, 95, acc.max),
      maxDurationMs: acc.max,
    });
  }
  stepMetrics.sort((a, b) => (b.avgDurationMs ?? 0) - (a.avgDurationMs ?? 0) || a.stepName.localeCompare(b.stepName));
  const finished = completed + failed + cancelled;
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
    avgDurationMs: average(durationSum, durationCount),
    p50DurationMs: histogramPercentile(durations, durationCount, 50, null),
    p95DurationMs: histogramPercentile(durations, durationCount, 95, null),
    throughputPerMinute: finished / Math.max(1, (now.getTime() - from.getTime()) / 60_000),
    failureReasons,
    daily,
    busiestHours: hours.map((count, hour) => ({ hour, count })),
    steps: stepMetrics,
  };
}

/** Step fields are "<kind>|<step>" with kind c, f, s, m or b<bucket>; the name may hold "|". */
function addStepField(steps: Map<string, StepAcc>, field: string, value: string): void {
  const sep = field.indexOf("|");
  if (sep <= 0) return;
  const kind = field.slice(0, sep);
  const name = field.slice(sep + 1);
  let acc = steps.get(name);
  if (!acc) steps.set(name, (acc = { count: 0, failed: 0, sum: 0, max: null, buckets: [] }));
  if (kind === "c") acc.count += int(value);
  else if (kind === "f") acc.failed += int(value);
  else if (kind === "s") acc.sum += float(value);
  else if (kind === "m") acc.max = Math.max(acc.max ?? -Infinity, float(value));
  else if (kind[0] === "b") addBucket(acc.buckets, int(kind.slice(1)), int(value));
}
