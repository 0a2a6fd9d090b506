/**
 * The production entry (`node dist/server/index.js`, what `npm start` runs) end to end: the
 * environment's defaults (demo with memory storage, none with Redis; SQLite, the default, has
 * tests/server/sqlite-default.test.ts), the hourly retention,
 * graceful SIGTERM, and the refusal to bind a non-loopback HOST without a token. The entry is
 * started through tests/server/entry.ts (which rebuilds the bundle first).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedisPipelineStorage } from "../../lib/tracking/storage/redis/storage";
import { startOwnRedis, type OwnRedis } from "../own-redis";
import { ENTRY, buildServerEntry, startEntry as spawnEntry, stopGracefully, waitForLog, type StartedEntry } from "./entry";

let redisServer: OwnRedis;
const children: ChildProcess[] = [];

beforeAll(async () => {
  buildServerEntry();
  redisServer = await startOwnRedis();
}, 60_000);

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
  await redisServer?.kill(); // its own server: nothing to clean up
});

const startEntry = (env: Record<string, string>): Promise<StartedEntry> => spawnEntry(env, children);

async function items(url: string): Promise<{ pipelineId: string }[]> {
  return ((await (await fetch(`${url}/api/pipelines?limit=500`)).json()) as { items: { pipelineId: string }[] }).items;
}

describe("node dist/server/index.js", () => {
  it("with memory storage (PIPEWATCH_DB=:memory:) runs the demo by default, back-fills history, schedules retention, and stops on SIGTERM", async () => {
    const server = await startEntry({ PIPEWATCH_DB: ":memory:" });
    expect(server.logs.find((l) => l.msg === "pipewatch server listening")).toMatchObject({
      storage: "memory",
      auth: "none",
      health: { status: "healthy", storage: "memory", changeFeed: "none" },
    });
    let live: { pipelineId: string }[] = [];
    for (let i = 0; i < 100 && live.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      live = (await items(server.url)).filter((i) => !i.pipelineId.startsWith("backfill-"));
    }
    expect(live.length).toBeGreaterThan(0);
    const backfilled = Number((await waitForLog(server, "demo history back-filled")).count);
    expect(backfilled).toBeGreaterThan(50);
    // The back-filled week is history, not something that just happened: the counters leave it out.
    const exposition = await (await fetch(`${server.url}/api/metrics/prometheus`)).text();
    const counted = [...exposition.matchAll(/^pipewatch_pipelines_total\{[^}]*\} (\d+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
    expect(counted).toBeLessThan(backfilled / 5);
    const retention = await waitForLog(server, "retention cleanup scheduled");
    expect(retention).toMatchObject({ retentionDays: 30, everyMs: 3_600_000 });
    expect(Date.parse(String(retention.nextRun)) - Date.now()).toBeLessThanOrEqual(3_600_000);
    await stopGracefully(server);
  }, 30_000);

  it("with REDIS_URL runs no demo unless DEMO=1, honours REDIS_PREFIX and RETENTION_DAYS", async () => {
    const prefix = `pwtest:server2:${randomBytes(4).toString("hex")}:`;
    const server = await startEntry({ REDIS_URL: redisServer.url, REDIS_PREFIX: prefix, RETENTION_DAYS: "7" });
    expect(server.logs.find((l) => l.msg === "pipewatch server listening")).toMatchObject({
      storage: "redis",
      health: { status: "healthy", storage: "redis" },
    });
    expect(await waitForLog(server, "retention cleanup scheduled")).toMatchObject({ retentionDays: 7 });
    const health = (await (await fetch(`${server.url}/api/health`)).json()) as { storage: string };
    expect(health.storage).toBe("redis");
    // On purpose: the demo starts a run at once and back-fills hundreds, so 2 s of nothing means it is off.
    await new Promise((r) => setTimeout(r, 2_000));
    expect(await items(server.url)).toEqual([]);
    await stopGracefully(server);

    const demo = await startEntry({ REDIS_URL: redisServer.url, REDIS_PREFIX: prefix, DEMO: "1" });
    let found = 0;
    for (let i = 0; i < 100 && found === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      found = (await items(demo.url)).length;
    }
    expect(found).toBeGreaterThan(0);
    // The demo process heartbeats as a worker, offers the demo pipelines, and lists itself offline once stopped.
    let own: { pid: number; status: string } | undefined;
    for (let i = 0; i < 100 && !own; i++) {
      const workers = (await (await fetch(`${demo.url}/api/workers`)).json()) as { items: { pid: number; status: string }[] };
      own = workers.items.find((w) => w.pid === demo.child.pid);
      if (!own) await new Promise((r) => setTimeout(r, 100));
    }
    expect(own).toMatchObject({ status: "online" });
    const definitions = (await (await fetch(`${demo.url}/api/definitions`)).json()) as { items: { name: string; workers: number }[] };
    expect(definitions.items).toContainEqual(expect.objectContaining({ name: "orders-etl", workers: 1 }));
    await stopGracefully(demo);
    const redis = new Redis(redisServer.url);
    const storage = new RedisPipelineStorage(redis, { keyPrefix: prefix });
    expect((await storage.listWorkers()).find((w) => w.pid === demo.child.pid)).toMatchObject({ status: "offline" });
    await storage.close();
    redis.disconnect();
  }, 40_000);

  it("exits 1 on a non-loopback HOST without a token", async () => {
    const child = spawn(process.execPath, [ENTRY], {
      env: { PATH: process.env.PATH ?? "", NODE_ENV: "production", HOST: "0.0.0.0", PORT: "0" },
      stdio: ["ignore", "ignore", "pipe"],
    });
    children.push(child);
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    expect(code).toBe(1);
    expect(stderr).toMatch(/Refusing to listen on 0\.0\.0\.0 without DASHBOARD_TOKEN/);
  });
});
