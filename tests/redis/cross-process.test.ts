/** Two processes share one Redis: a child records runs, this process reads them and hears every change. */
import { spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { Redis } from "ioredis";
import { InMemoryBroker, PipelineTrackingManager, type PipelineStatus } from "../../lib";
import { RedisPipelineStorage } from "../../lib";
import { REDIS_URL, connect, deleteKeys, silentLogger, subscriberCount, uniquePrefix } from "./helpers";

let redis: Redis;
const prefix = uniquePrefix("xproc");

beforeAll(() => {
  redis = connect();
});
afterAll(async () => {
  await deleteKeys(redis, prefix);
  redis.disconnect();
});

function runChild(runs: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn("npx", ["tsx", "tests/redis/fixtures/record-runs.ts", REDIS_URL, prefix, String(runs)], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d));
    child.stderr.on("data", (d: Buffer) => (err += d));
    child.on("exit", (code) => {
      const line = out.split("\n").find((l) => l.startsWith("done "));
      if (code === 0 && line) resolve(line.slice(5).trim().split(" "));
      else reject(new Error(`child exited ${code}: ${err || out}`));
    });
  });
}

describe("RedisPipelineStorage across processes", () => {
  it("reads what another process recorded and hears its transitions through a listener", async () => {
    // withAutoStorage picks Redis from a broker that has a Redis connection (with the default prefix),
    // so the prefix is set explicitly here.
    expect(new PipelineTrackingManager({ logger: silentLogger() }).withAutoStorage(new InMemoryBroker({ redis })).storage.kind).toBe(
      "redis",
    );
    const storage = new RedisPipelineStorage(redis, { keyPrefix: prefix, logger: silentLogger() });
    const tracking = new PipelineTrackingManager({ logger: silentLogger() }).withStorage(storage);
    const heard: PipelineStatus[] = [];
    // A change is a hint: the listener hears the run's latest state, so a COMPLETED may be heard twice.
    const completed = new Set<string>();
    tracking.addListener((s) => void heard.push(s));
    tracking.addListener({ onStatusUpdate: (s) => void (s.status === "COMPLETED" && completed.add(s.pipelineId)) });
    // The listener hears the child only once this process's change feed is subscribed.
    await vi.waitFor(async () => expect(await subscriberCount(redis, storage.keys.channel)).toBeGreaterThan(0), {
      timeout: 5000,
      interval: 20,
    });

    const ids = await runChild(3);
    expect(ids).toHaveLength(3);
    for (const id of ids) {
      const status = await tracking.getStatus(id);
      expect(status?.status).toBe("COMPLETED");
      expect(status?.steps.map((s) => [s.stepName, s.status, s.workerId])).toEqual([
        ["one", "COMPLETED", "child"],
        ["two", "COMPLETED", "child"],
      ]);
      expect(status?.result).toBe(2);
    }
    const deadline = Date.now() + 5000;
    while (completed.size < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect([...completed].sort()).toEqual(ids.slice().sort());
    for (const id of ids) {
      const mine = heard.filter((s) => s.pipelineId === id);
      expect(mine[0]?.status).toBe("RUNNING");
      expect(mine[mine.length - 1]?.status).toBe("COMPLETED");
    }
    expect((await tracking.listPage({ q: "remote-" })).items).toHaveLength(3);
    await tracking.close();
  });
});
