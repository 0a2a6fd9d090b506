/**
 * /api/health reads the storage the way the list page does: healthy with latency and the change
 * feed's state when that read works; 503 with the error when it does not, even though the Redis
 * still answers PING (an ACL on a redis-server of the test's own lets the dashboard's user connect,
 * PING and SUBSCRIBE, and nothing else).
 */
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PipelineTrackingManager } from "../../lib/tracking/manager";
import { RedisPipelineStorage } from "../../lib/tracking/storage/redis/storage";
import { createServerRedis } from "../../server/redis-client";
import { startOwnRedis, type OwnRedis } from "../own-redis";
import { silentLogger, startTestServer, type TestServer } from "./helpers";

describe("with memory storage", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  it("answers healthy after a real read, with its latency and no change feed", async () => {
    const res = await fetch(`${server.url}/api/health`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ status: "healthy", storage: "memory", changeFeed: "none" });
    expect(body.latencyMs).toEqual(expect.any(Number));
    expect(body.latencyMs as number).toBeGreaterThanOrEqual(0);
  });
});

describe("with a Redis that answers PING but refuses every read", () => {
  let redisServer: OwnRedis;
  let admin: Redis;
  let dashboard: Redis;
  let server: TestServer;

  beforeAll(async () => {
    redisServer = await startOwnRedis();
    admin = new Redis(redisServer.url);
    // Connection housekeeping (HELLO, CLIENT SETNAME, SELECT, INFO for ioredis's ready check), PING
    // and the change feed's SUBSCRIBE: the dashboard connects, subscribes and pings fine.
    await admin.call(
      "ACL",
      "SETUSER",
      "dashboard",
      "on",
      ">dashboard-pass",
      "~*",
      "&*",
      "-@all",
      "+@connection",
      "+info",
      "+subscribe",
      "+unsubscribe",
    );
    const url = new URL(redisServer.url);
    url.username = "dashboard";
    url.password = "dashboard-pass";
    dashboard = createServerRedis(url.toString(), silentLogger);
    const tracking = new PipelineTrackingManager({ logger: silentLogger }).withStorage(
      new RedisPipelineStorage(dashboard, { keyPrefix: "pwtest:health:", logger: silentLogger }),
    );
    server = await startTestServer({ tracking });
  });
  afterAll(async () => {
    await server?.close();
    await server?.tracking.close().catch(() => undefined);
    dashboard?.disconnect();
    admin?.disconnect();
    await redisServer?.kill(); // its own server: nothing to clean up
  });

  it("answers 503 unhealthy with the read's error, while PING still works", async () => {
    expect(await dashboard.ping()).toBe("PONG");
    const res = await fetch(`${server.url}/api/health`);
    expect(res.status).toBe(503);
    expect(res.headers.get("content-type")).toContain("application/json");
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ status: "unhealthy", storage: "redis" });
    expect(body.error).toMatch(/NOPERM|permission/i);
    expect((await fetch(`${server.url}/api/pipelines`)).status).toBeGreaterThanOrEqual(500);
  });

  it("is healthy again once the user may read", async () => {
    await admin.call("ACL", "SETUSER", "dashboard", "+@all");
    const res = await fetch(`${server.url}/api/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: "healthy", storage: "redis" });
  });
});
