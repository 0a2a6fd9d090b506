/**
 * Back-filled demo history: a few hundred finished runs over the last 7 days with past timestamps,
 * busier on weekdays and in working hours, with each pipeline's usual failure rate (and the slow
 * job cancelled now and then), so the metrics page has something to show on first start. Steps
 * carry their definition's dependsOn and are timed like the executor runs them: a dataflow's
 * independent branches overlap, and a failure or cancel cuts the running steps short. Saved through
 * `storage.saveStatus` (an import keeps its timestamps) in batches. Written only into an empty store
 * (`isStoreEmpty`, asked before the live demo records anything), so a restart on a persistent
 * storage (SQLite, Redis) never adds a second week of invented history.
 */
import type { PipelineStatus, StepStatus, TrackingStorage } from "pipewatch";
import type { DemoPipeline } from "./definitions";
import { pick } from "./work";

export const BACKFILL_ID_PREFIX = "backfill-";
const HOUR_MS = 3_600_000;
const RUNS_PER_WEEKDAY_HOUR_PEAK = 5;
const BATCH = 100;

/** Relative activity by UTC hour: quiet nights, a morning ramp, a busy afternoon. */
const HOURLY = [0.2, 0.15, 0.15, 0.6, 0.2, 0.25, 0.4, 0.6, 0.85, 1, 1, 0.9, 0.8, 0.9, 1, 1, 0.95, 0.8, 0.6, 0.5, 0.4, 0.35, 0.3, 0.25];

export async function backfillHistory(
  storage: TrackingStorage,
  pipelines: readonly DemoPipeline[],
  options: { days?: number; now?: Date } = {},
): Promise<number> {
  const now = options.now ?? new Date();
  const days = options.days ?? 7;
  const from = now.getTime() - days * 24 * HOUR_MS;
  const runs: PipelineStatus[] = [];
  const totalWeight = pipelines.reduce((s, p) => s + p.weight, 0);
  // Stop an hour short of now: the live workload fills the present.
  for (let hourStart = from; hourStart < now.getTime() - HOUR_MS; hourStart += HOUR_MS) {
    const date = new Date(hourStart);
    const weekend = date.getUTCDay() === 0 || date.getUTCDay() === 6;
    const expected = RUNS_PER_WEEKDAY_HOUR_PEAK * HOURLY[date.getUTCHours()]! * (weekend ? 0.35 : 1);
    const count = Math.floor(expected + Math.random());
    for (let i = 0; i < count; i++) {
      let roll = Math.random() * totalWeight;
      const demo = pipelines.find((p) => (roll -= p.weight) <= 0) ?? pipelines[0]!;
      runs.push(pastRun(demo, hourStart + Math.random() * HOUR_MS));
    }
  }
  for (let i = 0; i < runs.length; i += BATCH) {
    await Promise.all(runs.slice(i, i + BATCH).map((run) => storage.saveStatus(run)));
  }
  return runs.length;
}

/** True when the storage holds no run at all: the only time the demo back-fills. */
export async function isStoreEmpty(storage: TrackingStorage): Promise<boolean> {
  return (await storage.listPage({ limit: 1 })).items.length === 0;
}

/** One finished run as the executor would have recorded it (see `recordPipelineEnd` in lib). */
export function pastRun(demo: DemoPipeline, startMs: number, roll: () => number = Math.random): PipelineStatus {
  const { pipeline } = demo;
  const name = pipeline.name ?? "pipeline";
  const planned = plan(demo, startMs, roll);
  const naturalEnd = Math.max(...planned.map((p) => p.end));
  // A failure ends the run when its step fails; a cancel, at some point while it runs.
  const outcome = roll() < demo.failureRate ? "FAILED" : roll() < demo.cancelRate ? "CANCELLED" : "COMPLETED";
  const failing = outcome === "FAILED" ? planned[Math.floor(roll() * planned.length)]! : null;
  const endMs = failing ? failing.end : outcome === "CANCELLED" ? startMs + (0.1 + 0.8 * roll()) * (naturalEnd - startMs) : naturalEnd;
  const error = outcome === "FAILED" ? pick(demo.errors) : outcome === "CANCELLED" ? "Cancelled" : null;

  const steps = planned.map(({ stepName, dependsOn, start, end }): StepStatus => {
    const base = { stepName, dependsOn: [...dependsOn], result: null, error: null };
    if (start >= endMs && failing?.stepName !== stepName) {
      return { ...base, status: "CANCELLED", startedAt: null, completedAt: null, durationMs: null, attempts: 1, workerId: null };
    }
    const ran = { startedAt: new Date(start), attempts: 1, workerId: "demo-backfill" };
    if (failing?.stepName === stepName) {
      return { ...base, ...ran, status: "FAILED", completedAt: new Date(end), durationMs: end - start, error };
    }
    if (end > endMs) {
      // Still running when the run ended: cut short at the end, as the executor records it.
      return { ...base, ...ran, status: "CANCELLED", completedAt: new Date(endMs), durationMs: Math.round(endMs - start) };
    }
    return { ...base, ...ran, status: "COMPLETED", completedAt: new Date(end), durationMs: end - start, result: { ok: true } };
  });
  const id = `${BACKFILL_ID_PREFIX}${name}_${Math.floor(startMs).toString(36)}_${roll().toString(36).slice(2, 8)}`;
  return {
    pipelineId: id,
    pipelineName: name,
    status: outcome,
    pipelineType: pipeline.pipelineType,
    startedAt: new Date(startMs),
    completedAt: new Date(endMs),
    durationMs: Math.round(endMs - startMs),
    steps,
    result: outcome === "COMPLETED" ? { ok: true } : null,
    error,
  };
}

interface PlannedStep {
  stepName: string;
  dependsOn: readonly string[];
  start: number;
  end: number;
}

/**
 * When each step would run if nothing failed: a sequential pipeline is a chain; a dataflow step
 * starts when its last dependency ends, so independent branches overlap.
 */
function plan(demo: DemoPipeline, startMs: number, roll: () => number): PlannedStep[] {
  const dataflow = demo.pipeline.pipelineType === "dataflow";
  const ends = new Map<string, number>();
  let previousEnd = startMs;
  return demo.pipeline.stepNames.map((stepName) => {
    const dependsOn = dataflow ? (demo.dependsOn[stepName] ?? []) : [];
    const start = dataflow ? Math.max(startMs, ...dependsOn.map((d) => ends.get(d) ?? startMs)) : previousEnd;
    const [min, max] = demo.stepDurations[stepName] ?? [100, 1_000];
    const end = start + Math.round(min + roll() * (max - min));
    ends.set(stepName, end);
    previousEnd = end;
    return { stepName, dependsOn, start, end };
  });
}
