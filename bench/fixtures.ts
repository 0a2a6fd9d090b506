/** What several benchmarks share: the same 100 000-run data set, and stopping a child process. */
import type { ChildProcess } from "node:child_process";
import type { Redis } from "ioredis";
import { pino } from "pino";
import type { PipelineStatus, Status } from "../lib/tracking/models";
import { RedisPipelineStorage } from "../lib/tracking/storage/redis/storage";

const NAMES = ["etl", "report", "sync"] as const;
const STATUSES: Status[] = ["COMPLETED", "COMPLETED", "COMPLETED", "COMPLETED", "COMPLETED", "COMPLETED", "FAILED", "CANCELLED"];
const BATCH = 2_000;

/** The j-th of `count` finished 3-step runs spread over the last 7 days (75 % completed). */
export function benchRun(j: number, count: number, nowMs: number): PipelineStatus {
  const start = nowMs - Math.floor(((count - j) / count) * 7 * 86_400_000);
  const status = STATUSES[j % STATUSES.length]!;
  const name = NAMES[j % NAMES.length]!;
  return {
    pipelineId: `bench-${name}_${j.toString(36)}`,
    pipelineName: name,
    status,
    pipelineType: "sequential",
    startedAt: new Date(start),
    completedAt: new Date(start + 1_000 + (j % 50) * 100),
    durationMs: 1_000 + (j % 50) * 100,
    result: { rows: j },
    error: status === "FAILED" ? `Error ${j % 7}: something broke` : null,
    steps: ["extract", "transform", "load"].map((stepName, k) => ({
      stepName,
      status: status === "FAILED" && k === 2 ? "FAILED" : status === "CANCELLED" && k === 2 ? "CANCELLED" : "COMPLETED",
      startedAt: new Date(start + k * 300),
      completedAt: new Date(start + (k + 1) * 300),
      durationMs: 300,
      result: { k },
      error: null,
      dependsOn: [],
      attempts: 1,
      workerId: "bench",
    })),
  };
}

/** Saves `count` bench runs under `keyPrefix` with many saveStatus calls in flight; answers the seconds it took. */
export async function seedFinishedRuns(redis: Redis, keyPrefix: string, count: number): Promise<number> {
  const storage = new RedisPipelineStorage(redis, { keyPrefix, logger: pino({ level: "warn" }) });
  const started = performance.now();
  const nowMs = Date.now();
  for (let i = 0; i < count; i += BATCH) {
    const writes: Promise<void>[] = [];
    for (let j = i; j < Math.min(count, i + BATCH); j++) writes.push(storage.saveStatus(benchRun(j, count, nowMs)));
    await Promise.all(writes);
  }
  await storage.close();
  return (performance.now() - started) / 1000;
}

/** SIGTERM, then SIGKILL after 5 s; resolves once the child has exited. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
  await exited;
  clearTimeout(timer);
}
