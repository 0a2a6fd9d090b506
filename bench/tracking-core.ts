/**
 * Tracking-core benchmark: what recording costs a run, and what the memory storage holds.
 *
 * 1. Overhead: a 10-step sequential pipeline of no-op steps, tracked (memory storage) vs
 *    untracked, in this one process, CONCURRENCY runs at a time. Samples alternate
 *    untracked/tracked so drift (GC, JIT, thermal) hits both alike; each sample's overhead is
 *    (tracked − untracked) time per run divided by the run's step transitions. A step transition
 *    is one recorded change of a step (PENDING→RUNNING, RUNNING→COMPLETED): 20 per run; the
 *    per-step figure (10 per run) is reported too.
 * 2. Memory: 100 000 finished 10-step runs recorded through real tracked pipelines into
 *    InMemoryPipelineStorage({ maxPipelines: 100 000 }): RSS and heap after GC (finished runs are
 *    held sealed, see lib/tracking/storage/sealed-run.ts), and what reading that store costs
 *    (metrics over all of it, a list page, whole runs); then 200 000 saves into
 *    maxPipelines 10 000 must leave 10 000.
 *
 * `npx tsx bench/tracking-core.ts` (or via `npm run bench -- core`) writes bench/results/core.md.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { pino } from "pino";
import { InMemoryBroker, InMemoryPipelineStorage, Pipeline, PipelineTrackingManager, type PipelineStatus } from "../lib";

const STEPS = 10;
const TRANSITIONS_PER_RUN = STEPS * 2;
const CONCURRENCY = 50;
const SAMPLES = 200;
const WARMUP_SAMPLES = 60;
const MEMORY_RUNS = 100_000;
const TARGET_US_PER_TRANSITION = 20;
const TARGET_TRANSITIONS_PER_S = 50_000;
const TARGET_RSS_MB = 400;

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;
const logger = pino({ level: "silent" });
const MB = 1024 * 1024;

function pipelineOf(broker: InMemoryBroker, tracking: PipelineTrackingManager | null): Pipeline<number, number> {
  let p = new Pipeline<number>(broker, { name: "bench" }) as Pipeline<number, number>;
  for (let i = 0; i < STEPS; i++) p = p.step(`step-${i}`, (x: number) => x);
  if (tracking) p.withTracking(tracking);
  return p;
}

async function batch(p: Pipeline<number, number>): Promise<number> {
  const started = performance.now();
  const tasks = await Promise.all(Array.from({ length: CONCURRENCY }, (_, i) => p.kiq(i)));
  const results = await Promise.all(tasks.map((t) => t.waitResult()));
  if (results.some((r) => r.isErr)) throw new Error("a benchmark run failed");
  return performance.now() - started;
}

const median = (xs: number[]) => {
  const s = xs.slice().sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const quantile = (xs: number[], q: number) => xs.slice().sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;

async function measureOverhead() {
  const broker = new InMemoryBroker();
  const storage = new InMemoryPipelineStorage({ maxPipelines: 10_000 });
  const tracking = new PipelineTrackingManager({ logger }).withStorage(storage);
  const untracked = pipelineOf(broker, null);
  const tracked = pipelineOf(broker, tracking);
  for (let i = 0; i < WARMUP_SAMPLES; i++) {
    await batch(untracked);
    await batch(tracked);
  }
  const plain: number[] = [];
  const withTracking: number[] = [];
  const overheadUs: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    // Alternate which goes first so neither always runs right after a GC-heavy batch.
    let untrackedMs: number, trackedMs: number;
    if (i % 2) {
      untrackedMs = await batch(untracked);
      trackedMs = await batch(tracked);
    } else {
      trackedMs = await batch(tracked);
      untrackedMs = await batch(untracked);
    }
    plain.push(untrackedMs);
    withTracking.push(trackedMs);
    overheadUs.push(((trackedMs - untrackedMs) * 1000) / (CONCURRENCY * TRANSITIONS_PER_RUN));
  }
  const trackedMedianMs = median(withTracking);
  const sample = (await tracking.listPipelines({ limit: 1 }))[0]!;
  if (sample.status !== "COMPLETED" || sample.steps.some((s) => s.status !== "COMPLETED"))
    throw new Error("tracked runs were not recorded");
  return {
    untrackedRunUs: (median(plain) * 1000) / CONCURRENCY,
    trackedRunUs: (trackedMedianMs * 1000) / CONCURRENCY,
    overheadPerTransitionUs: median(overheadUs),
    overheadP90Us: quantile(overheadUs, 0.9),
    transitionsPerSecond: (CONCURRENCY * TRANSITIONS_PER_RUN) / (trackedMedianMs / 1000),
  };
}

async function memoryNow() {
  // V8 hands freed pages back to the OS from a background thread after a full GC: give it a moment.
  for (let i = 0; i < 10; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 100));
  }
  const m = process.memoryUsage();
  if (process.env.BENCH_DEBUG) {
    const { getHeapSpaceStatistics } = await import("node:v8");
    console.error(
      m,
      getHeapSpaceStatistics().map(
        (x) => `${x.space_name} size=${x.space_size >> 20} used=${x.space_used_size >> 20} avail=${x.space_available_size >> 20}`,
      ),
    );
  }
  return { rss: m.rss, heap: m.heapUsed };
}

async function measureMemory() {
  const before = await memoryNow();
  const storage = new InMemoryPipelineStorage({ maxPipelines: MEMORY_RUNS });
  const tracking = new PipelineTrackingManager({ logger }).withStorage(storage);
  const p = pipelineOf(new InMemoryBroker(), tracking);
  const started = performance.now();
  const WAVE = CONCURRENCY;
  for (let done = 0; done < MEMORY_RUNS; done += WAVE) {
    const tasks = await Promise.all(Array.from({ length: WAVE }, (_, i) => p.kiq(done + i)));
    await Promise.all(tasks.map((t) => t.waitResult()));
  }
  const fillSeconds = (performance.now() - started) / 1000;
  const after = await memoryNow();
  const counts = await storage.countByStatus();
  const size = storage.size;
  // Keep the storage reachable until measured.
  if (counts.COMPLETED !== MEMORY_RUNS) throw new Error(`expected ${MEMORY_RUNS} completed runs, got ${counts.COMPLETED}`);
  const reads = await measureReads(storage);
  return {
    size,
    fillSeconds,
    reads,
    rssMb: after.rss / MB,
    heapMb: after.heap / MB,
    heapAddedMb: (after.heap - before.heap) / MB,
    rssAddedMb: (after.rss - before.rss) / MB,
  };
}

/** Reading the full store: median of a few repeats each, after one warm-up call. */
async function measureReads(storage: InMemoryPipelineStorage) {
  const timed = async (repeats: number, fn: () => Promise<unknown>) => {
    await fn();
    const xs: number[] = [];
    for (let i = 0; i < repeats; i++) {
      const t = performance.now();
      await fn();
      xs.push(performance.now() - t);
    }
    return median(xs);
  };
  const ids = (await storage.listPipelines({ limit: MEMORY_RUNS })).filter((_, i) => i % 100 === 0).map((s) => s.pipelineId);
  const metrics = await storage.getMetrics({ days: 7 });
  if (metrics.totalPipelines !== MEMORY_RUNS || metrics.steps.length !== STEPS) throw new Error("metrics do not cover the held runs");
  return {
    metricsMs: await timed(5, () => storage.getMetrics({ days: 7 })),
    pageMs: await timed(20, () => storage.listPage({ limit: 50 })),
    missedSearchMs: await timed(5, () => storage.listPage({ limit: 50, q: "no-such-run" })),
    getStatusUs:
      ((await timed(5, async () => {
        for (const id of ids) await storage.getStatus(id);
      })) *
        1000) /
      ids.length,
  };
}

async function measureBound() {
  const storage = new InMemoryPipelineStorage({ maxPipelines: 10_000 });
  const t0 = Date.now() - 86_400_000;
  const started = performance.now();
  for (let i = 0; i < 200_000; i++) {
    const startedAt = new Date(t0 + i);
    const status: PipelineStatus = {
      pipelineId: `bound-${i}`,
      pipelineName: "bound",
      status: "COMPLETED",
      pipelineType: "sequential",
      startedAt,
      completedAt: startedAt,
      durationMs: 0,
      result: i,
      error: null,
      steps: [
        {
          stepName: "only",
          status: "COMPLETED",
          startedAt,
          completedAt: startedAt,
          durationMs: 0,
          result: i,
          error: null,
          dependsOn: [],
          attempts: 1,
          workerId: null,
        },
      ],
    };
    await storage.saveStatus(status);
  }
  const seconds = (performance.now() - started) / 1000;
  const oldest = (await storage.listPipelines({ limit: 10_000 })).at(-1)?.pipelineId;
  return { size: storage.size, seconds, oldest };
}

const pass = (ok: boolean) => (ok ? "✅ met" : "❌ missed");

export async function run(): Promise<string> {
  const overhead = await measureOverhead();
  const memory = await measureMemory();
  const bound = await measureBound();
  const md = [
    "## Tracking core (in-memory storage)",
    "",
    `Node ${process.version}, ${STEPS}-step sequential pipeline of no-op steps, ${CONCURRENCY} runs in flight, ` +
      `${SAMPLES} alternating samples after ${WARMUP_SAMPLES} warm-up pairs; ${TRANSITIONS_PER_RUN} step transitions per run (start + finish of each step).`,
    "",
    "| measure | value | target | |",
    "|---|---|---|---|",
    `| untracked run | ${overhead.untrackedRunUs.toFixed(1)} µs | | |`,
    `| tracked run | ${overhead.trackedRunUs.toFixed(1)} µs | | |`,
    `| tracking overhead per step transition (median) | ${overhead.overheadPerTransitionUs.toFixed(2)} µs (p90 ${overhead.overheadP90Us.toFixed(2)} µs) | ≤ ${TARGET_US_PER_TRANSITION} µs | ${pass(overhead.overheadPerTransitionUs <= TARGET_US_PER_TRANSITION)} |`,
    `| same, per step (2 transitions) | ${(overhead.overheadPerTransitionUs * 2).toFixed(2)} µs | ≤ ${TARGET_US_PER_TRANSITION} µs | ${pass(overhead.overheadPerTransitionUs * 2 <= TARGET_US_PER_TRANSITION)} |`,
    `| tracked step transitions/s | ${Math.round(overhead.transitionsPerSecond).toLocaleString("en-US")} | ≥ ${TARGET_TRANSITIONS_PER_S.toLocaleString("en-US")} | ${pass(overhead.transitionsPerSecond >= TARGET_TRANSITIONS_PER_S)} |`,
    `| tracked steps/s (whole steps) | ${Math.round(overhead.transitionsPerSecond / 2).toLocaleString("en-US")} | ≥ ${TARGET_TRANSITIONS_PER_S.toLocaleString("en-US")} | ${pass(overhead.transitionsPerSecond / 2 >= TARGET_TRANSITIONS_PER_S)} |`,
    `| ${MEMORY_RUNS.toLocaleString("en-US")} finished 10-step runs held: process RSS | ${memory.rssMb.toFixed(0)} MB (+${memory.rssAddedMb.toFixed(0)} MB) | ≤ ${TARGET_RSS_MB} MB | ${pass(memory.rssMb <= TARGET_RSS_MB)} |`,
    `| same: heap used after GC | ${memory.heapMb.toFixed(0)} MB (+${memory.heapAddedMb.toFixed(0)} MB, ${((memory.heapAddedMb * MB) / MEMORY_RUNS / 1024).toFixed(2)} KiB/run) | | |`,
    `| recording those ${MEMORY_RUNS.toLocaleString("en-US")} runs through tracked pipelines | ${memory.fillSeconds.toFixed(1)} s | | |`,
    `| over those runs: getMetrics({ days: 7 }) | ${memory.reads.metricsMs.toFixed(0)} ms | | |`,
    `| over those runs: listPage first 50 / a search matching nothing | ${memory.reads.pageMs.toFixed(2)} ms / ${memory.reads.missedSearchMs.toFixed(1)} ms | | |`,
    `| over those runs: getStatus of a finished run | ${memory.reads.getStatusUs.toFixed(1)} µs | | |`,
    `| 200 000 saves into maxPipelines 10 000 | size ${bound.size.toLocaleString("en-US")}, oldest kept ${bound.oldest}, ${bound.seconds.toFixed(1)} s | size 10 000 | ${pass(bound.size === 10_000 && bound.oldest === "bound-190000")} |`,
    "",
    "The memory storage holds a finished run sealed (lib/tracking/storage/sealed-run.ts): the fields lists, counts and metrics read, " +
      "step names shared per pipeline, step durations in a number array, and the rest as one flat JSON string parsed only when the " +
      "whole run is read; runs in progress stay objects. RSS is read after repeated `gc()` (flag set at start-up); " +
      "the machine is shared, so timings move with its load (the 1-minute load average is printed below).",
    "",
    `Load average at the end: ${loadavg()
      .map((x) => x.toFixed(2))
      .join(", ")} (2 cores).`,
    "",
  ].join("\n");
  const out = join(dirname(fileURLToPath(import.meta.url)), "results", "core.md");
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(
    out,
    `# Tracking core benchmark\n\nRun ${new Date().toISOString()}; regenerate with \`npx tsx bench/tracking-core.ts\`.\n\n${md}`,
  );
  return md;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  run().then(
    (md) => {
      console.log(md);
      process.exit(0);
    },
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
