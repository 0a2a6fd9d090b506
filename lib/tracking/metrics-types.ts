/** `PipelineMetrics` (docs/api.md, GET /api/metrics): what `getMetrics({ days })` answers. UTC days, zero-filled. */
export interface DailyMetrics {
  /** YYYY-MM-DD (UTC) */
  date: string;
  total: number;
  completed: number;
  failed: number;
  cancelled: number;
  /** completed / (completed + failed); null when nothing finished that day (a gap, not 0%). */
  successRate: number | null;
  avgDurationMs: number | null;
}

export interface StepMetrics {
  stepName: string;
  /** Finished executions (completed or failed). */
  count: number;
  failed: number;
  avgDurationMs: number | null;
  p95DurationMs: number | null;
  maxDurationMs: number | null;
}

export interface PipelineMetrics {
  days: number;
  /** Start of the first UTC day of the window (ISO). */
  from: string;
  /** The moment the metrics were computed (ISO). */
  to: string;
  totalPipelines: number;
  completed: number;
  failed: number;
  cancelled: number;
  /** PENDING or RUNNING now. */
  running: number;
  successRate: number | null;
  /** Over finished runs (completed, failed, cancelled). */
  avgDurationMs: number | null;
  p50DurationMs: number | null;
  p95DurationMs: number | null;
  /** Finished runs per minute over the window. */
  throughputPerMinute: number;
  /** Failed runs by the first line of their error (at most 120 chars). */
  failureReasons: Record<string, number>;
  daily: DailyMetrics[];
  /** 24 entries, hour 0-23 UTC: runs started in that hour over the window. */
  busiestHours: { hour: number; count: number }[];
  /** Slowest first (by average duration). */
  steps: StepMetrics[];
}

export interface MetricsQuery {
  days: number;
  /** Defaults to the current time; tests pin it. */
  now?: Date;
}
