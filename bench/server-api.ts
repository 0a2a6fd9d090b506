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
import { spawn, type ChildProcess } from "node:child_process";
import { writeFileSync, mkdirSync } from "node:fs";
import { loadavg } from "node:os";
import { createInterface } from "node:readline";
import autocannon from "autocannon";
import { Redis } from "ioredis";
import { pino } from "pino";
import { io as connect, type Socket } from "socket.io-client";
import { WebSocket } from "ws";
import type { ClientToServerEvents, ServerToClientEvents } from "../lib/events";
import { RedisPipelineStorage } from "../lib/tracking/storage/redis/storage";
import { seedFinishedRuns } from "./fixtures";
import type { StepFinished, WriterDone, WriterJob } from "./server-writer";

const REDIS_URL = process.env.BENCH_REDIS_URL ?? process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const PREFIX = "pwbench:server:";
const RUNS = Number(process.env.BENCH_SERVER_RUNS ?? 100_000);
const HTTP_SECONDS = Number(process.env.BENCH_SERVER_HTTP_SECONDS ?? 10);
const FANOUT_CLIENTS = 500;
/** Fan-out clients that time every update with the real socket.io-client; the rest only count frames. */
const TIMED_CLIENTS = 50;

type Client = Socket<ServerToClientEvents, ClientToServerEvents>;
const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = values.slice().sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
const ms = (v: number) => `${v.toFixed(1)} ms`;

/** Every wait on another process is bounded: a stuck child fails the benchmark instead of hanging it. */
function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`benchmark timed out after ${Math.round(timeoutMs / 1000)} s: ${what}`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

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

/** Extra node flags for the server process only, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile it. */
const HOST_NODE_ARGS = (process.env.BENCH_SERVER_HOST_NODE_ARGS ?? "").split(" ").filter(Boolean);

function spawnTs(file: string, ipc: boolean): ChildProcess {
  const nodeArgs = file.endsWith("server-host.ts") ? HOST_NODE_ARGS : [];
  return spawn(process.execPath, [...nodeArgs, "--import", "tsx", file, REDIS_URL, PREFIX], {
    stdio: ipc ? ["ignore", "pipe", "inherit", "ipc"] : ["ignore", "pipe", "inherit"],
    env: { ...process.env, NODE_ENV: "production", NEXT_TELEMETRY_DISABLED: "1" },
  });
}

/** Starts a child that prints `{"url": ...}` on stdout once listening. */
async function startListening(file: string, ipc = false): Promise<{ child: ChildProcess; url: string }> {
  const child = spawnTs(file, ipc);
  const lines = createInterface({ input: child.stdout! });
  const url = await within(
    new Promise<string>((resolve, reject) => {
      lines.on("line", (line) => {
        try {
          resolve((JSON.parse(line) as { url: string }).url);
        } catch {
          // not the ready line
        }
      });
      child.once("exit", (code) => reject(new Error(`server exited ${code}`)));
    }),
    60_000,
    `${file} to listen`,
  ).catch((err: unknown) => {
    child.kill("SIGKILL");
    throw err;
  });
  return { child, url };
}

/** bull-board's job list on this machine (figure given with the issue; not runnable offline). */
const BULL_BOARD_REQ_PER_S = 480;

interface HttpRow {
  label: string;
  reqPerS: number;
  p50: number;
  p99: number;
  bytes: number;
  non2xx: number;
}

async function measureHttp(label: string, url: string, headers: Record<string, string> = {}): Promise<HttpRow> {
  // Bytes on the wire: content-length (fetch would hand back the decompressed body).
  const res = await fetch(url, { headers: { "accept-encoding": "identity", ...headers }, signal: AbortSignal.timeout(30_000) });
  await res.arrayBuffer();
  const bytes = Number(res.headers.get("content-length"));
  const result = await autocannon({ url, connections: 10, duration: HTTP_SECONDS, headers });
  return { label, reqPerS: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, bytes, non2xx: result.non2xx };
}

/** The route's own storage calls with 10 in flight, in this process, for as long as autocannon runs. */
async function measureStorage(call: () => Promise<string>): Promise<{ perS: number; p50: number; p99: number }> {
  const latencies: number[] = [];
  const end = performance.now() + HTTP_SECONDS * 1000;
  await Promise.all(
    Array.from({ length: 10 }, async () => {
      while (performance.now() < end) {
        const t = performance.now();
        await call();
        latencies.push(performance.now() - t);
      }
    }),
  );
  return { perS: latencies.length / HTTP_SECONDS, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

/** Ours, the bare server on the same bytes, and the storage alone, for one route. */
async function compareRoute(
  hostUrl: string,
  path: string,
  raw: ChildProcess,
  rawUrl: string,
  storageCall: () => Promise<string>,
  withGzip = false,
): Promise<string[]> {
  const body = await (await fetch(`${hostUrl}${path}`)).text();
  await within(
    new Promise<void>((resolve) => {
      raw.once("message", () => resolve());
      raw.send({ body });
    }),
    10_000,
    "the bare server to take the body",
  );
  const ours = await measureHttp(`GET ${path}`, `${hostUrl}${path}`);
  const gzip = withGzip
    ? await measureHttp(`GET ${path}, Accept-Encoding: gzip`, `${hostUrl}${path}`, { "accept-encoding": "gzip" })
    : null;
  const bare = await measureHttp("bare node:http, same bytes", rawUrl);
  const storage = await measureStorage(storageCall);
  const row = (r: HttpRow, vs: string) =>
    `| ${r.label} | ${Math.round(r.reqPerS)} | ${r.p50} ms | ${r.p99} ms | ${r.bytes} | ${r.non2xx} | ${vs} |`;
  return [
    row(
      ours,
      `${((ours.reqPerS / bare.reqPerS) * 100).toFixed(0)} % of bare · ${(ours.reqPerS / BULL_BOARD_REQ_PER_S).toFixed(1)}× bull-board`,
    ),
    ...(gzip ? [row(gzip, `gzip level 1 · ${((gzip.reqPerS / ours.reqPerS) * 100).toFixed(0)} % of identity`)] : []),
    row(bare, ""),
    `| storage calls alone, in-process | ${Math.round(storage.perS)} | ${ms(storage.p50)} | ${ms(storage.p99)} | | | ours = ${((ours.reqPerS / storage.perS) * 100).toFixed(0)} % of it |`,
  ];
}

function connectClient(url: string): Promise<Client> {
  const socket: Client = connect(url, { path: "/socket.io", transports: ["websocket"], reconnection: false, forceNew: true });
  return new Promise((resolve, reject) => {
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", reject);
  });
}

/**
 * A bare Engine.IO/Socket.IO v4 websocket client that counts `pipeline:update` frames without
 * decoding them, so 450 of the 500 fan-out clients cost the load generator (same 2 cores as the
 * server) almost nothing; the server does the same work for them as for a browser.
 */
function connectCountingClient(url: string): Promise<{ count: () => number; close: () => void }> {
  const ws = new WebSocket(`${url.replace(/^http/, "ws")}/socket.io/?EIO=4&transport=websocket`);
  let frames = 0;
  return new Promise((resolve, reject) => {
    ws.on("error", reject);
    ws.on("message", (data: Buffer) => {
      if (data[0] === 0x34 && data[1] === 0x32)
        frames++; // "42": an event
      else if (data[0] === 0x32 && data.length === 1)
        ws.send("3"); // ping → pong
      else if (data[0] === 0x30)
        ws.send("40"); // open → connect to "/"
      else if (data[0] === 0x34 && data[1] === 0x30) resolve({ count: () => frames, close: () => ws.close() }); // "40": connected
    });
  });
}

/** Waits until no new arrival has been recorded for `quietMs` (the clients have drained). */
async function drained(maps: Map<string, number>[], quietMs = 1_000, maxMs = 15_000): Promise<void> {
  const total = () => maps.reduce((n, m) => n + m.size, 0);
  const deadline = performance.now() + maxMs;
  let last = -1;
  while (performance.now() < deadline) {
    const n = total();
    if (n === last) return;
    last = n;
    await sleep(quietMs);
  }
}

/** Runs a writer job; resolves with each step finish's time keyed `<id>:<stepsCompleted>`. */
function runWriter(writer: ChildProcess, job: WriterJob): Promise<Map<string, number>> {
  const finished = new Map<string, number>();
  let onMessage: (m: StepFinished | WriterDone) => void = () => undefined;
  const done = new Promise<Map<string, number>>((resolve, reject) => {
    onMessage = (m) => {
      if (!("done" in m)) return void finished.set(`${m.pipelineId}:${m.stepsCompleted}`, m.at);
      if (m.error) reject(new Error(`the writer failed: ${m.error}`));
      else resolve(finished);
    };
    writer.on("message", onMessage);
    writer.once("exit", (code) => reject(new Error(`the writer exited ${code}`)));
    writer.send(job);
  });
  // Three times the job's own duration, plus slack for a loaded machine.
  const expectedMs = Math.ceil(job.runs / job.concurrency) * job.steps * job.stepMs;
  return within(done, expectedMs * 3 + 30_000, `the writer's ${job.runs} runs`).finally(() => writer.off("message", onMessage));
}

function recordArrivals(socket: Client): Map<string, number> {
  const arrivals = new Map<string, number>();
  socket.on("pipeline:update", (s) => {
    const key = `${s.pipelineId}:${s.stepsCompleted}`;
    if (!arrivals.has(key)) arrivals.set(key, now());
  });
  return arrivals;
}

function latencies(finished: Map<string, number>, arrivals: Map<string, number>): { values: number[]; missing: number } {
  const values: number[] = [];
  let missing = 0;
  for (const [key, at] of finished) {
    const arrived = arrivals.get(key);
    if (arrived === undefined) missing++;
    else values.push(arrived - at);
  }
  return { values, missing };
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
