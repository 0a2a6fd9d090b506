/**
 * Gaps in the change feed: changes published while the dashboard's subscriber is down are lost by
 * pub/sub, so after every gap the server must reread what changed and tell its clients. Each case
 * runs a burst writer in another process against a redis-server of this test's own, breaks the
 * feed during the burst, and then checks that raw Socket.IO clients, which handle only
 * `pipeline:update` and `pipeline:delete`, end with exactly the runs and statuses the API answers.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { PipelineTrackingManager } from "../../lib/tracking/manager";
import type { PipelineSummary, Status } from "../../lib/tracking/models";
import { RedisPipelineStorage } from "../../lib/tracking/storage/redis/storage";
import { createServerRedis } from "../../server/redis-client";
import { startOwnRedis, type OwnRedis } from "../own-redis";
import { connectClient, silentLogger, startTestServer, type ClientSocket, type TestServer } from "./helpers";

interface Harness {
  redisServer: OwnRedis;
  redis: Redis;
  server: TestServer;
  prefix: string;
  clients: { socket: ClientSocket; runs: Map<string, Status> }[];
}

let harness: Harness | null = null;

afterEach(async () => {
  if (!harness) return;
  for (const { socket } of harness.clients) socket.close();
  await harness.server.close();
  await harness.server.tracking.close();
  harness.redis.disconnect();
  await harness.redisServer.kill();
  harness = null;
});

async function start(persist = false): Promise<Harness> {
  const redisServer = await startOwnRedis({ persist });
  const prefix = `pwtest:gap:${randomBytes(4).toString("hex")}:`;
  const redis = createServerRedis(redisServer.url, silentLogger);
  const tracking = new PipelineTrackingManager({ logger: silentLogger }).withStorage(
    new RedisPipelineStorage(redis, { keyPrefix: prefix, logger: silentLogger }),
  );
  const server = await startTestServer({ tracking });
  const clients = await Promise.all(
    [0, 1].map(async () => {
      const socket = await connectClient(server.url);
      const runs = new Map<string, Status>();
      socket.on("pipeline:update", (s: PipelineSummary) => void runs.set(s.pipelineId, s.status));
      socket.on("pipeline:delete", ({ pipelineId }) => void runs.delete(pipelineId));
      return { socket, runs };
    }),
  );
  harness = { redisServer, redis, server, prefix, clients };
  await waitUntil("the change feed is subscribed", async () => (await feedSubscribers(redisServer)) > 0);
  return harness;
}

function runBurstWriter(h: Harness, runs: number, intervalMs: number): Promise<void> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "tests/server/fixtures/burst-writer.ts", h.redisServer.url, h.prefix, String(runs), String(intervalMs)],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`burst writer exited ${code}: ${stderr.slice(0, 500)}`))));
  });
}

async function withProbe<T>(redisServer: OwnRedis, ask: (probe: Redis) => Promise<T>, fallback: T): Promise<T> {
  const probe = new Redis(redisServer.url, { maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });
  probe.on("error", () => undefined);
  try {
    await probe.connect();
    return await ask(probe);
  } catch {
    return fallback;
  } finally {
    probe.disconnect();
  }
}

const feedSubscribers = (redisServer: OwnRedis) =>
  withProbe(redisServer, async (probe) => ((await probe.pubsub("CHANNELS")) as string[]).length, 0);

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function apiRuns(h: Harness): Promise<Map<string, Status>> {
  const res = await fetch(`${h.server.url}/api/pipelines?limit=500`);
  const body = (await res.json()) as { items: PipelineSummary[] };
  return new Map(body.items.map((s) => [s.pipelineId, s.status]));
}

/** Every client ends equal to the API (polled until it holds, then compared for the report). */
async function expectClientsEqualApi(h: Harness): Promise<void> {
  const sorted = (m: Map<string, Status>) => [...m].sort(([a], [b]) => a.localeCompare(b));
  const settled = async () => {
    const api = sorted(await apiRuns(h));
    return h.clients.every(({ runs }) => JSON.stringify(sorted(runs)) === JSON.stringify(api));
  };
  await waitUntil("every client equals the API", settled).catch(() => undefined);
  const api = sorted(await apiRuns(h));
  for (const { runs } of h.clients) expect(sorted(runs)).toEqual(api);
}

describe("after a gap in the change feed, every client ends equal to the API", () => {
  it("when the pub/sub connections are killed 5 times during a burst of 50 runs/s", async () => {
    const h = await start();
    const writer = runBurstWriter(h, 150, 20);
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, 400)); // the kills are spread over the burst
      await withProbe<unknown>(h.redisServer, (probe) => probe.call("CLIENT", "KILL", "TYPE", "pubsub"), 0);
    }
    await writer;
    const api = await apiRuns(h);
    expect(api.size).toBe(150);
    expect([...api.values()].every((s) => s === "COMPLETED")).toBe(true);
    await expectClientsEqualApi(h);
  }, 60_000);

  it("when Redis restarts with its data (append-only file) during a burst", async () => {
    const h = await start(true);
    const writer = runBurstWriter(h, 100, 20);
    await waitUntil("some runs are stored", async () => (await apiRuns(h)).size >= 20);
    await h.redisServer.stop();
    await h.redisServer.start();
    await writer;
    expect((await apiRuns(h)).size).toBe(100);
    await expectClientsEqualApi(h);
  }, 60_000);

  it("when Redis restarts empty during a burst: the runs that vanished are deleted on every client", async () => {
    const h = await start();
    const writer = runBurstWriter(h, 100, 20);
    await waitUntil("some runs reached the clients", async () => h.clients.every(({ runs }) => runs.size >= 20));
    await h.redisServer.kill();
    await h.redisServer.start();
    await writer;
    const api = await apiRuns(h);
    expect(api.size).toBeLessThan(100);
    await expectClientsEqualApi(h);
  }, 60_000);
});
