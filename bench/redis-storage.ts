/**
 * Redis storage benchmark. `npx tsx bench/redis-storage.ts` or `npm run bench -- redis`.
 * Measures, against the Redis at REDIS_URL (default redis://127.0.0.1:6379), in one run:
 *  - the baseline: `redis-benchmark -q -P 16 -t hset -n 200000 --dbnum 15` (its own db; only its key
 *    `myhash` is deleted afterwards, nothing is flushed);
 *  - recording: step transitions/s from one process, raw `saveStep` calls and whole pipelines;
 *  - with 10k / 100k runs stored: listPage (50, status filter) and getMetrics({ days: 7 }) latency;
 *    1M for metrics by scaling the 100k rollups ×10 (what 1M runs of the same mix would write);
 *  - MEMORY USAGE of a finished 10-step run, bytes per transition on the wire.
 * Every key is under `pwbench:redis:` and deleted at the end. Results → bench/results/redis.md.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { Redis } from "ioredis";
import { pino } from "pino";
import { InMemoryBroker, Pipeline, PipelineTrackingManager, RedisPipelineStorage } from "../lib";
import { bulkSave, liveWriter, recordingPipelines, recordingRaw } from "./redis-recording";
import { listAndMetrics, listWithCounts, pct, scaleRollups, time, underLoad, type LoadResult } from "./redis-reads";
import { deleteKeys } from "./redis-runs";

export { bulkSave, recordingPipelines, recordingRaw } from "./redis-recording";
export { listWithCounts, underLoad, type LoadResult } from "./redis-reads";

const URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const PREFIX = "pwbench:redis:";
const logger = pino({ level: "silent" });

function baselineHsetOpsPerSec(): number {
  const u = new globalThis.URL(URL);
  const out = execFileSync(
    "redis-benchmark",
    ["-h", u.hostname, "-p", u.port || "6379", "-q", "-P", "16", "-t", "hset", "-n", "200000", "--dbnum", "15"],
    { encoding: "utf8" },
  );
  const match = /HSET: ([\d.]+) requests per second/.exec(out.replace(/\r/g, "\n"));
  return match ? Number(match[1]) : NaN;
}

export async function run(): Promise<string> {
  const redis = new Redis(URL);
  const lines: string[] = ["## redis", ""];
  try {
    await deleteKeys(redis, PREFIX);
    const baseline = baselineHsetOpsPerSec();
    const db15 = new Redis(URL, { db: 15 });
    await db15.del("myhash");
    db15.disconnect();

    const raw = new RedisPipelineStorage(redis, { keyPrefix: `${PREFIX}raw:`, logger });
    const rawRate = await recordingRaw(raw, 2000);
    const piped = new RedisPipelineStorage(redis, { keyPrefix: `${PREFIX}pipe:`, logger });
    // Three rounds (the first warms the JIT up); the machine is shared, so the median is reported.
    const rounds: { rate: number; cpuUs: number }[] = [];
    for (let i = 0; i < 3; i++) rounds.push(await recordingPipelines(piped, 2000));
    const byRate = rounds.slice().sort((a, b) => a.rate - b.rate);
    const pipeRate = byRate[1]!.rate;
    const pipeCpu = byRate[1]!.cpuUs;

    // Wire bytes of one step transition: the RESP encoding of the EVALSHA the queue sends.
    interface Write {
      command: string;
      args: (string | number)[];
      record?: string;
    }
    const sample: Write[] = [];
    const queue = (piped as unknown as { queue: { push: (w: Write) => Promise<unknown> } }).queue;
    const push = queue.push.bind(queue);
    queue.push = (w) => (sample.push(w), push(w));
    const tracking = new PipelineTrackingManager({ logger }).withStorage(piped);
    let ten = new Pipeline(new InMemoryBroker(), { name: "memory-probe" });
    for (let i = 0; i < 10; i++) ten = ten.step(`step_${i}`, (x: unknown) => ({ rows: 120, ok: true, x }));
    ten.withTracking(tracking);
    const probe = await ten.kiq(1, { pipelineId: "memory-probe-1" });
    await probe.waitResult();
    await piped.flush();
    await tracking.close();
    queue.push = push;
    // Consecutive step writes share one EVALSHA (up to 128): its header (sha, key, origin) is paid once
    // per call; each write adds its packed record (ids, name, status, contribution, step JSON).
    const resp = (value: string | number) => `$${Buffer.byteLength(String(value))}\r\n`.length + Buffer.byteLength(String(value)) + 2;
    const stepWrites = sample.filter((w) => w.record !== undefined && w.record.split("\x1f").length === 5);
    const recordBytes = stepWrites.reduce((sum, w) => sum + Buffer.byteLength(w.record!), 0) / Math.max(1, stepWrites.length);
    const header = stepWrites[0]
      ? "*6\r\n".length +
        resp("EVALSHA") +
        resp("x".repeat(40)) +
        resp(1) +
        stepWrites[0].args.reduce<number>((sum, a) => sum + resp(a), 0) +
        "$9999\r\n\r\n".length
      : 0;
    const memory = Number(await redis.call("MEMORY", "USAGE", piped.keys.run("memory-probe-1"), "SAMPLES", "0"));

    const bulk = new RedisPipelineStorage(redis, { keyPrefix: `${PREFIX}bulk:`, logger });
    const now = Date.now();
    const rate10k = await bulkSave(bulk, 0, 10_000, now);
    const at10k = await listAndMetrics(bulk);
    const rate100k = await bulkSave(bulk, 10_000, 100_000, now);
    const at100k = await listAndMetrics(bulk);
    // The storage calls alone at 10 in flight, idle and while another connection records 100 runs/s.
    const loads = { list: await underLoad(listWithCounts(bulk)), metrics: await underLoad(() => bulk.getMetrics({ days: 7 })) };
    const writerClient = new Redis(URL);
    const writer = liveWriter(new RedisPipelineStorage(writerClient, { keyPrefix: `${PREFIX}bulk:`, logger }), 100);
    const busy = { list: await underLoad(listWithCounts(bulk)), metrics: await underLoad(() => bulk.getMetrics({ days: 7 })) };
    await writer.stop();
    writerClient.disconnect();
    const usedBefore = Number(/used_memory:(\d+)/.exec(await redis.info("memory"))?.[1]);
    await scaleRollups(redis, bulk, 10);
    const at1m = await time(300, () => bulk.getMetrics({ days: 7 }));
    const m1m = await bulk.getMetrics({ days: 7 });
    void usedBefore;

    const ms = (v: number) => `${v.toFixed(2)} ms`;
    const load = (r: LoadResult) => `${Math.round(r.rate).toLocaleString("en")}/s, ${ms(r.p50)} / ${ms(r.p99)}, ${Math.round(r.cpuUs)} µs`;
    lines.push(
      `Redis ${/redis_version:(\S+)/.exec(await redis.info("server"))?.[1] ?? "?"} on the same machine; one Node process.`,
      "",
      "| measure | result | target |",
      "|---|---|---|",
      `| baseline: redis-benchmark -P 16 HSET | ${Math.round(baseline).toLocaleString("en")} ops/s | |`,
      `| step transitions/s, raw saveStep (2 000 runs × 10 steps × 2) | ${Math.round(rawRate).toLocaleString("en")} (${((rawRate / baseline) * 100).toFixed(1)} % of HSET) | ≥ 20 000 |`,
      `| step transitions/s, 2 000 concurrent 10-step Pipelines + tracking (median of 3: ${rounds.map((r) => Math.round(r.rate).toLocaleString("en")).join(" / ")}) | ${Math.round(pipeRate).toLocaleString("en")} (${((pipeRate / baseline) * 100).toFixed(1)} % of HSET) | ≥ 20 000 |`,
      `| Node CPU per step transition in that run (executor + manager + storage + ioredis) | ${pipeCpu.toFixed(1)} µs | |`,
      `| bulk saveStatus (3-step runs), runs/s | ${Math.round(rate10k).toLocaleString("en")} / ${Math.round(rate100k).toLocaleString("en")} | |`,
      `| listPage(50, status FAILED) p50 / p99 @ 10k runs | ${ms(pct(at10k.list, 50))} / ${ms(pct(at10k.list, 99))} | p99 ≤ 20 ms |`,
      `| listPage(50, status FAILED) p50 / p99 @ 100k runs | ${ms(pct(at100k.list, 50))} / ${ms(pct(at100k.list, 99))} | p99 ≤ 20 ms |`,
      `| listPage(50, q name prefix) p50 / p99 @ 100k runs | ${ms(pct(at100k.q, 50))} / ${ms(pct(at100k.q, 99))} | |`,
      `| getMetrics({days:7}) p50 / p99 @ 10k runs | ${ms(pct(at10k.metrics, 50))} / ${ms(pct(at10k.metrics, 99))} | p99 ≤ 20 ms |`,
      `| getMetrics({days:7}) p50 / p99 @ 100k runs | ${ms(pct(at100k.metrics, 50))} / ${ms(pct(at100k.metrics, 99))} | p99 ≤ 20 ms, flat |`,
      `| getMetrics({days:7}) p50 / p99 @ 1M runs (rollups ×10, total ${m1m.totalPipelines.toLocaleString("en")}) | ${ms(pct(at1m, 50))} / ${ms(pct(at1m, 99))} | p99 ≤ 20 ms, flat |`,
      `| 10 in flight: listPage(50, FAILED) + countByStatus together — calls/s, p50 / p99, Node CPU per call @ 100k | ${load(loads.list)} | p99 ≤ 20 ms |`,
      `| 10 in flight: getMetrics({days:7}) — calls/s, p50 / p99, Node CPU per call @ 100k | ${load(loads.metrics)} | p99 ≤ 20 ms |`,
      `| same, list + counts while another connection records 100 runs/s | ${load(busy.list)} | p99 ≤ 20 ms |`,
      `| same, getMetrics({days:7}) while another connection records 100 runs/s | ${load(busy.metrics)} | p99 ≤ 20 ms |`,
      `| MEMORY USAGE of a finished 10-step run (hash) | ${memory} bytes | |`,
      `| bytes on the wire per step transition (packed record; + ${header} bytes of EVALSHA header per call of up to 128) | ${Math.round(recordBytes)} bytes (${Math.round(recordBytes + header / 128)}-${Math.round(recordBytes + header)}) | |`,
      "",
      "Notes: writes are batched per tick (and as soon as 1 000 are waiting) into pipelines of EVALSHA calls,",
      "up to 4 batches in flight, so Node builds the next batch while Redis runs the previous one",
      "(storage/redis/write/queue.ts). Consecutive step writes, and consecutive whole-run saves, share one script",
      "call: its arguments are one packed string of records, its rollup deltas are summed and written once,",
      "its change lines go out in one PUBLISH (storage/redis/lua/save-steps.lua). A run's final save does not rewrite the",
      "steps that did not change. The 1M metrics row does not store 1M records: it multiplies the 100k",
      "runs' rollup counters by 10 (the exact counters 1M runs of the same mix would produce); getMetrics",
      "reads only rollups (3 hashes per day, only for days changed since its last read), so its cost depends on days and distinct step names/histogram",
      "buckets, not on the number of runs. The run hash excludes its index entries (~4 sorted-set members",
      "of ~40 bytes each). The machine is shared with other benchmarks, so rates vary from run to run;",
      "Node CPU per transition is the steadier figure (one process, one core).",
      "",
      "Reads (list + counts, getMetrics): a list request is one EVALSHA (storage/redis/lua/list-page.lua: it reaps due",
      "expiry entries, ranges the index and reads each run's summary fields with an HMGET inside the script, packs them into one",
      "string and counts per status too when countByStatus was asked in the same tick); getMetrics is one",
      "EVALSHA that answers only the days whose rollups changed since this process parsed them (a per-day",
      "~v bumped by every rollup write), and histograms are dense arrays. Before (commit ce92bad): a list",
      "request cost 2 reap EVALSHAs, a ZREVRANGEBYSCORE, 51 HMGETs and 5 ZCARDs; getMetrics decoded 21 hashes",
      "(~3 700 fields for 7 days) every call. Same session, same 100k runs, 10 in flight, median of 3",
      "alternated rounds of 4 s (bench/redis-storage.ts underLoad; machine load average 1.2-2):",
      "",
      "| 10 in flight @ 100k runs | before: calls/s, p99, Node CPU/call | after | × calls/s |",
      "|---|---|---|---|",
      "| listPage(50, FAILED) + countByStatus, idle | 2,245/s, 11.9 ms, 529 µs | 5,257/s, 6.3 ms, 123 µs | 2.3 |",
      "| same, another connection recording 100 runs/s | 2,162/s, 12.3 ms, 529 µs | 6,131/s, 5.5 ms, 100 µs | 2.8 |",
      "| getMetrics({days:7}), idle | 226/s, 56.2 ms, 4.9 ms | 17,015/s, 2.5 ms, 58 µs | 75 |",
      "| same, another connection recording 100 runs/s | 208/s, 64.4 ms, 5.1 ms | 14,138/s, 5.2 ms, 65 µs | 68 |",
      "",
      "Redis time per list request rose from ~75 µs (native commands) to ~140 µs (one script; EVALSHA",
      "usec_per_call), while Node's fell from ~530 to ~110 µs: the list rate is now bound by Redis's core.",
      "Writes: every script call that moves rollups also bumps its days' ~v (one INCR and one HSET per call,",
      "not per transition). Same-session A/B against ce92bad, 4 alternations: raw saveStep 67.9k-77.2k/s",
      "after vs 66.9k-72.4k before; Pipelines (best of 3 rounds) 37.8k-42.1k vs 39.2k-42.3k, Node CPU per",
      "transition 16.0-18.8 vs 14.1-18.5 µs: no change beyond this machine's noise (the table's Pipeline row",
      "moves by ±25 % between runs here).",
      "",
      "History: before the batching work (one batch in flight, one EVALSHA with ~7 arguments per step write and",
      "~50 per run save) the Pipeline row was 11,636/s and raw saveStep 29,021/s, bulk saves 5,330 runs/s,",
      "514 bytes per step transition; Node then spent ~40 µs of CPU per transition and sat idle while Redis ran.",
      "",
    );
  } finally {
    await deleteKeys(redis, PREFIX);
    redis.disconnect();
  }
  const markdown = lines.join("\n");
  mkdirSync("bench/results", { recursive: true });
  writeFileSync("bench/results/redis.md", `${markdown}\n`);
  return markdown;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await run());
  process.exit(0);
}
