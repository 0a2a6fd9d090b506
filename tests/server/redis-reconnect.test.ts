/**
 * Live events survive a Redis restart: the server's change-feed subscriber reconnects and
 * resubscribes, so a run another process records after the restart still reaches a socket client
 * that stayed connected throughout. Own redis-server on a port from the OS (killed and restarted here).
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PipelineTrackingManager } from "../../lib/tracking/manager";
import type { PipelineSummary } from "../../lib/tracking/models";
import { RedisPipelineStorage } from "../../lib/tracking/storage/redis/storage";
import { createServerRedis } from "../../server/redis-client";
import { connectClient, silentLogger, startTestServer, waitForEvent, type ClientSocket, type TestServer } from "./helpers";
import { ownRedis, startOwnRedis, type OwnRedis } from "../own-redis";

let redisServer: OwnRedis;
const PREFIX = `pwtest:server2:${randomBytes(4).toString("hex")}:`;
let redis: Redis;
let server: TestServer;
let socket: ClientSocket | undefined;

beforeAll(async () => {
  redisServer = await startOwnRedis();
  redis = createServerRedis(redisServer.url, silentLogger);
  const tracking = new PipelineTrackingManager({ logger: silentLogger }).withStorage(
    new RedisPipelineStorage(redis, { keyPrefix: PREFIX, logger: silentLogger }),
  );
  server = await startTestServer({ tracking });
});

afterAll(async () => {
  socket?.close();
  await server?.close();
  await server?.tracking.close();
  redis?.disconnect();
  await redisServer?.kill();
});

function runRemoteWriter(pipelineId: string): Promise<void> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "tests/server/fixtures/remote-writer.ts", redisServer.url, PREFIX, pipelineId, "100"],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`remote writer exited ${code}: ${stderr.slice(0, 500)}`))));
  });
}

/** Channels with a subscriber on our own server: only the server's change feed subscribes there. */
async function subscribedChannels(): Promise<number> {
  const probe = new Redis(redisServer.url, { maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });
  try {
    await probe.connect();
    return ((await probe.pubsub("CHANNELS")) as string[]).length;
  } catch {
    return 0;
  } finally {
    probe.disconnect();
  }
}

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("after a Redis restart", () => {
  it("delivers to a client that stayed connected a run another process records after the restart", async () => {
    socket = await connectClient(server.url);
    await waitUntil("the change feed is subscribed", async () => (await subscribedChannels()) > 0);
    const before = `before_${randomBytes(3).toString("hex")}`;
    const heardBefore = waitForEvent<PipelineSummary>(
      socket,
      "pipeline:update",
      (s) => s.pipelineId === before && s.status === "COMPLETED",
      20_000,
    );
    await runRemoteWriter(before);
    await heardBefore;

    const closed = new Promise((r) => redis.once("close", r));
    await redisServer.kill();
    await closed; // the server's client saw the outage
    await redisServer.start();
    // A restarted Redis has no subscribers until the server's subscriber connection resubscribes.
    await waitUntil("the change feed is subscribed again", async () => (await subscribedChannels()) > 0);
    expect(socket.connected).toBe(true);

    const after = `after_${randomBytes(3).toString("hex")}`;
    const heardAfter = waitForEvent<PipelineSummary>(
      socket,
      "pipeline:update",
      (s) => s.pipelineId === after && s.status === "COMPLETED",
      20_000,
    );
    await runRemoteWriter(after);
    expect(await heardAfter).toMatchObject({ pipelineName: "remote", stepsCompleted: 2 });
  }, 40_000);
});

describe("when Redis is down while the server starts", () => {
  it("subscribes to the change feed once Redis comes up (the SUBSCRIBE waits instead of failing for good)", async () => {
    const late = await ownRedis(); // nothing listens there until late.start()
    const lateRedis = createServerRedis(late.url, silentLogger);
    const storage = new RedisPipelineStorage(lateRedis, { keyPrefix: PREFIX, logger: silentLogger });
    const unsubscribe = storage.subscribe(() => undefined);
    try {
      await new Promise((r) => setTimeout(r, 2_000)); // several failed reconnects: ioredis gave up on queued commands
      await late.start();
      const probe = new Redis(late.url, { maxRetriesPerRequest: 0, retryStrategy: () => null });
      try {
        await waitUntil("the change feed is subscribed", async () => ((await probe.pubsub("CHANNELS")) as string[]).length > 0, 5_000);
      } finally {
        probe.disconnect();
      }
    } finally {
      unsubscribe();
      await storage.close();
      lateRedis.disconnect();
      await late.kill();
    }
  }, 20_000);
});
