/**
 * The workers registry over HTTP and the socket, on Redis: heartbeats written straight into the
 * storage by made-up workers (WorkerHeartbeat, as a BullMQ worker would), read back through
 * /api/workers and /api/definitions and pushed to the workers room. Own key prefix; keys deleted.
 */
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WorkerHeartbeat, type WorkerInfo } from "../../lib";
import type { DefinitionJSON, WorkerJSON } from "../../lib/workers/json";
import { RedisPipelineStorage } from "../../lib/tracking/storage/redis/storage";
import { PipelineTrackingManager } from "../../lib/tracking/manager";
import { deleteKeys } from "../redis/helpers";
import { TEST_REDIS_URL } from "../test-redis-url";
import { connectClient, silentLogger, startTestServer, waitForEvent, type ClientSocket, type TestServer } from "./helpers";

const PREFIX = `pwtest:workers:${randomBytes(4).toString("hex")}:`;
const TOKEN = "workers-test-token-0123456789";
let redis: Redis;
let storage: RedisPipelineStorage;
let server: TestServer;
let authServer: TestServer;
const sockets: ClientSocket[] = [];
const heartbeats: WorkerHeartbeat[] = [];

function fakeWorker(workerId: string, pipelines: WorkerInfo["pipelines"]): WorkerInfo {
  return {
    workerId,
    hostname: `host-${workerId}`,
    pid: 1000,
    startedAt: new Date(Date.now() - 30_000),
    concurrency: 4,
    active: [{ pipelineId: "run-1", stepName: "load", startedAt: new Date(Date.now() - 500) }],
    processed: 12,
    failed: 1,
    pipelines,
  };
}

const report = {
  name: "report",
  pipelineType: "dataflow" as const,
  steps: [
    { name: "load", dependsOn: [] },
    { name: "stats", dependsOn: ["load"] },
  ],
};
const etl = { name: "etl", pipelineType: "sequential" as const, steps: [{ name: "extract", dependsOn: [] }] };

function startHeartbeat(info: WorkerInfo): Promise<void> {
  const hb = new WorkerHeartbeat(storage, () => info, { logger: silentLogger });
  heartbeats.push(hb);
  return hb.start();
}

beforeAll(async () => {
  redis = new Redis(TEST_REDIS_URL);
  storage = new RedisPipelineStorage(redis, { keyPrefix: PREFIX, logger: silentLogger });
  const tracking = new PipelineTrackingManager({ logger: silentLogger }).withStorage(storage);
  server = await startTestServer({ tracking });
  authServer = await startTestServer({ tracking, dashboardToken: TOKEN });
});

afterAll(async () => {
  for (const s of sockets) s.close();
  for (const hb of heartbeats) await hb.stop();
  await server?.close();
  await authServer?.close();
  await storage?.close();
  await deleteKeys(redis, PREFIX);
  redis.disconnect();
});

const getJson = async <T>(base: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: T }> => {
  const res = await fetch(`${base}${path}`, { headers });
  return { status: res.status, body: (await res.json()) as T };
};

describe("workers over HTTP and the socket (Redis)", () => {
  it("a storage's empty registry answers empty lists", async () => {
    expect((await getJson(server.url, "/api/workers")).body).toEqual({ items: [] });
    expect((await getJson(server.url, "/api/definitions")).body).toEqual({ items: [] });
  });

  it("lists two heartbeating workers online, one offline once stopped, and counts definitions by online workers", async () => {
    await startHeartbeat(fakeWorker("w-a", [report, etl]));
    await startHeartbeat(fakeWorker("w-b", [report]));

    const workers = await getJson<{ items: WorkerJSON[] }>(server.url, "/api/workers");
    expect(workers.status).toBe(200);
    expect(workers.body.items.map((w) => [w.workerId, w.status])).toEqual([
      ["w-a", "online"],
      ["w-b", "online"],
    ]);
    const a = workers.body.items[0]!;
    expect(a).toEqual({
      workerId: "w-a",
      hostname: "host-w-a",
      pid: 1000,
      startedAt: expect.stringMatching(/Z$/),
      lastSeenAt: expect.stringMatching(/Z$/),
      concurrency: 4,
      status: "online",
      active: [{ pipelineId: "run-1", stepName: "load", startedAt: expect.stringMatching(/Z$/) }],
      processed: 12,
      failed: 1,
    });
    expect(a).not.toHaveProperty("pipelines");

    let definitions = await getJson<{ items: { name: string; workers: number }[] }>(server.url, "/api/definitions");
    expect(definitions.body.items).toEqual([
      { ...etl, workers: 1 },
      { ...report, workers: 2 },
    ]);

    await heartbeats[0]!.stop();
    const after = await getJson<{ items: WorkerJSON[] }>(server.url, "/api/workers");
    expect(after.body.items.map((w) => [w.workerId, w.status])).toEqual([
      ["w-b", "online"],
      ["w-a", "offline"],
    ]);
    definitions = await getJson(server.url, "/api/definitions");
    expect(definitions.body.items).toEqual([{ ...report, workers: 1 }]);
  });

  it("requires the token when DASHBOARD_TOKEN is set", async () => {
    for (const path of ["/api/workers", "/api/definitions"]) {
      expect((await getJson(authServer.url, path)).status).toBe(401);
      const ok = await getJson<{ items: unknown[] }>(authServer.url, path, { authorization: `Bearer ${TOKEN}` });
      expect(ok.status).toBe(200);
      expect(ok.body.items.length).toBeGreaterThan(0);
    }
  });

  it("a member of the workers room gets the current list on joining, then workers:update after a new heartbeat", async () => {
    const socket = await connectClient(server.url);
    sockets.push(socket);
    const first = waitForEvent<{ items: WorkerJSON[] }>(socket, "workers:update", () => true);
    const joined = await new Promise<boolean>((resolve) => socket.emit("workers:subscribe", resolve));
    expect(joined).toBe(true);
    expect((await first).items.map((w) => w.workerId)).toContain("w-b");

    const arrived = waitForEvent<{ items: WorkerJSON[]; definitions: DefinitionJSON[] }>(socket, "workers:update", (p) =>
      p.items.some((w) => w.workerId === "w-c"),
    );
    await startHeartbeat(fakeWorker("w-c", [etl]));
    const update = await arrived;
    expect(update.items.find((w) => w.workerId === "w-c")).toMatchObject({ status: "online", hostname: "host-w-c" });
    expect(update.definitions.find((d) => d.name === "etl")).toMatchObject({ workers: 1 });

    const left = await new Promise<boolean>((resolve) => socket.emit("workers:unsubscribe", resolve));
    expect(left).toBe(true);
  });

  it("a socket outside the room hears nothing of workers", async () => {
    const socket = await connectClient(server.url);
    sockets.push(socket);
    let heard = 0;
    socket.on("workers:update", () => heard++);
    const member = await connectClient(server.url);
    sockets.push(member);
    const seen = waitForEvent<{ items: WorkerJSON[] }>(member, "workers:update", (p) => p.items.some((w) => w.workerId === "w-d"));
    await new Promise<boolean>((resolve) => member.emit("workers:subscribe", resolve));
    await startHeartbeat(fakeWorker("w-d", []));
    await seen;
    expect(heard).toBe(0);
  });
});
