/**
 * The script-backed reads (lua/list-page.lua, count-by-status.lua, rollup-days.lua): a page in one call that skips records it cannot
 * carry, counts that reap every due expiry entry, and getMetrics reusing parsed days only while their
 * "~v" stands, also when another process writes or a day's rollups vanish and come back.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Redis } from "ioredis";
import { RedisPipelineStorage, computeMetrics, type PipelineStatus, type Status } from "../../lib";
import { expectMetricsMatch } from "../../lib/tracking/storage/contract";
import { connect, deleteKeys, silentLogger, sleep, uniquePrefix } from "./helpers";

let redis: Redis;
const base = uniquePrefix("reads");
const DAY_MS = 86_400_000;

beforeAll(() => {
  redis = connect();
});
afterAll(async () => {
  await deleteKeys(redis, base);
  redis.disconnect();
});

function run(id: string, status: Status, startedAt: Date, stepMs = 10): PipelineStatus {
  const finished = status !== "RUNNING" && status !== "PENDING";
  return {
    pipelineId: id,
    pipelineName: "reads",
    status,
    pipelineType: "sequential",
    startedAt,
    completedAt: finished ? new Date(startedAt.getTime() + 50) : null,
    durationMs: finished ? 50 : null,
    steps: [
      {
        stepName: "only",
        status: finished ? (status === "FAILED" ? "FAILED" : "COMPLETED") : "RUNNING",
        startedAt,
        completedAt: finished ? startedAt : null,
        durationMs: finished ? stepMs : null,
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

function logCollector() {
  const errors: string[] = [];
  const logger = silentLogger();
  logger.error = ((obj: { pipelineId?: string }) => void errors.push(obj.pipelineId ?? "?")) as typeof logger.error;
  return { logger, errors };
}

describe("RedisPipelineStorage script reads", () => {
  it("a page skips (and logs) a record holding the packing's control characters and still fills up", async () => {
    const { logger, errors } = logCollector();
    const storage = new RedisPipelineStorage(redis, { keyPrefix: `${base}ctl:`, logger });
    const t = Date.now() - 10_000;
    await Promise.all(Array.from({ length: 8 }, (_, i) => storage.saveStatus(run(`c${i}`, "COMPLETED", new Date(t + i)))));
    await redis.hset(storage.keys.run("c6"), "doc", '{"x":"\x1e\x1f"}');
    await redis.hset(storage.keys.run("c4"), "ss", "\x15");
    const page = await storage.listPage({ limit: 3, status: "COMPLETED" });
    expect(page.items.map((s) => s.pipelineId)).toEqual(["c7", "c5", "c3"]);
    const next = await storage.listPage({ limit: 3, status: "COMPLETED", cursor: page.nextCursor });
    expect(next.items.map((s) => s.pipelineId)).toEqual(["c2", "c1", "c0"]);
    expect(next.nextCursor).toBeNull();
    expect(errors.sort()).toEqual(["c4", "c6"]);
    await storage.close();
  });

  it("resumes after a cursor whose run was deleted or moved, among runs with the same start time", async () => {
    const storage = new RedisPipelineStorage(redis, { keyPrefix: `${base}ties:`, logger: silentLogger() });
    const at = new Date(Date.now() - 10_000);
    // 12 runs, 4 per start time: ties are ordered by id, newest first.
    const ids = Array.from({ length: 12 }, (_, i) => `t-${String.fromCharCode(97 + (i % 4))}${Math.floor(i / 4)}`);
    await Promise.all(ids.map((id) => storage.saveStatus(run(id, "FAILED", new Date(at.getTime() + Number(id.slice(-1)))))));
    const order = (await storage.listPipelines()).map((r) => r.pipelineId);
    expect(order.slice(0, 5)).toEqual(["t-d2", "t-c2", "t-b2", "t-a2", "t-d1"]);
    for (const [limit, removeAt] of [
      [2, 1],
      [5, 4],
      [3, 2],
    ] as const) {
      const page = await storage.listPage({ limit, status: "FAILED" });
      expect(page.items.map((s) => s.pipelineId)).toEqual(order.slice(0, limit));
      const cursorRun = order[removeAt]!;
      expect(await storage.deletePipeline(cursorRun)).toBe(true);
      const rest: string[] = [];
      for (let cursor = page.nextCursor; cursor;) {
        const next = await storage.listPage({ limit: 4, status: "FAILED", cursor });
        rest.push(...next.items.map((s) => s.pipelineId));
        cursor = next.nextCursor;
      }
      expect(rest).toEqual(order.slice(limit));
      await storage.saveStatus(run(cursorRun, "FAILED", new Date(at.getTime() + Number(cursorRun.slice(-1)))));
      expect((await storage.listPipelines()).map((r) => r.pipelineId)).toEqual(order);
    }
    // A cursor whose run moved to another start time: the page goes on from the cursor's position.
    const page = await storage.listPage({ limit: 6 });
    const moved = order[5]!;
    await storage.saveStatus(run(moved, "FAILED", new Date(at.getTime() - 60_000)));
    const next = await storage.listPage({ limit: 100, cursor: page.nextCursor });
    expect(next.items.map((s) => s.pipelineId)).toEqual([...order.slice(6), moved]);
    await storage.close();
  });

  it("counts asked with a page ride on its script call, and still see this process's writes issued before them", async () => {
    const client = connect();
    const storage = new RedisPipelineStorage(client, { keyPrefix: `${base}ride:`, logger: silentLogger() });
    const t = Date.now() - 10_000;
    await Promise.all(
      Array.from({ length: 6 }, (_, i) => storage.saveStatus(run(`r${i}`, i % 3 ? "COMPLETED" : "FAILED", new Date(t + i)))),
    );
    const methods = client as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
    const name = Object.keys(methods).find((k) => k.startsWith("pipewatch_countByStatus_"))!;
    const original = methods[name]!;
    let ownCalls = 0;
    methods[name] = (...args: unknown[]) => (ownCalls++, original.apply(client, args));

    const [page, counts] = await Promise.all([storage.listPage({ limit: 2, status: "FAILED" }), storage.countByStatus()]);
    expect(page.items.map((s) => s.pipelineId)).toEqual(["r3", "r0"]);
    expect(counts).toEqual({ PENDING: 0, RUNNING: 0, COMPLETED: 4, FAILED: 2, CANCELLED: 0 });
    expect(ownCalls).toBe(0);
    expect(await storage.countByStatus()).toEqual(counts);
    expect(ownCalls).toBe(1);
    // A write issued after the page but before the counts: the counts must see it.
    const listed = storage.listPage({ limit: 1 });
    const saved = storage.saveStatus(run("late", "RUNNING", new Date(t + 100)));
    const [, after] = await Promise.all([listed, storage.countByStatus(), saved]);
    expect(after.RUNNING).toBe(1);
    // While a write issued before the counts is not done, no page call may answer them.
    const lists = (storage as unknown as { lists: { writes: unknown } }).lists;
    const writes = lists.writes;
    lists.writes = { issued: Number.MAX_SAFE_INTEGER, doneUpTo: () => 0 };
    ownCalls = 0;
    await Promise.all([storage.listPage({ limit: 1 }), storage.countByStatus()]);
    expect(ownCalls).toBe(1);
    lists.writes = writes;
    // Counts first, page second: each its own call, same answers.
    const [first, second] = await Promise.all([storage.countByStatus(), storage.listPage({ limit: 1 })]);
    expect(first).toEqual({ ...counts, RUNNING: 1 });
    expect(second.items.map((s) => s.pipelineId)).toEqual(["late"]);
    await storage.close();
    client.disconnect();
  });

  it("counts and pages drop every expired run, also more than one reap batch of them", async () => {
    const storage = new RedisPipelineStorage(redis, { keyPrefix: `${base}many:`, ttlSeconds: 1, logger: silentLogger() });
    const t = Date.now() - 60_000;
    const runs = Array.from({ length: 1300 }, (_, i) =>
      run(`e${String(i).padStart(4, "0")}`, i % 2 ? "COMPLETED" : "FAILED", new Date(t + i)),
    );
    runs.push(run("stay", "RUNNING", new Date(t - 1)));
    await Promise.all(runs.map((r) => storage.saveStatus(r)));
    expect(await storage.countByStatus()).toEqual({ PENDING: 0, RUNNING: 1, COMPLETED: 650, FAILED: 650, CANCELLED: 0 });
    await sleep(1200); // a sleep on purpose: ttlSeconds is 1, the expiry itself is under test
    const [page, counts] = await Promise.all([storage.listPage({ limit: 5 }), storage.countByStatus()]);
    expect(page.items.map((s) => s.pipelineId)).toEqual(["stay"]);
    expect(counts).toEqual({ PENDING: 0, RUNNING: 1, COMPLETED: 0, FAILED: 0, CANCELLED: 0 });
    expect(await redis.zcard(storage.keys.allIndex)).toBe(1);
    expect(await redis.zcard(storage.keys.expiryIndex)).toBe(0);
    await storage.close();
  });

  it("getMetrics follows writes from another process, deletes and rollups that vanish, on days it already read", async () => {
    const prefix = `${base}cache:`;
    const reader = new RedisPipelineStorage(redis, { keyPrefix: prefix, logger: silentLogger() });
    const other = connect();
    const writer = new RedisPipelineStorage(other, { keyPrefix: prefix, logger: silentLogger() });
    const now = new Date();
    const stored: PipelineStatus[] = [];
    const save = async (storage: RedisPipelineStorage, r: PipelineStatus) => {
      await storage.saveStatus(r);
      await storage.flush();
      stored.push(r);
    };
    const check = async () => {
      for (const days of [1, 7]) expectMetricsMatch(await reader.getMetrics({ days, now }), computeMetrics(stored, { days, now }));
    };
    for (let d = 0; d < 5; d++)
      await save(reader, run(`m${d}`, d % 2 ? "FAILED" : "COMPLETED", new Date(now.getTime() - d * DAY_MS - 1000), 10 + d));
    await check();
    // Another process adds to a past day the reader has parsed already; then a step-only change.
    await save(writer, run("w1", "FAILED", new Date(now.getTime() - 3 * DAY_MS - 5000), 99));
    await check();
    const w2 = run("w2", "RUNNING", new Date(now.getTime() - 2 * DAY_MS - 5000));
    await save(writer, w2);
    await check();
    const step = { ...w2.steps[0]!, status: "COMPLETED" as const, completedAt: now, durationMs: 1234 };
    await writer.saveStep("w2", step);
    await writer.flush();
    stored[stored.indexOf(w2)] = { ...w2, steps: [step] };
    await check();
    // A delete takes a run back out of its (cached) day.
    expect(await writer.deletePipeline("m3")).toBe(true);
    stored.splice(
      stored.findIndex((r) => r.pipelineId === "m3"),
      1,
    );
    await check();
    // A day's rollups expire and the day is written again: its new "~v" never equals the old one.
    const day = new Date(now.getTime() - 4 * DAY_MS).toISOString().slice(0, 10);
    const dayKeys = [reader.keys.metricsDay(day), reader.keys.metricsReasons(day), reader.keys.metricsSteps(day)];
    await redis.del(...dayKeys);
    stored.splice(
      stored.findIndex((r) => r.pipelineId === "m4"),
      1,
    );
    await check();
    await save(writer, run("back", "COMPLETED", new Date(now.getTime() - 4 * DAY_MS - 1000), 7));
    await check();
    // Rollups written without "~v" (by an older version) are read every time, never kept.
    await redis.hdel(reader.keys.metricsDay(day), "~v");
    await check();
    await redis.hincrby(reader.keys.metricsDay(day), "t", 1);
    expect((await reader.getMetrics({ days: 7, now })).totalPipelines).toBe(computeMetrics(stored, { days: 7, now }).totalPipelines + 1);
    await writer.close();
    other.disconnect();
    await reader.close();
  });
});
