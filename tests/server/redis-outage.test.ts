/**
 * Redis going away under the server: the API fails fast with a 503 the dashboard can retry (not a
 * 500 after 15 s), health says unhealthy, and both recover when Redis is back. Uses the server's own
 * Redis options (server/redis-client.ts) against a redis-server of its own on a port from the OS.
 */
import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PipelineTrackingManager } from "../../lib/tracking/manager";
import { RedisPipelineStorage } from "../../lib/tracking/storage/redis/storage";
import { createServerRedis } from "../../server/redis-client";
import { silentLogger, startTestServer, type TestServer } from "./helpers";
import { startOwnRedis, type OwnRedis } from "../own-redis";

let redisServer: OwnRedis;
const PREFIX = `pwtest:server2:${randomBytes(4).toString("hex")}:`;
let redis: Redis;
let server: TestServer;

beforeAll(async () => {
  redisServer = await startOwnRedis();
  redis = createServerRedis(redisServer.url, silentLogger);
  const tracking = new PipelineTrackingManager({ logger: silentLogger }).withStorage(
    new RedisPipelineStorage(redis, { keyPrefix: PREFIX, logger: silentLogger }),
  );
  server = await startTestServer({ tracking });
});

afterAll(async () => {
  await server?.close();
  await server?.tracking.close();
  redis?.disconnect();
  await redisServer?.kill(); // its own server, no persistence: nothing to clean up
});

async function timed(path: string): Promise<{ status: number; ms: number; type: string | null; body: Record<string, unknown> }> {
  const started = performance.now();
  const res = await fetch(`${server.url}${path}`, { signal: AbortSignal.timeout(10_000) });
  const body = (await res.json()) as Record<string, unknown>;
  return { status: res.status, ms: performance.now() - started, type: res.headers.get("content-type"), body };
}

describe("when Redis goes down", () => {
  it("answers 503 JSON fast, then 200 again once Redis is back", async () => {
    expect((await timed("/api/pipelines")).status).toBe(200);
    await redisServer.kill();

    for (const path of ["/api/pipelines", "/api/pipelines/some-run", "/api/metrics?days=7", "/api/history"]) {
      const res = await timed(path);
      expect(res.status, path).toBe(503);
      expect(res.type).toContain("application/json");
      expect(res.body.error).toMatch(/^Storage unavailable: /);
      expect(res.ms, path).toBeLessThan(2_500);
    }
    const health = await timed("/api/health");
    expect(health.status).toBe(503);
    expect(health.body).toMatchObject({ status: "unhealthy", storage: "redis", changeFeed: "reconnecting" });
    expect(health.body.error).toEqual(expect.any(String));

    // A page reads through the same client: it renders its error state, it does not hang.
    const started = performance.now();
    await (await fetch(`${server.url}/`, { signal: AbortSignal.timeout(10_000) })).text();
    expect(performance.now() - started).toBeLessThan(3_000);

    await redisServer.start();
    let status = 0;
    for (let i = 0; i < 50 && status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 100));
      status = (await timed("/api/pipelines")).status;
    }
    expect(status).toBe(200);
    expect((await timed("/api/health")).status).toBe(200);
  }, 30_000);
});
