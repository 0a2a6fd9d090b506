/**
 * Back-filled demo history: a few hundred finished runs over the last 7 days with past timestamps,
 * busier on weekdays and in working hours, with each pipeline's usual failure rate, so the metrics
 * page has something to show on first start. Saved through `storage.saveStatus` (an import keeps
 * its timestamps) in batches. Skipped when a recent back-fill is already stored (Redis restarts).
 */
import type { PipelineStatus, StepStatus } from "../../lib/tracking/models";
import type { TrackingStorage } from "../../lib/tracking/storage/types";
import type { DemoPipeline } from "./definitions";
import { pick, randomBetween } from "./work";

export const BACKFILL_ID_PREFIX = "backfill-";
const HOUR_MS = 3_600_000;
const RUNS_PER_WEEKDAY_HOUR_PEAK = 5;
const BATCH = 100;

/** Relative activity by UTC hour: quiet nights, a morning ramp, a busy afternoon. */
const HOURLY = [0.2, 0.15, 0.15, 0.6, 0.2, 0.25, 0.4, 0.6, 0.85, 1, 1, 0.9, 0.8, 0.9, 1, 1, 0.95, 0.8, 0.6, 0.5, 0.4, 0.35, 0.3, 0.25];

export async function backfillHistory(storage: TrackingStorage, pipelines: readonly DemoPipeline[],
  options: { days?: number; now?: Date } = {}): Promise<number> {
  const now = options.now ?? new Date();
  const days = options.days ?? 7;
  const newest = (await storage.listPage({ q: BACKFILL_ID_PREFIX, limit: 1 })).items[0];
  let from = now.getTime() - days * 24 * HOUR_MS;
  if (newest) {
    const newestMs = Date.parse(newest.startedAt);
    if (now.getTime() - newestMs < 12 * HOUR_MS) return 0;
    from = Math.max(from, newestMs + HOUR_MS);
  }
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

function pastRun(demo: DemoPipeline, startMs: number): PipelineStatus {
  const { pipeline } = demo;
  const name = pipeline.name ?? "pipeline";
  const failed = Math.random() < demo.failureRate;
  const stepNames = pipeline.stepNames;
  const failAt = failed ? Math.floor(Math.random() * stepNames.length) : -1;
  const error = failed ? pick(demo.errors) : null;
  let clock = startMs;
  const steps: StepStatus[] = stepNames.map((stepName, index) => {
    const [min, max] = demo.stepDurations[stepName] ?? [100, 1_000];
    if (failAt >= 0 && index > failAt) {
      return { stepName, status: "CANCELLED", startedAt: null, completedAt: null, durationMs: null, result: null, error: null, dependsOn: [], attempts: 0, workerId: null };
    }
    const durationMs = Math.round(randomBetween(min, max));
    const startedAt = new Date(clock);
    clock += durationMs;
    const ok = index !== failAt;
    return {
      stepName, status: ok ? "COMPLETED" : "FAILED", startedAt, completedAt: new Date(clock), durationMs,
      result: ok ? { ok: true } : null, error: ok ? null : error, dependsOn: [], attempts: 1, workerId: "demo-backfill",
    };
  });
  const id = `${BACKFILL_ID_PREFIX}${name}_${Math.floor(startMs).toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  return {
    pipelineId: id, pipelineName: name, status: failed ? "FAILED" : "COMPLETED", pipelineType: pipeline.pipelineType,
    startedAt: new Date(startMs), completedAt: new Date(clock), durationMs: clock - startMs,
    steps, result: failed ? null : { ok: true }, error,
  };
}
