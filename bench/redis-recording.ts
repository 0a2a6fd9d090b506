/** The Redis benchmark's writes: bulk saves, raw step writes, real Pipelines with tracking, and a live writer as background load. */
import { pino } from "pino";
import { InMemoryBroker, Pipeline, PipelineTrackingManager, type RedisPipelineStorage } from "../lib";
import { bulkRun, step } from "./redis-runs";

const logger = pino({ level: "silent" });

/** Stores runs `from`..`to` with at most `window` writes in flight (the storage pipelines them). */
export async function bulkSave(storage: RedisPipelineStorage, from: number, to: number, now: number): Promise<number> {
  const t = performance.now();
  const inFlight = new Set<Promise<void>>();
  for (let i = from; i < to; i++) {
    const p = storage.saveStatus(bulkRun(i, now, 7 * 86_400_000)).finally(() => inFlight.delete(p));
    inFlight.add(p);
    if (inFlight.size >= 5000) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  return (to - from) / ((performance.now() - t) / 1000);
}

export async function recordingRaw(storage: RedisPipelineStorage, runs: number): Promise<number> {
  const now = new Date();
  const names = Array.from({ length: 10 }, (_, i) => `s${i}`);
  await Promise.all(
    Array.from({ length: runs }, (_, r) =>
      storage.saveStatus({
        pipelineId: `raw_${r}`,
        pipelineName: "raw",
        status: "RUNNING",
        pipelineType: "sequential",
        startedAt: now,
        completedAt: null,
        durationMs: null,
        steps: names.map((n) => step(n)),
        result: null,
        error: null,
      }),
    ),
  );
  const t = performance.now();
  const writes: Promise<void>[] = [];
  for (const n of names) {
    for (let r = 0; r < runs; r++)
      writes.push(storage.saveStep(`raw_${r}`, step(n, { status: "RUNNING", startedAt: now, attempts: 1, workerId: "w" })));
    for (let r = 0; r < runs; r++) {
      writes.push(
        storage.saveStep(
          `raw_${r}`,
          step(n, { status: "COMPLETED", startedAt: now, completedAt: now, durationMs: 3, result: { r }, attempts: 1, workerId: "w" }),
        ),
      );
    }
  }
  await Promise.all(writes);
  await storage.flush();
  return writes.length / ((performance.now() - t) / 1000);
}

/** Step transitions/s through real Pipelines, and this process's CPU time per transition. */
export async function recordingPipelines(storage: RedisPipelineStorage, runs: number): Promise<{ rate: number; cpuUs: number }> {
  const tracking = new PipelineTrackingManager({ logger }).withStorage(storage);
  let pipe = new Pipeline(new InMemoryBroker(), { name: "bench10" });
  for (let i = 0; i < 10; i++) pipe = pipe.step(`s${i}`, (x: unknown) => x);
  pipe.withTracking(tracking);
  const t = performance.now();
  const cpu = process.cpuUsage();
  const tasks = await Promise.all(Array.from({ length: runs }, (_, i) => pipe.kiq(i)));
  await Promise.all(tasks.map((task) => task.waitResult({ timeoutMs: 120_000 })));
  await storage.flush();
  const used = process.cpuUsage(cpu);
  // Closing unsubscribes this manager from the change feed (the storage stays usable).
  await tracking.close();
  return { rate: (runs * 20) / ((performance.now() - t) / 1000), cpuUs: (used.user + used.system) / (runs * 20) };
}

/**
 * A second process's worth of live recording on its own connection: `runsPerSecond` runs started now
 * (saved RUNNING, then finished with 3 steps), so today's rollups and indexes keep changing.
 */
export function liveWriter(storage: RedisPipelineStorage, runsPerSecond: number): { stop: () => Promise<void> } {
  let i = 0;
  const tick = () => {
    const t = new Date();
    for (let k = 0; k < runsPerSecond / 10; k++, i++) {
      const finished = bulkRun(i, t.getTime(), 1);
      const id = `live_${i}`;
      void storage.saveStatus({
        ...finished,
        pipelineId: id,
        status: "RUNNING",
        completedAt: null,
        durationMs: null,
        error: null,
        result: null,
        steps: finished.steps.map((st) => step(st.stepName)),
      });
      void storage.saveStatus({ ...finished, pipelineId: id });
    }
  };
  const timer = setInterval(tick, 100);
  return {
    stop: async () => {
      clearInterval(timer);
      await storage.flush();
    },
  };
}
