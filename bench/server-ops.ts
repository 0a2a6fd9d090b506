/**
 * Operations: `/api/health` latency while 2 000 sockets connect (caps raised so all of
 * them are served, then the default 100 per address refusing 1 900), and during a retention pass
 * over 100 000 finished runs (target p99 ≤ 50 ms); and the storage sizing figure, bytes of Redis
 * memory per finished 10-step run. A redis-server of its own (port from the OS) keeps other users'
 * data out of the memory figures. Health is sampled back to back by one client in this process; the
 * sockets come from a child process (bench/socket-flood.ts), the server runs in another
 * (bench/server-ops-host.ts).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { Redis } from "ioredis";
import { pino } from "pino";
import type { PipelineStatus } from "../lib/tracking/models";
import { RedisPipelineStorage } from "../lib/tracking/storage/redis/storage";
import { startOwnRedis, type OwnRedis } from "../tests/own-redis";
import { seedFinishedRuns, stopChild } from "./fixtures";

const SOCKETS = 2_000;
const CONNECT_AT_ONCE = 50;
const CLEANUP_RUNS = 100_000;
const SIZING_RUNS = 5_000;
const IDLE_SAMPLE_MS = 2_000;
/** `BENCH_OPS_PHASES=cleanup npm run bench -- ops` runs only some of: sizing, sockets, cleanup. */
const PHASES = (process.env.BENCH_OPS_PHASES ?? "sizing,sockets,cleanup").split(",");

interface Latency {
  samples: number;
  p50: number;
  p99: number;
  max: number;
}

function summarize(ms: number[]): Latency {
  const sorted = [...ms].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
  return { samples: sorted.length, p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1] ?? NaN };
}

/** Requests /api/health back to back until `stop` resolves; answers the latencies (ms) and any non-200. */
async function sampleHealth(url: string, stop: Promise<unknown>): Promise<{ latency: Latency; failures: number }> {
  let stopped = false;
  void stop.finally(() => (stopped = true));
  const ms: number[] = [];
  let failures = 0;
  while (!stopped) {
    const started = performance.now();
    const res = await fetch(`${url}/api/health`);
    await res.arrayBuffer();
    ms.push(performance.now() - started);
    if (res.status !== 200) failures++;
  }
  return { latency: summarize(ms), failures };
}

const idle = (ms: number) => new Promise((r) => setTimeout(r, ms)); // a fixed measuring window, not a synchronisation

function startHost(redisUrl: string, prefix: string, perIp: number): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", "bench/server-ops-host.ts", redisUrl, prefix, String(perIp)], {
    stdio: ["ignore", "pipe", "inherit", "ipc"],
    env: { ...process.env, NODE_ENV: "production", NEXT_TELEMETRY_DISABLED: "1" },
  });
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on("line", (line) => {
      try {
        resolve({ child, url: (JSON.parse(line) as { url: string }).url });
      } catch {
        // Next's own output
      }
    });
    child.once("exit", (code) => reject(new Error(`server host exited ${code}`)));
  });
}

/** Opens `count` sockets from a child process; resolves once every attempt settled, with the child (sockets still open). */
function openSockets(url: string, count: number): Promise<{ child: ChildProcess; connected: number; refused: number; seconds: number }> {
  const child = spawn(process.execPath, ["--import", "tsx", "bench/socket-flood.ts", url, String(count), String(CONNECT_AT_ONCE)], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).once("line", (line) =>
      resolve({ child, ...(JSON.parse(line) as { connected: number; refused: number; seconds: number }) }),
    );
    child.once("exit", (code) => reject(new Error(`socket flood exited ${code}`)));
  });
}

async function socketsPhase(redis: OwnRedis, perIp: number): Promise<string> {
  const host = await startHost(redis.url, "pwbench:ops-sockets:", perIp);
  let flood: ChildProcess | undefined;
  try {
    const baseline = await sampleHealth(host.url, idle(IDLE_SAMPLE_MS));
    const opening = openSockets(host.url, SOCKETS);
    const during = await sampleHealth(host.url, opening);
    const opened = await opening;
    flood = opened.child;
    const after = await sampleHealth(host.url, idle(IDLE_SAMPLE_MS));
    const row = (label: string, s: { latency: Latency; failures: number }) =>
      `| ${label} | ${s.latency.samples} | ${s.latency.p50.toFixed(1)} | ${s.latency.p99.toFixed(1)} | ${s.latency.max.toFixed(1)} | ${s.failures} |`;
    return [
      `### MAX_SOCKETS_PER_IP=${perIp}: ${opened.connected} connected, ${opened.refused} refused in ${opened.seconds.toFixed(1)} s`,
      "",
      "| /api/health | samples | p50 ms | p99 ms | max ms | non-200 |",
      "|---|---|---|---|---|---|",
      row("idle, before", baseline),
      row(`while ${SOCKETS} sockets connect`, during),
      row(`with ${opened.connected} sockets open`, after),
      "",
    ].join("\n");
  } finally {
    if (flood) await stopChild(flood);
    await stopChild(host.child);
  }
}

async function cleanupPhase(redis: OwnRedis): Promise<string> {
  const prefix = "pwbench:ops-cleanup:";
  const client = new Redis(redis.url);
  const seedS = await seedFinishedRuns(client, prefix, CLEANUP_RUNS);
  const host = await startHost(redis.url, prefix, 100);
  try {
    const baseline = await sampleHealth(host.url, idle(IDLE_SAMPLE_MS));
    const done = new Promise<{ deleted: number; ms: number }>((resolve) =>
      host.child.once("message", (m) => resolve(m as { deleted: number; ms: number })),
    );
    host.child.send("cleanup");
    const during = await sampleHealth(host.url, done);
    const pass = await done;
    return [
      `### Retention pass over ${CLEANUP_RUNS.toLocaleString("en")} finished runs (seeded in ${seedS.toFixed(1)} s): ${pass.deleted} deleted in ${(pass.ms / 1000).toFixed(1)} s, batches of 1 000`,
      "",
      "| /api/health | samples | p50 ms | p99 ms | max ms | non-200 |",
      "|---|---|---|---|---|---|",
      `| idle, before | ${baseline.latency.samples} | ${baseline.latency.p50.toFixed(1)} | ${baseline.latency.p99.toFixed(1)} | ${baseline.latency.max.toFixed(1)} | ${baseline.failures} |`,
      `| during the pass | ${during.latency.samples} | ${during.latency.p50.toFixed(1)} | ${during.latency.p99.toFixed(1)} | ${during.latency.max.toFixed(1)} | ${during.failures} |`,
      "",
    ].join("\n");
  } finally {
    await stopChild(host.child);
    client.disconnect();
  }
}

/** A finished 10-step run shaped like a real one: small results, timestamps, a worker id. */
function tenStepRun(j: number, nowMs: number): PipelineStatus {
  const start = nowMs - 3_600_000 + j * 50;
  return {
    pipelineId: `size-etl_${j.toString(36)}`,
    pipelineName: "etl-nightly",
    status: "COMPLETED",
    pipelineType: "sequential",
    startedAt: new Date(start),
    completedAt: new Date(start + 10_000),
    durationMs: 10_000,
    result: { rows: j, ok: true },
    error: null,
    steps: Array.from({ length: 10 }, (_, k) => ({
      stepName: `step-${k}`,
      status: "COMPLETED" as const,
      startedAt: new Date(start + k * 1_000),
      completedAt: new Date(start + (k + 1) * 1_000),
      durationMs: 1_000,
      result: { k, rows: j },
      error: null,
      dependsOn: k ? [`step-${k - 1}`] : [],
      attempts: 1,
      workerId: "worker-1",
    })),
  };
}

async function sizingPhase(redis: OwnRedis): Promise<string> {
  const client = new Redis(redis.url);
  const prefix = "pwbench:size:";
  const usedMemory = async () => Number(/used_memory:(\d+)/.exec(await client.info("memory"))![1]);
  const storage = new RedisPipelineStorage(client, { keyPrefix: prefix, logger: pino({ level: "warn" }) });
  await storage.saveStatus(tenStepRun(-1, Date.now()));
  const before = await usedMemory();
  const nowMs = Date.now();
  for (let i = 0; i < SIZING_RUNS; i += 500) {
    await Promise.all(Array.from({ length: 500 }, (_, k) => storage.saveStatus(tenStepRun(i + k, nowMs))));
  }
  await storage.close();
  const perRun = ((await usedMemory()) - before) / SIZING_RUNS;
  const hash = Number(await client.call("MEMORY", "USAGE", storage.keys.run(tenStepRun(7, nowMs).pipelineId), "SAMPLES", "0"));
  client.disconnect();
  return [
    `### Redis bytes per finished 10-step run (${SIZING_RUNS.toLocaleString("en")} runs)`,
    "",
    `- \`MEMORY USAGE\` of one run's record: ${hash} bytes`,
    `- \`used_memory\` grew by ${Math.round(perRun)} bytes per run (record, indexes and daily rollups)`,
    "",
  ].join("\n");
}

export async function run(): Promise<string> {
  const redis = await startOwnRedis();
  try {
    const phases: Record<string, () => Promise<string>> = {
      sizing: () => sizingPhase(redis),
      sockets: async () => `${await socketsPhase(redis, 5_000)}\n${await socketsPhase(redis, 100)}`,
      cleanup: () => cleanupPhase(redis),
    };
    const sections = ["## server operations (health under load, retention, sizing)", ""];
    for (const [name, phase] of Object.entries(phases)) if (PHASES.includes(name)) sections.push(await phase());
    return sections.join("\n");
  } finally {
    await redis.kill();
  }
}
