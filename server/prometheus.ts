/**
 * Prometheus metrics (`_total` / `_seconds` naming conventions) in a registry of our own,
 * fed by a tracking listener in the server process. A run or step is counted once, when it is first
 * seen finished, whichever process ran it (remote runs reach the listener via the change feed), and
 * only when it ended while this registry existed: history imported or back-filled with past
 * timestamps is in the storage (and /api/metrics), never in these counters, which start at zero
 * with the process as Prometheus expects of a counter.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { isFinished, type PipelineTrackingManager, type PipelineStatus } from "pipewatch";

const RUN_BUCKETS = [0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 3600];
const STEP_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300];
/** Runs remembered as already counted; enough for every run that can still change. */
const COUNTED_KEPT = 50_000;
/** A run that ended this long before the registry started still counts (clocks of other writers). */
const CLOCK_SKEW_MS = 60_000;
/**
 * prom-client's unlabelled sums of the per-type `nodejs_active_*` gauges: gauges named `_total`,
 * which promtool rejects. The per-type gauges they sum stay.
 */
const NON_CONFORMING_DEFAULTS = ["nodejs_active_handles_total", "nodejs_active_requests_total", "nodejs_active_resources_total"];
const PREFIX = "pipewatch_";

export interface PrometheusMetrics {
  registry: Registry;
  dispose(): void;
}

export function createPrometheusMetrics(
  tracking: PipelineTrackingManager,
  options: { defaultMetrics?: boolean; now?: () => number } = {},
): PrometheusMetrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) {
    collectDefaultMetrics({ register: registry, prefix: PREFIX });
    for (const name of NON_CONFORMING_DEFAULTS) registry.removeSingleMetric(PREFIX + name);
  }
  const countFrom = (options.now ?? Date.now)() - CLOCK_SKEW_MS;
  const endedWhileWatching = (completedAt: Date | null): boolean => completedAt !== null && completedAt.getTime() >= countFrom;

  const runs = new Counter({
    name: "pipewatch_pipelines_total",
    help: "Finished pipeline runs by pipeline name and final status",
    labelNames: ["pipeline", "status"] as const,
    registers: [registry],
  });
  const runDuration = new Histogram({
    name: "pipewatch_pipeline_duration_seconds",
    help: "Duration of finished pipeline runs",
    labelNames: ["pipeline", "status"] as const,
    buckets: RUN_BUCKETS,
    registers: [registry],
  });
  const stepDuration = new Histogram({
    name: "pipewatch_step_duration_seconds",
    help: "Duration of finished steps",
    labelNames: ["pipeline", "step", "status"] as const,
    buckets: STEP_BUCKETS,
    registers: [registry],
  });
  new Gauge({
    name: "pipewatch_pipelines_running",
    help: "Pipeline runs PENDING or RUNNING now, in the storage",
    registers: [registry],
    async collect() {
      const counts = await tracking.countByStatus();
      this.set(counts.RUNNING + counts.PENDING);
    },
  });

  const countedRuns = new Set<string>();
  const countedSteps = new Map<string, Set<string>>();

  /** Keeps the bookkeeping bounded: past the limit, the oldest remembered run is forgotten. */
  const makeRoom = (collection: Set<string> | Map<string, unknown>): void => {
    if (collection.size < COUNTED_KEPT) return;
    const oldest = collection.keys().next().value;
    if (oldest !== undefined) collection.delete(oldest);
  };

  const listener = (status: PipelineStatus): void => {
    const pipeline = status.pipelineName ?? "unnamed";
    const id = status.pipelineId;
    if (countedRuns.has(id)) return;
    let steps = countedSteps.get(id);
    for (const step of status.steps) {
      if (!isFinished(step.status) || step.durationMs === null || steps?.has(step.stepName)) continue;
      if (!endedWhileWatching(step.completedAt)) continue;
      if (!steps) {
        makeRoom(countedSteps);
        steps = new Set();
        countedSteps.set(id, steps);
      }
      steps.add(step.stepName);
      stepDuration.observe({ pipeline, step: step.stepName, status: step.status }, step.durationMs / 1000);
    }
    if (!isFinished(status.status) || !endedWhileWatching(status.completedAt)) return;
    makeRoom(countedRuns);
    countedRuns.add(id);
    countedSteps.delete(id);
    runs.inc({ pipeline, status: status.status });
    if (status.durationMs !== null) runDuration.observe({ pipeline, status: status.status }, status.durationMs / 1000);
  };

  tracking.addListener(listener);
  return {
    registry,
    dispose() {
      tracking.removeListener(listener);
      registry.clear();
    },
  };
}
