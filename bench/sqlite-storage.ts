/**
 * SQLite storage benchmark. `npx tsx bench/sqlite-storage.ts` or `npm run bench -- sqlite`.
 * Measures, on a fresh file in the OS temp folder (deleted at the end), in one run:
 *  - recording: step transitions/s from one process, raw `saveStep` calls and whole pipelines;
 *  - with 10k / 100k / 1M runs stored (7 days of the Redis benchmark's mix): listPage (50, first
 *    page and a status filter), countByStatus and getMetrics({ days: 7 }) latency;
 *  - bytes on disk per finished 10-step run (indexes and its change row included).
 * Results → bench/results/sqlite.md.
 */
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { InMemoryBroker, Pipeline, PipelineTrackingManager, SqlitePipelineStorage, type PipelineStatus } from "../lib";
import { pct, time } from "./redis-reads";
import { bulkRun, step } from "./redis-runs";

const logger = pino({ level: "silent" });
const STEP_NAMES = Array.from({ length: 10 }, (_, i) => `s${i}`);

function running(id: string, now: Date): PipelineStatus {
  return {
    pipelineId: id,
    pipelineName: "raw",
    status: "RUNNING",
    pipelineType: "sequential",
    startedAt: now,
    completedAt: null,
    durationMs: null,
    steps: STEP_NAMES.map((n) => step(n)),
    result: null,
    error: null,
  };
}

/**
 * 20 transitions (10 steps started and completed) per run, issued as a busy process issues them:
 * a step's start and end of every run in one turn of the event loop (`oneTurn`: a transaction
 * writes each run once for two transitions), or in turns of their own (each write its own run).
 */
async function recordingRaw(storage: SqlitePipelineStorage, runs: number, oneTurn: boolean): Promise<{ rate: number; cpuRate: number }> {
  const now = new Date();
  await Promise.all(Array.from({ length: runs }, (_, r) => storage.saveStatus(running(`raw_${r}`, now))));
  const t = performance.now();
  const cpu = process.cpuUsage();
  const writes: Promise<void>[] = [];
  for (const n of STEP_NAMES) {
    for (let r = 0; r < runs; r++) writes.push(storage.saveStep(`raw_${r}`, step(n, { status: "RUNNING", startedAt: now, attempts: 1 })));
    if (!oneTurn) await new Promise((r) => setImmediate(r));
    for (let r = 0; r < runs; r++) {
      const done = step(n, { status: "COMPLETED", startedAt: now, completedAt: now, durationMs: 3, result: { r }, attempts: 1 });
      writes.push(storage.saveStep(`raw_${r}`, done));
    }
    // Another turn of the event loop: the queue flushes what this round issued.
    await new Promise((r) => setImmediate(r));
  }
  await Promise.all(writes);
  await storage.flush();
  const used = process.cpuUsage(cpu);
  return { rate: writes.length / ((performance.now() - t) / 1000), cpuRate: writes.length / ((used.user + used.system) / 1e6) };
}

async function recordingPipelines(storage: SqlitePipelineStorage, runs: number): Promise<number> {
  const tracking = new PipelineTrackingManager({ logger }).withStorage(storage);
  let pipe = new Pipeline(new InMemoryBroker(), { name: "bench10" });
  for (const n of STEP_NAMES) pipe = pipe.step(n, (x: unknown) => x);
  pipe.withTracking(tracking);
  const t = performance.now();
  const tasks = await Promise.all(Array.from({ length: runs }, (_, i) => pipe.kiq(i)));
  await Promise.all(tasks.map((task) => task.waitResult({ timeoutMs: 120_000 })));
  await storage.flush();
  await tracking.close();
  return (runs * 20) / ((performance.now() - t) / 1000);
}

async function bulkSave(storage: SqlitePipelineStorage, from: number, to: number, now: number): Promise<void> {
  for (let i = from; i < to; i += 5000) {
    const writes: Promise<void>[] = [];
    for (let k = i; k < Math.min(to, i + 5000); k++) writes.push(storage.saveStatus(bulkRun(k, now, 7 * 86_400_000)));
    await Promise.all(writes);
  }
}

/** Bytes the file grows by per finished 10-step run (WAL checkpointed into the file first). */
async function bytesPerRun(dir: string): Promise<number> {
  const path = join(dir, "size.db");
  const storage = new SqlitePipelineStorage({ path, logger });
  const size = () => {
    (storage as unknown as { db: { pragma(s: string): unknown } }).db.pragma("wal_checkpoint(TRUNCATE)");
    return statSync(path).size;
  };
  const empty = size();
  const n = 10_000;
  const now = Date.now();
  const writes: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    const startedAt = new Date(now - i * 1000);
    const steps = STEP_NAMES.map((name, k) =>
      step(name, {
        status: "COMPLETED",
        startedAt: new Date(startedAt.getTime() + k * 10),
        completedAt: new Date(startedAt.getTime() + k * 10 + 9),
        durationMs: 9,
        result: { rows: i % 100 },
        attempts: 1,
        workerId: "host-1:1234",
      }),
    );
    const run: PipelineStatus = {
      ...running(`size_${i}`, startedAt),
      pipelineName: "etl-nightly",
      status: "COMPLETED",
      completedAt: new Date(startedAt.getTime() + 100),
      durationMs: 100,
      steps,
      result: { rows: i % 100 },
    };
    writes.push(storage.saveStatus(run));
  }
  await Promise.all(writes);
  await storage.flush();
  const bytes = (size() - empty) / n;
  await storage.close();
  return bytes;
}

export async function run(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "pwbench-sqlite-"));
  const lines: string[] = [];
  try {
    const rec = new SqlitePipelineStorage({ path: join(dir, "rec.db"), logger });
    const load = loadavg()[0]!.toFixed(1);
    const raw = await recordingRaw(rec, 5000, true);
    const apart = await recordingRaw(rec, 10_000, false);
    console.log(raw, apart);
    const pipes = await recordingPipelines(rec, 2000);
    await rec.close();
    lines.push(
      "## sqlite",
      "",
      `Recording from one process: raw saveStep ${Math.round(raw.rate).toLocaleString("en")} transitions/s ` +
        `(${Math.round(raw.cpuRate).toLocaleString("en")} per CPU-second; target ≥ 50 000) with a step's start and end in one turn; ` +
        `${Math.round(apart.rate).toLocaleString("en")} transitions/s (${Math.round(apart.cpuRate).toLocaleString("en")} per CPU-second) ` +
        `when every write in a transaction is another run's; ` +
        `through Pipelines + tracking manager ${Math.round(pipes).toLocaleString("en")} transitions/s. Load average ${load}.`,
      "",
      "| runs stored | listPage 50 p50 / p99 | listPage FAILED p99 | countByStatus p99 | getMetrics 7d p50 / p99 | … after a write each time p50 / p99 | file MB |",
      "|---|---|---|---|---|---|---|",
    );
    const path = join(dir, "reads.db");
    const storage = new SqlitePipelineStorage({ path, logger });
    const now = Date.now();
    let stored = 0;
    for (const size of [10_000, 100_000, 1_000_000]) {
      await bulkSave(storage, stored, size, now);
      stored = size;
      await storage.flush();
      // Warm: statements prepared, pages cached, as in a server that has been answering.
      await time(20, () =>
        Promise.all([storage.listPage({ limit: 50 }), storage.listPage({ status: "FAILED", limit: 50 }), storage.getMetrics({ days: 7 })]),
      );
      const page = await time(200, () => storage.listPage({ limit: 50 }));
      const failed = await time(200, () => storage.listPage({ status: "FAILED", limit: 50 }));
      const counts = await time(200, () => storage.countByStatus());
      const metrics = await time(100, () => storage.getMetrics({ days: 7 }));
      // Under live recording today's rollups change between calls: that day is read and parsed again.
      const live: number[] = [];
      for (let i = 0; i < 100; i++) {
        await storage.saveStatus(bulkRun(size + i, Date.now(), 1));
        const t = performance.now();
        await storage.getMetrics({ days: 7 });
        live.push(performance.now() - t);
      }
      const mb = (statSync(path).size + statSync(`${path}-wal`).size) / 2 ** 20;
      const f = (x: number) => x.toFixed(2);
      lines.push(
        `| ${size.toLocaleString("en")} | ${f(pct(page, 50))} / ${f(pct(page, 99))} ms | ${f(pct(failed, 99))} ms | ` +
          `${f(pct(counts, 99))} ms | ${f(pct(metrics, 50))} / ${f(pct(metrics, 99))} ms | ${f(pct(live, 50))} / ${f(pct(live, 99))} ms | ${mb.toFixed(0)} |`,
      );
      console.log(lines[lines.length - 1]);
    }
    await storage.close();
    const bytes = await bytesPerRun(dir);
    lines.push("", `Bytes on disk per finished 10-step run (row, indexes, change row): ${Math.round(bytes)}.`, "");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const section = lines.join("\n");
  mkdirSync("bench/results", { recursive: true });
  writeFileSync("bench/results/sqlite.md", `# SQLite storage\n\n${section}\n`);
  return section;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await run());
  process.exit(0);
}
