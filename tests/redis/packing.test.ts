/**
 * Writes travel to the scripts packed (fields split by control characters, names as JSON string
 * literals; storage/redis/records.ts): names, results and errors holding those very characters, quotes,
 * backslashes, NUL, "|" and non-ASCII capitals must round-trip, index and roll up exactly; merged
 * writes must fail one by one.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Redis } from "ioredis";
import { RedisPipelineStorage, computeMetrics, type PipelineStatus, type StepStatus } from "../../lib";
import { expectMetricsMatch } from "../../lib/tracking/storage/contract";
import { Redis as RedisClient } from "ioredis";
import { connect, deleteKeys, silentLogger, uniquePrefix } from "./helpers";
import { makeStep } from "../../lib/tracking/storage/contract/helpers";

let redis: Redis;
const base = uniquePrefix("packing");

beforeAll(() => {
  redis = connect();
});
afterAll(async () => {
  await deleteKeys(redis, base);
  redis.disconnect();
});

const NASTY = ["a|b", '"q"', "back\\slash", "sep\x1f\x1e\x1d", "nul\0x", "Ünï ÇödÉ", "tab\tnew\nline", "plain"];
const PIPELINE_NAME = 'ÉTL "Nightly" \\ |x\x1fy\x1ez\x1d\0';

const step = makeStep;

function run(id: string, startedAt: Date): PipelineStatus {
  return {
    pipelineId: id,
    pipelineName: PIPELINE_NAME,
    status: "RUNNING",
    pipelineType: "dataflow",
    startedAt,
    completedAt: null,
    durationMs: null,
    steps: NASTY.map((n, i) => step(n, { dependsOn: i ? [NASTY[i - 1]!] : [] })),
    result: null,
    error: null,
  };
}

describe("RedisPipelineStorage packed writes", () => {
  it("round-trips, indexes and rolls up names, results and errors holding separators, quotes and NUL", async () => {
    const storage = new RedisPipelineStorage(redis, { keyPrefix: `${base}nasty:`, logger: silentLogger() });
    const t = new Date(Date.now() - 60_000);
    const finals: PipelineStatus[] = [];
    for (const [r, id] of ["nasty-1", "nasty-2"].entries()) {
      const status = run(id, new Date(t.getTime() + r));
      await storage.saveStatus(status);
      const steps = status.steps.map((s, i) => {
        const done = new Date(t.getTime() + 10 * (i + 1));
        const failed = r === 1 && i === 3;
        return {
          ...s,
          status: failed ? "FAILED" : "COMPLETED",
          startedAt: t,
          completedAt: done,
          durationMs: 10 * (i + 1) + 0.125 * r,
          result: failed ? null : { text: `${NASTY[i]}`, n: i },
          error: failed ? `boom "${NASTY[i]}" \\ \x1f\nsecond line` : null,
          attempts: 1,
          workerId: `w\x1f${i}`,
        } satisfies StepStatus;
      });
      // Issued together, so the queue merges them into one call (with an undeclared step appended).
      await Promise.all([
        ...steps.map((s) =>
          storage.saveStep(id, { ...s, status: "RUNNING", completedAt: null, durationMs: null, result: null, error: null }),
        ),
        ...steps.map((s) => storage.saveStep(id, s)),
        storage.saveStep(id, step('late\x1e"step"', { status: "COMPLETED", startedAt: t, completedAt: t, durationMs: 1, attempts: 1 })),
      ]);
      const final: PipelineStatus = {
        ...status,
        status: r === 1 ? "FAILED" : "COMPLETED",
        completedAt: new Date(t.getTime() + 500),
        durationMs: 500,
        steps: [...steps, step('late\x1e"step"', { status: "COMPLETED", startedAt: t, completedAt: t, durationMs: 1, attempts: 1 })],
        result: r === 1 ? null : { out: PIPELINE_NAME },
        error: r === 1 ? `Timeout "db" \\ \x1d\nstack` : null,
      };
      await storage.saveStatus(final);
      finals.push(final);
    }
    for (const final of finals) expect(await storage.getStatus(final.pipelineId)).toEqual(final);
    // Name search is case-insensitive beyond ASCII (the lowercase member is built in JS).
    expect((await storage.listPage({ q: 'étl "night' })).items.map((s) => s.pipelineId).sort()).toEqual(["nasty-1", "nasty-2"]);
    expect((await storage.listPage({ q: "ÉTL" })).items).toHaveLength(2);
    expect((await storage.listPipelines({ status: "FAILED" })).map((s) => s.pipelineId)).toEqual(["nasty-2"]);
    const now = new Date();
    const metrics = await storage.getMetrics({ days: 1, now });
    expectMetricsMatch(metrics, computeMetrics(finals, { days: 1, now }));
    expect(Object.keys(metrics.failureReasons)).toEqual(['Timeout "db" \\ \x1d']);
    // Re-saving the final states changes nothing (unchanged steps are not rewritten, rollups not moved).
    for (const final of finals) await storage.saveStatus(final);
    expect(await storage.getMetrics({ days: 1, now })).toEqual(metrics);
    for (const final of finals) expect(await storage.getStatus(final.pipelineId)).toEqual(final);
    await storage.close();
  });

  it("fails a merged write alone: a foreign key under one run's name rejects that save, not its neighbours", async () => {
    const storage = new RedisPipelineStorage(redis, { keyPrefix: `${base}merged:`, logger: silentLogger() });
    const t = new Date();
    await redis.set(storage.keys.run("foreign"), "not a hash");
    const saves = ["before", "foreign", "after"].map((id) => storage.saveStatus({ ...run(id, t), pipelineName: "merged" }));
    const steps = ["before", "foreign", "after"].map((id) => storage.saveStep(id, step(NASTY[0]!, { status: "RUNNING", startedAt: t })));
    const settled = await Promise.allSettled([...saves, ...steps]);
    expect(settled.map((s) => s.status)).toEqual(["fulfilled", "rejected", "fulfilled", "fulfilled", "fulfilled", "fulfilled"]);
    expect(String((settled[1] as PromiseRejectedResult).reason)).toMatch(/WRONGTYPE/);
    expect((await storage.getStatus("before"))?.steps[0]?.status).toBe("RUNNING");
    expect((await storage.getStatus("after"))?.steps[0]?.status).toBe("RUNNING");
    expect(await redis.get(storage.keys.run("foreign"))).toBe("not a hash");
    await storage.close();
  });

  it("keeps every key in one Cluster slot with a hash-tagged prefix, and refuses a Cluster client without one", async () => {
    const tag = `{${base}tagged}`;
    const storage = new RedisPipelineStorage(redis, { keyPrefix: `${tag}:`, logger: silentLogger(), ttlSeconds: 3600 });
    const t = new Date();
    const status = run("tagged-1", t);
    await storage.saveStatus(status);
    await storage.saveStep("tagged-1", step(NASTY[0]!, { status: "COMPLETED", startedAt: t, completedAt: t, durationMs: 2 }));
    await storage.saveStatus({ ...status, status: "FAILED", completedAt: t, durationMs: 3, error: "x" });
    expect((await storage.listPage({ q: "étl" })).items.map((s) => s.pipelineId)).toEqual(["tagged-1"]);
    expect((await storage.getMetrics({ days: 1 })).failed).toBe(1);
    const keys: string[] = [];
    let cursor = "0";
    do {
      const [next, found] = await redis.scan(cursor, "MATCH", `${tag.replace(/[{}]/g, "\\$&")}*`, "COUNT", 1000);
      cursor = next;
      keys.push(...found);
    } while (cursor !== "0");
    expect(keys.length).toBeGreaterThanOrEqual(9); // run, 4 indexes, 2 lex, expiry, 3 rollups
    // Redis Cluster hashes the first {...} of a key: the prefix's tag for every key.
    for (const key of keys) expect(/\{([^}]+)\}/.exec(key)?.[1], key).toBe(tag.slice(1, -1));
    await storage.close();
    await deleteKeys(redis, tag.replace(/[{}]/g, "\\$&"));

    const cluster = new RedisClient({ lazyConnect: true });
    Object.defineProperty(cluster, "isCluster", { value: true });
    expect(() => new RedisPipelineStorage(cluster, { keyPrefix: "pipewatch:" })).toThrow(/hash tag/);
    expect(() => new RedisPipelineStorage(cluster, { keyPrefix: `${tag}:` })).not.toThrow();
    cluster.disconnect();
  });

  it("saves and finishes a run of 3 000 steps (script arguments and hash writes go in slices)", async () => {
    const storage = new RedisPipelineStorage(redis, { keyPrefix: `${base}big:`, logger: silentLogger() });
    const t = new Date();
    const names = Array.from({ length: 3000 }, (_, i) => `s${i}`);
    const status: PipelineStatus = { ...run("big-1", t), steps: names.map((n) => step(n)) };
    await storage.saveStatus(status);
    const final: PipelineStatus = {
      ...status,
      status: "COMPLETED",
      completedAt: t,
      durationMs: 5,
      steps: names.map((n, i) => step(n, { status: "COMPLETED", startedAt: t, completedAt: t, durationMs: i % 7, attempts: 1 })),
    };
    await storage.saveStatus(final);
    expect(await storage.getStatus("big-1")).toEqual(final);
    expect((await storage.getMetrics({ days: 1 })).steps).toHaveLength(3000);
    await storage.close();
  });
});
