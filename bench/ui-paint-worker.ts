/**
 * The other process of the paint benchmark (bench/ui-paint.ts): records runs with the library into
 * Redis (or, given `sqlite:<path>`, into the dashboard's SQLite file) and prints, as JSON lines on stdout, the epoch time of every step finish (taken just before
 * the step function resolves) and when each followed run starts and ends.
 *
 * Two workloads at once, the shapes that exposed the lags:
 * - list: one-step runs of 60 ms started 150 ms apart (shorter than any coalescing window, so a
 *   held-back final state shows);
 * - detail: runs of 80 steps of 60 ms, one after another; the parent opens each one's detail page
 *   mid-run.
 *
 * `node --import tsx bench/ui-paint-worker.ts <redis-url | sqlite:<path>> <key-prefix>`
 */
import { Redis } from "ioredis";
import { pino } from "pino";
import { InMemoryBroker } from "../lib/pipeline/broker";
import { Pipeline } from "../lib/pipeline/pipeline";
import { PipelineTrackingManager } from "../lib/tracking/manager";
import { RedisPipelineStorage } from "../lib/tracking/storage/redis/storage";
import { SqlitePipelineStorage } from "../lib/tracking/storage/sqlite/storage";
import type { TrackingStorage } from "../lib/tracking/storage/types";

export const LIST_RUNS = 300;
export const LIST_GAP_MS = 150;
export const DETAIL_RUNS = 6;
export const DETAIL_STEPS = 80;
export const STEP_MS = 60;
/** Between two detail runs, so one page visit ends before the next run starts. */
const DETAIL_PAUSE_MS = 1_500;

export type WorkerLine =
  | { kind: "finish"; role: "list" | "detail"; pipelineId: string; step: string; stepsCompleted: number; at: number }
  | { kind: "start"; role: "detail"; pipelineId: string; at: number }
  | { kind: "end"; role: "detail"; pipelineId: string; at: number }
  | { kind: "done" };

const epochNow = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// Printed after the step resolved, so the write to stdout is not on the measured path.
const print = (line: WorkerLine) => setImmediate(() => process.stdout.write(`${JSON.stringify(line)}\n`));

type AnyPipeline = Pipeline<unknown, unknown>;

function pipelineOf(broker: InMemoryBroker, name: string, steps: number, role: "list" | "detail"): AnyPipeline {
  let pipeline = new Pipeline(broker, { name }) as AnyPipeline;
  for (let i = 0; i < steps; i++) {
    const step = `step-${String(i).padStart(2, "0")}`;
    pipeline = pipeline.step(
      step,
      (_input: unknown, ctx) =>
        new Promise((resolve) =>
          setTimeout(() => {
            const at = epochNow();
            resolve(i);
            print({ kind: "finish", role, pipelineId: ctx.pipelineId, step, stepsCompleted: i + 1, at });
          }, STEP_MS),
        ),
    ) as AnyPipeline;
  }
  return pipeline;
}

async function main(target: string, keyPrefix: string): Promise<void> {
  // Logs to stderr: stdout carries the JSON lines.
  const logger = pino({ level: "warn" }, pino.destination(2));
  const redis = target.startsWith("sqlite:") ? null : new Redis(target);
  const storage: TrackingStorage = redis
    ? new RedisPipelineStorage(redis, { keyPrefix, logger })
    : new SqlitePipelineStorage({ path: target.slice("sqlite:".length), logger });
  const tracking = new PipelineTrackingManager({ logger }).withStorage(storage);
  const broker = new InMemoryBroker({ workerId: "bench-paint" });
  const short = pipelineOf(broker, "bench-paint-list", 1, "list").withTracking(tracking);
  const long = pipelineOf(broker, "bench-paint-detail", DETAIL_STEPS, "detail").withTracking(tracking);

  const listRuns = async () => {
    const results: Promise<unknown>[] = [];
    for (let i = 0; i < LIST_RUNS; i++) {
      const task = await short.kiq();
      results.push(task.waitResult({ timeoutMs: 60_000 }));
      await sleep(LIST_GAP_MS);
    }
    await Promise.all(results);
  };
  const detailRuns = async () => {
    for (let i = 0; i < DETAIL_RUNS; i++) {
      const task = await long.kiq();
      print({ kind: "start", role: "detail", pipelineId: task.pipelineId, at: epochNow() });
      await task.waitResult({ timeoutMs: 60_000 });
      print({ kind: "end", role: "detail", pipelineId: task.pipelineId, at: epochNow() });
      await sleep(DETAIL_PAUSE_MS);
    }
  };
  await Promise.all([listRuns(), detailRuns()]);
  await tracking.close();
  redis?.disconnect();
  print({ kind: "done" });
}

if ((process.argv[1] ?? "").endsWith("ui-paint-worker.ts")) {
  await main(process.argv[2] ?? "redis://127.0.0.1:6379", process.argv[3] ?? "pwbench:paint:worker:");
  setImmediate(() => process.exit(0));
}
