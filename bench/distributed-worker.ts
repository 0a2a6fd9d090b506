/**
 * A worker process of the distributed benchmark (bench/distributed.ts spawns it with an IPC channel).
 * On command it runs either a raw BullMQ worker (each job of a 10-job chain adds the next with
 * Queue.add, the last announces the run's end) or a Pipewatch worker (`broker.startWorker`) for the
 * no-op pipeline, and, while recording, notes when each complete and claim script answered.
 */
import { Redis } from "ioredis";
import { pino } from "pino";
import type { Queue, Worker } from "bullmq";
import { BullMQBroker } from "../lib";
import {
  RAW_QUEUE,
  STEPS,
  benchPipeline,
  hostNow,
  rawDoneChannel,
  rawPrefix,
  type WorkerCommand,
  type WorkerReport,
} from "./distributed-pipeline";

const url = process.env.REDIS_URL!;
const prefix = process.env.BENCH_PREFIX!;
const workerId = process.env.BENCH_WORKER_ID!;
const logger = pino({ level: "warn" }, pino.destination(2));

const completes = new Map<string, number>();
const claims = new Map<string, number>();
let recording = false;
let stopCurrent: (() => Promise<void>) | null = null;

type Scripts = Record<"pwxClaim" | "pwxComplete", (...args: (string | number)[]) => Promise<unknown>>;

/** Wraps a script on the client so its answers are timed while recording (ARGV starts at index 3: gen, id, step). */
function timeScript(redis: Scripts, name: keyof Scripts, into: Map<string, number>): void {
  const original = redis[name].bind(redis);
  redis[name] = async (...args) => {
    const reply = await original(...args);
    if (recording) into.set(`${args[4]}|${args[5]}`, hostNow());
    return reply;
  };
}

async function startPipewatch(concurrency: number): Promise<() => Promise<void>> {
  const broker = new BullMQBroker({ connection: url, prefix, workerId, logger });
  const handle = await broker.startWorker({ pipelines: [benchPipeline(broker)], concurrency });
  timeScript(broker.redis as unknown as Scripts, "pwxClaim", claims);
  timeScript(broker.redis as unknown as Scripts, "pwxComplete", completes);
  return async () => {
    await handle.close({ graceMs: 1000 });
    await broker.close();
  };
}

async function startRaw(concurrency: number): Promise<() => Promise<void>> {
  const { Queue, Worker } = await import("bullmq");
  // One connection for the queue and the worker, as the broker shares its own (BullMQ duplicates it to block).
  const redis = new Redis(url, { maxRetriesPerRequest: null });
  const queue: Queue = new Queue(RAW_QUEUE, { connection: redis, prefix: rawPrefix(prefix) });
  const channel = rawDoneChannel(prefix);
  const worker: Worker = new Worker(
    RAW_QUEUE,
    async (job) => {
      const { r, i } = job.data as { r: string; i: number };
      if (i + 1 < STEPS) await queue.add("s", { r, i: i + 1 }, { removeOnComplete: true, removeOnFail: true });
      else await redis.publish(channel, r);
    },
    { connection: redis, prefix: rawPrefix(prefix), concurrency },
  );
  worker.on("error", (err) => logger.warn({ err }, "raw worker error"));
  await worker.waitUntilReady();
  return async () => {
    await worker.close();
    await queue.close();
    redis.disconnect();
  };
}

process.on("message", (command: WorkerCommand) => {
  void (async () => {
    if (command.type === "start") {
      stopCurrent = command.mode === "raw" ? await startRaw(command.concurrency) : await startPipewatch(command.concurrency);
      process.send!({ type: "started" });
    } else if (command.type === "stop") {
      await stopCurrent?.();
      stopCurrent = null;
      process.send!({ type: "stopped" });
    } else if (command.type === "record") {
      recording = command.on;
      if (command.on) {
        completes.clear();
        claims.clear();
      }
      process.send!({ type: "recording" });
    } else {
      const cpu = process.cpuUsage();
      const report: WorkerReport = { type: "report", completes: [...completes], claims: [...claims], cpuUs: cpu.user + cpu.system };
      process.send!(report);
    }
  })().catch((err: unknown) => {
    logger.error({ err }, "bench worker command failed");
    process.exit(1);
  });
});
// Exit normally on the bench's SIGTERM, so a CPU profile (DBENCH_PROFILE) is written.
process.on("SIGTERM", () => process.exit(0));
process.send!({ type: "booted" });
