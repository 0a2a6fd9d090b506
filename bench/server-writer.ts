/**
 * Another process recording runs into the benchmark's Redis. On `{ runs, concurrency, steps,
 * stepMs }` over IPC it runs that many sequential pipelines, and for every step that finishes sends
 * `{ pipelineId, stepsCompleted, at }` (at = epoch ms, sub-ms precision) the moment the tracking
 * manager records it, so the parent can time finish → `pipeline:update` arrival.
 */
import { Redis } from "ioredis";
import { pino } from "pino";
import { InMemoryBroker } from "../lib/pipeline/broker";
import { Pipeline } from "../lib/pipeline/pipeline";
import { PipelineTrackingManager } from "../lib/tracking/manager";
import { RedisPipelineStorage } from "../lib/tracking/storage/redis/storage";

export interface WriterJob {
  runs: number;
  concurrency: number;
  steps: number;
  stepMs: number;
}
export interface StepFinished {
  pipelineId: string;
  stepsCompleted: number;
  at: number;
}
/** The job's end; `error` when it failed (the parent must not wait for runs that will never come). */
export interface WriterDone {
  done: true;
  error?: string;
}

const [redisUrl = "redis://127.0.0.1:6379", keyPrefix = "pwbench:server:"] = process.argv.slice(2);
const logger = pino({ level: "warn" });
const redis = new Redis(redisUrl);
const tracking = new PipelineTrackingManager({ logger }).withStorage(new RedisPipelineStorage(redis, { keyPrefix, logger }));
const completed = new Map<string, number>();
const now = () => performance.timeOrigin + performance.now();

tracking.addListener({
  onStepComplete(pipelineId) {
    const n = (completed.get(pipelineId) ?? 0) + 1;
    completed.set(pipelineId, n);
    process.send?.({ pipelineId, stepsCompleted: n, at: now() } satisfies StepFinished);
  },
  onPipelineComplete(pipelineId) {
    completed.delete(pipelineId);
  },
});

async function runJob(job: WriterJob): Promise<void> {
  const broker = new InMemoryBroker({ workerId: "bench-writer" });
  let pipeline = new Pipeline(broker, { name: "bench-live" }) as Pipeline<unknown, unknown>;
  for (let i = 0; i < job.steps; i++) {
    pipeline = pipeline.step(`step-${i}`, () => new Promise((r) => setTimeout(() => r(i), job.stepMs))) as Pipeline<unknown, unknown>;
  }
  pipeline.withTracking(tracking);
  let started = 0;
  const lane = async () => {
    while (started < job.runs) {
      started++;
      const task = await pipeline.kiq();
      await task.waitResult({ timeoutMs: 60_000 });
    }
  };
  await Promise.all(Array.from({ length: job.concurrency }, lane));
}

process.on("message", (job: WriterJob) => {
  void runJob(job).then(
    () => process.send?.({ done: true } satisfies WriterDone),
    (err: unknown) => process.send?.({ done: true, error: err instanceof Error ? err.message : String(err) } satisfies WriterDone),
  );
});
process.on("SIGTERM", () => {
  void tracking.close().finally(() => {
    redis.disconnect();
    process.exit(0);
  });
});
process.send?.({ ready: true });
