/** TTL expiry and cleanupOlderThan leave no orphan index entries; rollups outlive both. */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { Redis } from "ioredis";
import { RedisPipelineStorage, type PipelineStatus, type Status } from "../../lib";
import { connect, deleteKeys, silentLogger, sleep, uniquePrefix } from "./helpers";

let redis: Redis;
const base = uniquePrefix("retention");

beforeAll(() => {
  redis = connect();
});
afterAll(async () => {
  await deleteKeys(redis, base);
  redis.disconnect();
});

function run(id: string, status: Status, startedAt: Date, name = "ret"): PipelineStatus {
  const finished = status === "COMPLETED" || status === "FAILED" || status === "CANCELLED";
  return {
    pipelineId: id,
    pipelineName: name,
    status,
    pipelineType: "sequential",
    startedAt,
    completedAt: finished ? new Date(startedAt.getTime() + 10) : null,
    durationMs: finished ? 10 : null,
    steps: [
      {
        stepName: "a",
        status: finished ? "COMPLETED" : "RUNNING",
        startedAt,
        completedAt: finished ? startedAt : null,
        durationMs: finished ? 10 : null,
        result: null,
        error: null,
        dependsOn: [],
        attempts: 1,
        workerId: null,
      },
    ],
    result: null,
    error: status === "FAILED" ? "boom" : null,
  };
}

/** Every member of every index names a record that exists. */
async function orphans(storage: RedisPipelineStorage, withNames = true): Promise<string[]> {
  const k = storage.keys;
  const indexes = [k.allIndex, ...["PENDING", "RUNNING", "COMPLETED", "FAILED", "CANCELLED"].map((s) => k.statusIndex(s))];
  if (withNames) indexes.push(k.nameIndex("ret"));
  const out: string[] = [];
  for (const index of indexes) {
    for (const id of await redis.zrange(index, "0", "-1")) if (!(await redis.exists(k.run(id)))) out.push(`${index} ${id}`);
  }
  for (const m of await redis.zrange(k.idLex, "0", "-1")) {
    const id = m.slice(m.indexOf("\0") + 1);
    if (!(await redis.exists(k.run(id)))) out.push(`lex ${id}`);
  }
  return out;
}

describe("RedisPipelineStorage retention", () => {
  it("expires finished runs after ttlSeconds, with their index entries; running ones stay; rollups stay", async () => {
    const storage = new RedisPipelineStorage(redis, { keyPrefix: `${base}ttl:`, ttlSeconds: 1, logger: silentLogger() });
    const now = new Date();
    const done = Array.from({ length: 30 }, (_, i) => run(`done-${i}`, i % 3 ? "COMPLETED" : "FAILED", new Date(now.getTime() - 1000 + i)));
    const live = [run("live-1", "RUNNING", new Date(now.getTime() - 5000)), run("live-2", "PENDING", new Date(now.getTime() - 6000))];
    await Promise.all([...done, ...live].map((r) => storage.saveStatus(r)));
    expect((await storage.listPage({ limit: 10 })).items).toHaveLength(10);
    expect(await redis.pttl(storage.keys.run("done-0"))).toBeGreaterThan(0);
    expect(await redis.pttl(storage.keys.run("live-1"))).toBe(-1);

    await sleep(1300); // a sleep on purpose: ttlSeconds is 1, the expiry itself is under test
    expect((await storage.listPage({ limit: 5 })).items.map((s) => s.pipelineId)).toEqual(["live-1", "live-2"]);
    expect((await storage.listPage({ q: "done" })).items).toEqual([]);
    expect((await storage.listPage({ q: "RET" })).items.map((s) => s.pipelineId)).toEqual(["live-1", "live-2"]);
    expect(await storage.countByStatus()).toEqual({ PENDING: 1, RUNNING: 1, COMPLETED: 0, FAILED: 0, CANCELLED: 0 });
    expect(await storage.getStatus("done-3")).toBeNull();
    expect(await orphans(storage)).toEqual([]);
    expect(await redis.zcard(storage.keys.expiryIndex)).toBe(0);
    // Rollups outlive the records: history charts do not change when runs expire.
    const m = await storage.getMetrics({ days: 1, now });
    expect(m.totalPipelines).toBe(32);
    expect(m.failed).toBe(10);
    await storage.close();
  });

  it("pages still fill up when expired records are not reaped yet", async () => {
    const storage = new RedisPipelineStorage(redis, { keyPrefix: `${base}fill:`, logger: silentLogger() });
    const t = Date.now() - 100_000;
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => storage.saveStatus(run(`r${String(i).padStart(2, "0")}`, "COMPLETED", new Date(t + i)))),
    );
    // Records vanish behind the storage's back (as if expired with no expiry entry).
    await redis.del(...["r19", "r18", "r15", "r10"].map((id) => storage.keys.run(id)));
    const page = await storage.listPage({ limit: 5 });
    expect(page.items.map((s) => s.pipelineId)).toEqual(["r17", "r16", "r14", "r13", "r12"]);
    const next = await storage.listPage({ limit: 5, cursor: page.nextCursor });
    expect(next.items.map((s) => s.pipelineId)).toEqual(["r11", "r09", "r08", "r07", "r06"]);
    expect((await storage.listPipelines({ limit: 3 })).map((s) => s.pipelineId)).toEqual(["r17", "r16", "r14"]);
    // Dropped lazily from the id and status indexes (a name index entry of a record deleted behind
    // the storage's back stays until a name search skips it; expiry, delete and cleanup remove it).
    await vi.waitFor(async () => expect(await orphans(storage, false)).toEqual([]), { timeout: 5000, interval: 20 });
    await storage.close();
  });

  it("cleanupOlderThan removes records and index entries together, in batches, never running ones", async () => {
    const storage = new RedisPipelineStorage(redis, { keyPrefix: `${base}clean:`, logger: silentLogger() });
    const old = Date.now() - 40 * 86_400_000;
    const runs = Array.from({ length: 1200 }, (_, i) => run(`old-${i}`, i % 100 === 0 ? "RUNNING" : "COMPLETED", new Date(old + i)));
    runs.push(run("fresh", "COMPLETED", new Date()));
    await Promise.all(runs.map((r) => storage.saveStatus(r)));
    const now = new Date();
    const before = await storage.getMetrics({ days: 60, now });
    expect(before.totalPipelines).toBe(1201);
    expect(await storage.cleanupOlderThan(new Date(Date.now() - 30 * 86_400_000))).toBe(1188);
    expect(await orphans(storage)).toEqual([]);
    expect(await storage.countByStatus()).toEqual({ PENDING: 0, RUNNING: 12, COMPLETED: 1, FAILED: 0, CANCELLED: 0 });
    expect((await storage.listPipelines()).length).toBe(13);
    expect(await storage.getMetrics({ days: 60, now })).toEqual(before);
    await storage.close();
  });
});
