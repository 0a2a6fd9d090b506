/**
 * Distributed execution on BullMQ, against a raw BullMQ baseline, in one run on the same Redis:
 *  - raw BullMQ: 10-job chains of no-op jobs, each job's processor adding the next (Queue.add);
 *  - Pipewatch: a sequential 10-step pipeline of no-op steps on a BullMQBroker, tracked in the Redis
 *    storage, end to end (kiq → every run finished, as the producer sees it);
 * each with 1 and 2 worker processes (bench/distributed-worker.ts, real child processes), the same
 * worker concurrency and the same number of runs in flight; then the dispatch latency (a step's
 * complete script answered → its dependent's claim script answered, on the host's one clock) at a
 * moderate load. Redis: REDIS_URL (default the machine's, database 15), every key under a unique
 * prefix, deleted at the end. `npm run bench -- distributed`, or `npx tsx bench/distributed.ts`.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { Redis } from "ioredis";
import { Queue } from "bullmq";
import { pino } from "pino";
import { BullMQBroker, PipelineTrackingManager } from "../lib";
import { RAW_QUEUE, STEPS, benchPipeline, rawDoneChannel, rawPrefix, type WorkerCommand, type WorkerReport } from "./distributed-pipeline";
import { stopChild } from "./fixtures";
import { deleteKeys } from "./redis-runs";

const URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379/15";
const PREFIX = `pwbench:dist:${randomBytes(3).toString("hex")}:`;
const RUNS = Number(process.env.DBENCH_RUNS ?? 600);
const IN_FLIGHT = 64;
const CONCURRENCY = 32;
const ROUNDS = Number(process.env.DBENCH_ROUNDS ?? 2);
const LATENCY_RUNS = 300;
const LATENCY_IN_FLIGHT = 8;
const logger = pino({ level: "warn" });

interface Child {
  process: ChildProcess;
  ask(command: WorkerCommand, answer: string): Promise<unknown>;
}

function spawnWorker(n: number): Promise<Child> {
  // DBENCH_PROFILE=<dir>: each worker writes a V8 CPU profile there when it exits.
  const profile = process.env.DBENCH_PROFILE ? ["--cpu-prof", `--cpu-prof-dir=${process.env.DBENCH_PROFILE}`] : [];
  const child = spawn(process.execPath, [...profile, "--import", "tsx", "bench/distributed-worker.ts"], {
    env: { ...process.env, REDIS_URL: URL, BENCH_PREFIX: PREFIX, BENCH_WORKER_ID: `dbench-w${n}` },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const next = (type: string) =>
    new Promise<unknown>((resolve, reject) => {
      const onMessage = (m: { type: string }) => {
        if (m.type !== type) return;
        child.off("message", onMessage);
        child.off("exit", onExit);
        resolve(m);
      };
      const onExit = (code: number | null) => reject(new Error(`bench worker ${n} exited ${code}`));
      child.on("message", onMessage);
      child.once("exit", onExit);
    });
  return next("booted").then(() => ({
    process: child,
    ask: (command, answer) => {
      const reply = next(answer);
      child.send(command);
      return reply;
    },
  }));
}

/** Runs `total` runs, `inFlight` at a time; answers the seconds from the first start to the last end. */
async function pool(total: number, inFlight: number, runOne: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < total) await runOne(next++);
    }),
  );
  return (performance.now() - started) / 1000;
}

interface RedisStats {
  calls: number;
  cpuS: number;
}

async function redisStats(admin: Redis): Promise<RedisStats> {
  const info = (await admin.info("commandstats")) + (await admin.info("cpu"));
  let calls = 0;
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) if (m[1] !== "info") calls += Number(m[2]);
  const cpu = (k: string) => Number(new RegExp(`^${k}:([\\d.]+)`, "m").exec(info)?.[1] ?? 0);
  return { calls, cpuS: cpu("used_cpu_user") + cpu("used_cpu_sys") };
}

interface Phase {
  kind: "raw" | "pipewatch";
  workers: number;
  rate: number;
  /** Per step: µs of CPU in the worker processes, in this (producer) process, in Redis; Redis commands. */
  workerCpuUs: number;
  producerCpuUs: number;
  redisCpuUs: number;
  redisCalls: number;
}

async function cpuOf(children: Child[]): Promise<number> {
  const reports = (await Promise.all(children.map((c) => c.ask({ type: "report" }, "report")))) as WorkerReport[];
  return reports.reduce((sum, r) => sum + r.cpuUs, 0);
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

export async function run(): Promise<string> {
  const admin = new Redis(URL);
  const children = await Promise.all([spawnWorker(1), spawnWorker(2)]);
  const producer = new BullMQBroker({ connection: URL, prefix: PREFIX, workerId: "dbench-producer", logger });
  const tracking = new PipelineTrackingManager({ logger }).withAutoStorage(producer);
  const pipe = benchPipeline(producer).withTracking(tracking);
  const rawRedis = new Redis(URL, { maxRetriesPerRequest: null });
  const rawQueue = new Queue(RAW_QUEUE, { connection: rawRedis, prefix: rawPrefix(PREFIX) });
  const rawDone = new Map<string, () => void>();
  const sub = new Redis(URL);
  sub.on("message", (_channel: string, r: string) => rawDone.get(r)?.());
  await sub.subscribe(rawDoneChannel(PREFIX));
  let failures = 0;

  const runRaw = (tag: string) => async (i: number) => {
    const r = `${tag}-${i}`;
    const done = new Promise<void>((resolve) => rawDone.set(r, resolve));
    await rawQueue.add("s", { r, i: 0 }, { removeOnComplete: true, removeOnFail: true });
    await done;
    rawDone.delete(r);
  };
  const runPipewatch = (tag: string) => async (i: number) => {
    const task = await pipe.kiq(i as never, { pipelineId: `${tag}-${i}` });
    const result = await task.waitResult({ timeoutMs: 60_000 });
    if (result.isErr) failures++;
  };

  async function phase(kind: Phase["kind"], workers: number, tag: string, runs = RUNS): Promise<Phase> {
    const used = children.slice(0, workers);
    await Promise.all(used.map((c) => c.ask({ type: "start", mode: kind, concurrency: CONCURRENCY }, "started")));
    const [cpuBefore, redisBefore, ownBefore] = [await cpuOf(used), await redisStats(admin), process.cpuUsage()];
    const seconds = await pool(runs, IN_FLIGHT, kind === "raw" ? runRaw(tag) : runPipewatch(tag));
    const own = process.cpuUsage(ownBefore);
    const [cpuAfter, redisAfter] = [await cpuOf(used), await redisStats(admin)];
    await Promise.all(used.map((c) => c.ask({ type: "stop" }, "stopped")));
    const steps = runs * STEPS;
    return {
      kind,
      workers,
      rate: steps / seconds,
      workerCpuUs: (cpuAfter - cpuBefore) / steps,
      producerCpuUs: (own.user + own.system) / steps,
      redisCpuUs: ((redisAfter.cpuS - redisBefore.cpuS) * 1e6) / steps,
      redisCalls: (redisAfter.calls - redisBefore.calls - 1) / steps,
    };
  }

  try {
    // Warm-up (JIT, scripts loaded, queues created), not reported.
    await phase("raw", 2, "warm-raw", 100);
    await phase("pipewatch", 2, "warm-pw", 100);
    const phases: Phase[] = [];
    const order: [Phase["kind"], number][] = [
      ["raw", 1],
      ["pipewatch", 1],
      ["raw", 2],
      ["pipewatch", 2],
    ];
    for (let r = 0; r < ROUNDS; r++) {
      // Each round starts one configuration further on, so none always runs right after the same one.
      for (let k = 0; k < order.length; k++) {
        const [kind, workers] = order[(r + k) % order.length]!;
        phases.push(await phase(kind, workers, `r${r}-${kind}-${workers}`));
      }
    }

    // Dispatch latency at a moderate load, 2 worker processes.
    await Promise.all(children.map((c) => c.ask({ type: "start", mode: "pipewatch", concurrency: CONCURRENCY }, "started")));
    await Promise.all(children.map((c) => c.ask({ type: "record", on: true }, "recording")));
    const latencySeconds = await pool(LATENCY_RUNS, LATENCY_IN_FLIGHT, runPipewatch("lat"));
    const reports = (await Promise.all(children.map((c) => c.ask({ type: "report" }, "report")))) as WorkerReport[];
    await Promise.all(children.map((c) => c.ask({ type: "record", on: false }, "recording")));
    await Promise.all(children.map((c) => c.ask({ type: "stop" }, "stopped")));
    const completes = new Map(reports.flatMap((r) => r.completes));
    const claims = new Map(reports.flatMap((r) => r.claims));
    const latencies: number[] = [];
    for (let i = 0; i < LATENCY_RUNS; i++) {
      for (let s = 1; s < STEPS; s++) {
        const done = completes.get(`lat-${i}|s${s - 1}`);
        const claimed = claims.get(`lat-${i}|s${s}`);
        if (done !== undefined && claimed !== undefined) latencies.push(claimed - done);
      }
    }
    latencies.sort((a, b) => a - b);

    const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[xs.length >> 1]!;
    const of = (kind: Phase["kind"], workers: number) => phases.filter((p) => p.kind === kind && p.workers === workers);
    const rateOf = (kind: Phase["kind"], workers: number) => median(of(kind, workers).map((p) => p.rate));
    const n = (v: number) => Math.round(v).toLocaleString("en");
    const lines = [
      "## distributed",
      "",
      `Run ${new Date().toISOString()}, load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(
          " / ",
        )} on ${(await import("node:os")).cpus().length} shared cores; Redis ${/redis_version:(\S+)/.exec(await admin.info("server"))?.[1] ?? "?"} at ${URL.replace(/\/\/[^@]*@/, "//")}, keys under a unique prefix.`,
      `${RUNS} runs × ${STEPS} no-op steps per measurement, ${IN_FLIGHT} runs in flight, worker concurrency ${CONCURRENCY} per process, ${ROUNDS} rounds alternated (each round starting one configuration further on), after a warm-up. The producer (this process), the workers and Redis share the 2 cores.`,
      "",
      "| configuration | steps/s (median) | rounds | vs raw BullMQ, same worker count | worker CPU µs/step | producer CPU µs/step | Redis CPU µs/step | Redis commands/step |",
      "|---|---|---|---|---|---|---|---|",
    ];
    for (const [kind, workers] of order) {
      const ps = of(kind, workers);
      const rate = rateOf(kind, workers);
      const vs = kind === "raw" ? "—" : `**${((rate / rateOf("raw", workers)) * 100).toFixed(0)} %**`;
      lines.push(
        `| ${kind === "raw" ? "raw BullMQ chain" : "Pipewatch + tracking"}, ${workers} worker process${workers > 1 ? "es" : ""} | ${n(rate)} | ${ps.map((p) => n(p.rate)).join(" / ")} | ${vs} | ${median(ps.map((p) => p.workerCpuUs)).toFixed(0)} | ${median(ps.map((p) => p.producerCpuUs)).toFixed(0)} | ${median(ps.map((p) => p.redisCpuUs)).toFixed(0)} | ${median(ps.map((p) => p.redisCalls)).toFixed(1)} |`,
      );
    }
    lines.push(
      "",
      `Dispatch latency, Pipewatch, 2 worker processes, ${LATENCY_IN_FLIGHT} runs in flight (${n((LATENCY_RUNS * STEPS) / latencySeconds)} steps/s): a step's complete script answered → its dependent's claim script answered, ${latencies.length} hand-offs: **p50 ${pct(latencies, 50).toFixed(2)} ms, p99 ${pct(latencies, 99).toFixed(2)} ms** (p90 ${pct(latencies, 90).toFixed(2)}, max ${(latencies.at(-1) ?? NaN).toFixed(2)}).`,
      "",
      failures ? `**${failures} Pipewatch runs did not complete.**` : "Every Pipewatch run completed.",
      "",
      "CPU and command counts are per step over the whole measurement; Redis's are the server's totals (INFO), so anything else using this Redis meanwhile counts in them.",
      "",
    );
    const markdown = lines.join("\n");
    mkdirSync("bench/results", { recursive: true });
    writeFileSync("bench/results/distributed.md", `${markdown}\n`);
    return markdown;
  } finally {
    await Promise.allSettled(children.map((c) => stopChild(c.process)));
    await tracking.close();
    await producer.close();
    await rawQueue.close();
    rawRedis.disconnect();
    sub.disconnect();
    await deleteKeys(admin, PREFIX);
    admin.disconnect();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await run());
  process.exit(0);
}
