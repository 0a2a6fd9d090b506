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
import { cpus, loadavg } from "node:os";
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
const ROUNDS = Number(process.env.DBENCH_ROUNDS ?? 3);
const LATENCY_RUNS = 300;
const LATENCY_IN_FLIGHT = 8;
const logger = pino({ level: "warn" });

/** Method and history, kept with the generated numbers. */
const NOTES = [
  "How it is measured: steps/s is runs × 10 over the time from the first start to the last end, as the",
  "producer sees it (raw: the first job added → the last job's PUBLISH heard; Pipewatch: `kiq` → `waitResult`),",
  "with a new run started as each one ends. Raw BullMQ runs in the same child processes, with the same",
  "connection sharing (one ioredis client for the queue and the worker) and concurrency. The worker, producer",
  "and Redis CPU figures are per step over the whole measurement; Redis's are the server's totals (INFO cpu,",
  "commandstats, commands run inside scripts included), so anything else using this Redis meanwhile counts in",
  "them. Rates on this shared machine move by ±50 % between minutes (raw BullMQ alone gave 2 600–8 200",
  "steps/s in this session); the per-round ratio and CPU per step are the steadier readings.",
  "",
  "Before/after the change to the broker (2026-11-30, commit after this suite's): before, every watcher of a",
  "run (the producer's `waitResult`, each worker listening for cancels) read the whole run back (HGETALL and",
  "decoding every step) on each change of it, two per step, and each enqueue of one step went through",
  "`addBulk` (a MULTI). Now watchers read two fields, only on changes that may end a run (a cancel, a sweep,",
  "a delete, a worker's end of the run, a replay; broker step writes are skipped by their origin), batched per",
  "tick, and one ready step is one `Queue.add`. Alternated on a redis-server of our own, 1 round each × 2,",
  "load average 6.5–8.2:",
  "",
  "| | before | after |",
  "|---|---|---|",
  "| Pipewatch vs raw, 1 worker process | 18 % / 15 % | 45 % / 34 % |",
  "| Pipewatch vs raw, 2 worker processes | 22 % / 20 % | 51 % / 34 % |",
  "| CPU µs/step, 1 worker: workers + producer + Redis | 410–430 + 358–394 + 241–252 | 308–331 + 134–144 + 207–229 |",
  "| CPU µs/step, 2 workers | 492–527 + 328 + 245–269 | 352–400 + 102–106 + 214–223 |",
  "| Redis commands/step | 63.0–64.6 | 61.0–62.1 |",
  "| dispatch latency p50 / p99 (8 runs in flight) | 6.5 / 31.6 and 6.9 / 41.4 ms | 3.2 / 10.4 and 4.1 / 28.4 ms |",
  "",
  "Where Pipewatch's time still goes, per step (CPU profiles of the workers, `DBENCH_PROFILE=<dir>`, and",
  "commandstats on a Redis of our own): a raw chain step costs 2 BullMQ scripts (move to finished and fetch",
  "the next, add) and ~32 Redis commands; a Pipewatch step adds the claim and complete scripts, two tracked",
  "step writes (RUNNING, COMPLETED: the storage's save-steps script with rollups and the change log, batched",
  "per tick) and their change-feed messages to every subscriber, ~62 commands and 2.5–3× raw's Redis CPU. In",
  "the workers about a quarter of the CPU is socket writes (one per Redis call), an eighth the storage's write",
  "queue; the producer's per-run cost is `kiq` (run record, lease, execution state, first job) and reading the",
  "finished run back.",
  "",
];

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
      if (!child.connected) return Promise.reject(new Error(`bench worker ${n} is gone`));
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

    const median = (xs: number[]) => {
      const sorted = xs.slice().sort((a, b) => a - b);
      const mid = sorted.length >> 1;
      return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
    };
    const of = (kind: Phase["kind"], workers: number) => phases.filter((p) => p.kind === kind && p.workers === workers);
    const cpuOfPhase = (p: Phase) => p.workerCpuUs + p.producerCpuUs + p.redisCpuUs;
    const n = (v: number) => Math.round(v).toLocaleString("en");
    const percent = (v: number) => `${(v * 100).toFixed(0)} %`;
    const lines = [
      "## distributed",
      "",
      `Run ${new Date().toISOString()}, load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(
          " / ",
        )} on ${cpus().length} shared cores; Redis ${/redis_version:(\S+)/.exec(await admin.info("server"))?.[1] ?? "?"} at ${URL.replace(/\/\/[^@]*@/, "//")}, keys under a unique prefix.`,
      `${RUNS} runs × ${STEPS} no-op steps per measurement, ${IN_FLIGHT} runs in flight, worker concurrency ${CONCURRENCY} per process, ${ROUNDS} rounds alternated (each round starting one configuration further on), after a warm-up. The producer (this process), the workers and Redis share the 2 cores.`,
      "",
      "| configuration | steps/s (median) | per round | vs raw BullMQ in the same round (median; per round) | CPU µs/step: workers + producer + Redis | Redis commands/step |",
      "|---|---|---|---|---|---|",
    ];
    for (const [kind, workers] of order) {
      const ps = of(kind, workers);
      let vs = "—";
      if (kind === "pipewatch") {
        const ratios = ps.map((p, r) => p.rate / of("raw", workers)[r]!.rate);
        vs = `**${percent(median(ratios))}**; ${ratios.map(percent).join(" / ")}`;
      }
      const cpu = `${median(ps.map(cpuOfPhase)).toFixed(0)} = ${median(ps.map((p) => p.workerCpuUs)).toFixed(0)} + ${median(ps.map((p) => p.producerCpuUs)).toFixed(0)} + ${median(ps.map((p) => p.redisCpuUs)).toFixed(0)}`;
      lines.push(
        `| ${kind === "raw" ? "raw BullMQ chain" : "Pipewatch + tracking"}, ${workers} worker process${workers > 1 ? "es" : ""} | ${n(median(ps.map((p) => p.rate)))} | ${ps.map((p) => n(p.rate)).join(" / ")} | ${vs} | ${cpu} | ${median(ps.map((p) => p.redisCalls)).toFixed(1)} |`,
      );
    }
    const cpuRatio = (workers: number) => median(of("raw", workers).map(cpuOfPhase)) / median(of("pipewatch", workers).map(cpuOfPhase));
    lines.push(
      "",
      `CPU per step, raw BullMQ's over Pipewatch's (what the steps/s ratio tends to when the 2 cores are the limit): ${percent(cpuRatio(1))} with 1 worker process, ${percent(cpuRatio(2))} with 2.`,
      "",
      `Dispatch latency, Pipewatch, 2 worker processes, ${LATENCY_IN_FLIGHT} runs in flight (${n((LATENCY_RUNS * STEPS) / latencySeconds)} steps/s): a step's complete script answered → its dependent's claim script answered, ${latencies.length} hand-offs: **p50 ${pct(latencies, 50).toFixed(2)} ms, p99 ${pct(latencies, 99).toFixed(2)} ms** (p90 ${pct(latencies, 90).toFixed(2)}, max ${(latencies.at(-1) ?? NaN).toFixed(2)}).`,
      "",
      failures ? `**${failures} Pipewatch runs did not complete.**` : "Every Pipewatch run completed.",
      "",
      ...NOTES,
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
