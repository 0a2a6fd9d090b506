/**
 * Server benchmark: with 100 000 runs in Redis, HTTP throughput and p99 of the list and
 * metrics routes (autocannon, loopback), each next to two same-run references — a bare node:http
 * server answering the same bytes (what the machine gives an HTTP server doing nothing) and the
 * storage calls alone, in-process; live latency from a step finishing in another process to
 * its `pipeline:update` arriving at a socket client; fan-out to 500 clients at ~200 transitions/s
 * (delivery p99, server CPU). The server runs in its own process (bench/server-host.ts), the
 * writer in another (bench/server-writer.ts). Keys under `pwbench:server:`, deleted afterwards.
 *
 *   npx tsx bench/server-api.ts      (needs a build in .next: npm run build)
 */
import type { ChildProcess } from "node:child_process";
import { writeFileSync, mkdirSync } from "node:fs";
import { loadavg } from "node:os";
import { Redis } from "ioredis";
import { pino } from "pino";
import { RedisPipelineStorage } from "../lib/tracking/storage/redis/storage";
import { seedFinishedRuns } from "./fixtures";
import { BULL_BOARD_REQ_PER_S, compareRoute, HTTP_SECONDS, ms, percentile } from "./server-http-compare";
import { connectClient, connectCountingClient, drained, latencies, recordArrivals, type Client } from "./server-sockets";
import { PREFIX, REDIS_URL, runWriter, spawnTs, startListening, within } from "./server-spawn";
import type { WriterJob } from "./server-writer";

const RUNS = Number(process.env.BENCH_SERVER_RUNS ?? 100_000);
const FANOUT_CLIENTS = 500;
/** Fan-out clients that time every update with the real socket.io-client; the rest only count frames. */
const TIMED_CLIENTS = 50;

export async function deleteKeys(redis: Redis): Promise<void> {
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${PREFIX}*`, "COUNT", 5000);
    cursor = next;
    if (keys.length) await redis.unlink(...keys);
  } while (cursor !== "0");
}

/** 100 000 finished runs over the last 7 days, saved with many saveStatus calls in flight. */
export async function seed(redis: Redis): Promise<number> {
  return seedFinishedRuns(redis, PREFIX, RUNS);
}

async function serverCpuSeconds(url: string): Promise<number> {
  const text = await (await fetch(`${url}/api/metrics/prometheus`, { signal: AbortSignal.timeout(30_000) })).text();
  const match = /^pipewatch_process_cpu_seconds_total (\S+)$/m.exec(text);
  return match ? Number(match[1]) : NaN;
}

export async function run(): Promise<string> {
  const redis = new Redis(REDIS_URL);
  const children: ChildProcess[] = [];
  const sockets: Client[] = [];
  const closers: (() => void)[] = [];
  try {
    await deleteKeys(redis);
    const seedSeconds = await seed(redis);
    const host = await startListening("bench/server-host.ts");
    children.push(host.child);
    const raw = await startListening("bench/server-raw.ts", true);
    children.push(raw.child);
    const writer = spawnTs("bench/server-writer.ts", true);
    children.push(writer);
    await within(new Promise<void>((resolve) => writer.once("message", () => resolve())), 60_000, "the writer to start");

    const loadBefore = loadavg()
      .map((l) => l.toFixed(1))
      .join(" / ");
    // Warm up (JIT, connections) before measuring.
    for (let i = 0; i < 50; i++) for (const path of ["/api/pipelines?limit=50", "/api/metrics?days=7"]) await fetch(`${host.url}${path}`);
    const storage = new RedisPipelineStorage(redis, { keyPrefix: PREFIX, logger: pino({ level: "warn" }) });
    const httpRows = [
      ...(await compareRoute(
        host.url,
        "/api/pipelines?limit=50",
        raw.child,
        raw.url,
        async () => {
          const [page, counts] = await Promise.all([storage.listPage({ limit: 50 }), storage.countByStatus()]);
          return JSON.stringify({ items: page.items, nextCursor: page.nextCursor, counts });
        },
        true,
      )),
      ...(await compareRoute(host.url, "/api/metrics?days=7", raw.child, raw.url, async () =>
        JSON.stringify(await storage.getMetrics({ days: 7 })),
      )),
    ];
    await storage.close();

    // Live latency: one client, 1 000 step finishes in another process, each spaced > 100 ms per run.
    const client = await connectClient(host.url);
    sockets.push(client);
    const arrivals = recordArrivals(client);
    const liveJob: WriterJob = { runs: 250, concurrency: 8, steps: 4, stepMs: 130 };
    const finished = await runWriter(writer, liveJob);
    await drained([arrivals]);
    if (arrivals.size === 0) throw new Error(`the server delivered no live events for ${finished.size} step finishes`);
    const live = latencies(finished, arrivals);

    // Fan-out: 500 clients while ~200 transitions/s flow (each run: start, 4 step starts, 4 finishes, end).
    const timed: Client[] = [client];
    while (timed.length < TIMED_CLIENTS) timed.push(await connectClient(host.url));
    sockets.push(...timed.slice(1));
    const counting: { count: () => number; close: () => void }[] = [];
    for (let i = TIMED_CLIENTS; i < FANOUT_CLIENTS; i += 50) {
      counting.push(
        ...(await Promise.all(Array.from({ length: Math.min(50, FANOUT_CLIENTS - i) }, () => connectCountingClient(host.url)))),
      );
    }
    closers.push(...counting.map((c) => c.close));
    const fanoutArrivals = timed.map(recordArrivals);
    const cpuBefore = await serverCpuSeconds(host.url);
    const ownCpuBefore = process.cpuUsage();
    const wallBefore = performance.now();
    const fanJob: WriterJob = { runs: 200, concurrency: 16, steps: 4, stepMs: 200 };
    const fanFinished = await runWriter(writer, fanJob);
    const wallSeconds = (performance.now() - wallBefore) / 1000;
    const cpuAfter = await serverCpuSeconds(host.url);
    const ownCpu = process.cpuUsage(ownCpuBefore);
    await drained(fanoutArrivals);
    const fanValues: number[] = [];
    let fanMissing = 0;
    for (const arr of fanoutArrivals) {
      const l = latencies(fanFinished, arr);
      fanValues.push(...l.values);
      fanMissing += l.missing;
    }
    const framesCounted = counting.reduce((n, c) => n + c.count(), 0);
    const transitionsPerSecond = (fanJob.runs * (2 * fanJob.steps + 2)) / wallSeconds;

    const md = [
      "## server",
      "",
      `Custom server (API router + Next pages + Socket.IO) in its own process over Redis holding ${RUNS.toLocaleString("en")} runs ` +
        `(seeded with concurrent saveStatus in ${seedSeconds.toFixed(1)} s). autocannon: 10 connections, ${HTTP_SECONDS} s, loopback. ` +
        "Under each route, measured right after it: a bare node:http server (own process) answering the route's exact bytes, " +
        "and the route's storage calls alone with 10 in flight in the benchmark's process (no HTTP). " +
        `bull-board's job list: ${BULL_BOARD_REQ_PER_S} req/s on this machine (the top of the 400–480 figure; not runnable offline). ` +
        `Machine load average when the HTTP runs began: ${loadBefore}.`,
      "",
      "| route | req/s | p50 | p99 | response bytes | non-2xx | compared |",
      "|---|---|---|---|---|---|---|",
      ...httpRows,
      "",
      `**Live latency** (step finishes in another process → \`pipeline:update\` at a socket client, ${finished.size} finishes): ` +
        `p50 ${ms(percentile(live.values, 50))}, p95 ${ms(percentile(live.values, 95))}, p99 ${ms(percentile(live.values, 99))}, ` +
        `max ${ms(Math.max(...live.values))}; not delivered as their own state (coalesced into a later one): ${live.missing}. Target p95 ≤ 50 ms.`,
      "",
      `**Fan-out** (${timed.length + counting.length} clients: ${timed.length} socket.io-clients timing every update, ` +
        `${counting.length} bare websocket clients counting frames; ${transitionsPerSecond.toFixed(0)} transitions/s for ${wallSeconds.toFixed(1)} s): ` +
        `delivery p50 ${ms(percentile(fanValues, 50))}, p95 ${ms(percentile(fanValues, 95))}, p99 ${ms(percentile(fanValues, 99))} ` +
        `over ${fanValues.length.toLocaleString("en")} timed deliveries (${fanMissing} step finishes coalesced into a later state); ` +
        `${framesCounted.toLocaleString("en")} frames counted by the bare clients; ` +
        `server CPU ${(((cpuAfter - cpuBefore) / wallSeconds) * 100).toFixed(0)} % of one core. ` +
        `The clients' process used ${(((ownCpu.user + ownCpu.system) / 1e6 / wallSeconds) * 100).toFixed(0)} % of a core meanwhile: ` +
        "load generator, writer, Redis and server share the machine's cores, so these delivery times are an upper bound.",
      "",
    ].join("\n");
    mkdirSync("bench/results", { recursive: true });
    writeFileSync("bench/results/server.md", md);
    return md;
  } finally {
    for (const s of sockets) s.close();
    for (const close of closers) close();
    for (const child of children) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      // A child stuck past SIGTERM is killed: the benchmark ends either way.
      await within(exited, 10_000, "a child to stop").catch(() => child.kill("SIGKILL"));
    }
    await deleteKeys(redis);
    redis.disconnect();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await run());
}
