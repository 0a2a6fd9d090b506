/** Concurrent step writers on several connections, metrics equal to computeMetrics, bad data. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Redis } from "ioredis";
import { InMemoryBroker, Pipeline, PipelineTrackingManager, RedisPipelineStorage, computeMetrics, type PipelineStatus } from "../../lib";
import { expectMetricsMatch } from "../../lib/tracking/storage/contract";
import { makeStep } from "../../lib/tracking/storage/contract/helpers";
import { connect, deleteKeys, silentLogger, uniquePrefix } from "./helpers";

let redis: Redis;
const base = uniquePrefix("integrity");
const extra: Redis[] = [];

beforeAll(() => {
  redis = connect();
});
afterAll(async () => {
  await deleteKeys(redis, base);
  redis.disconnect();
  for (const r of extra) r.disconnect();
});

const step = makeStep;

describe("RedisPipelineStorage integrity", () => {
  it("keeps every step of one run written concurrently from several connections; finish is idempotent", async () => {
    const prefix = `${base}conc:`;
    const writers = Array.from({ length: 4 }, () => {
      const client = connect();
      extra.push(client);
      return new RedisPipelineStorage(client, { keyPrefix: prefix, logger: silentLogger() });
    });
    const names = Array.from({ length: 40 }, (_, i) => `s${i}`);
    const t = new Date();
    const run: PipelineStatus = {
      pipelineId: "conc-1",
      pipelineName: "conc",
      status: "RUNNING",
      pipelineType: "dataflow",
      startedAt: t,
      completedAt: null,
      durationMs: null,
      steps: names.map((n) => step(n)),
      result: null,
      error: null,
    };
    await writers[0]!.saveStatus(run);
    // Each step starts on one connection and finishes on another; some finishes are delivered twice.
    await Promise.all(
      names.flatMap((n, i) => {
        const running = step(n, { status: "RUNNING", startedAt: t, attempts: 1, workerId: `w${i % 4}` });
        const done = step(n, {
          status: i % 5 ? "COMPLETED" : "FAILED",
          startedAt: t,
          completedAt: t,
          durationMs: i + 1,
          result: { i },
          attempts: 1,
          workerId: `w${i % 4}`,
        });
        return [
          writers[i % 4]!.saveStep(run.pipelineId, running),
          writers[(i + 1) % 4]!.saveStep(run.pipelineId, done),
          writers[(i + 2) % 4]!.saveStep(run.pipelineId, done),
        ];
      }),
    );
    await Promise.all(writers.map((w) => w.flush()));
    const got = (await writers[3]!.getStatus(run.pipelineId))!;
    expect(got.steps.map((s) => s.stepName)).toEqual(names);
    expect(got.steps.map((s) => s.status)).toEqual(names.map((_, i) => (i % 5 ? "COMPLETED" : "FAILED")));
    expect(got.steps[7]!.result).toEqual({ i: 7 });
    const m = await writers[1]!.getMetrics({ days: 1, now: new Date(t.getTime() + 1) });
    expect(m.steps).toHaveLength(40);
    expect(m.steps.every((s) => s.count === 1)).toBe(true);
    expectMetricsMatch(m, computeMetrics([got], { days: 1, now: new Date(t.getTime() + 1) }));
    for (const w of writers) await w.close();
  });

  it("metrics from pipelines run through the tracking manager equal computeMetrics over the stored runs", async () => {
    const storage = new RedisPipelineStorage(redis, { keyPrefix: `${base}pipes:`, logger: silentLogger() });
    const tracking = new PipelineTrackingManager({ logger: silentLogger() }).withStorage(storage);
    const broker = new InMemoryBroker();
    const pipe = new Pipeline(broker, { name: "mixed" })
      .step("a", async (x: unknown) => x)
      .step("b", async (x) => {
        if ((x as number) % 4 === 0) throw new Error(`bad input ${x}\nstack`);
        await new Promise((r) => setTimeout(r, (x as number) % 7)); // steps of different lengths interleave the runs
        return x;
      })
      .step("c", (x) => x)
      .withTracking(tracking);
    const tasks = await Promise.all(Array.from({ length: 60 }, (_, i) => pipe.kiq(i)));
    await Promise.all(tasks.map((t) => t.waitResult({ timeoutMs: 10_000 })));
    const runs = (await storage.listPipelines()).filter((r) => r.pipelineName === "mixed");
    expect(runs).toHaveLength(60);
    const now = new Date();
    expectMetricsMatch(await storage.getMetrics({ days: 7, now }), computeMetrics(runs, { days: 7, now }));
    await tracking.close();
  });

  it("skips a corrupt or foreign record in lists and reports it as an error for that record", async () => {
    const storage = new RedisPipelineStorage(redis, { keyPrefix: `${base}bad:`, logger: silentLogger() });
    const t = Date.now() - 1000;
    const good = (id: string, ms: number): PipelineStatus => ({
      pipelineId: id,
      pipelineName: "bad",
      status: "COMPLETED",
      pipelineType: "sequential",
      startedAt: new Date(ms),
      completedAt: new Date(ms + 1),
      durationMs: 1,
      steps: [step("a", { status: "COMPLETED", durationMs: 1 })],
      result: null,
      error: null,
    });
    for (const [i, id] of ["ok-1", "corrupt", "foreign", "ok-2", "nosteps"].entries()) await storage.saveStatus(good(id, t + i));
    await redis.hset(storage.keys.run("corrupt"), "doc", "{not json");
    await redis.del(storage.keys.run("foreign"));
    await redis.set(storage.keys.run("foreign"), "someone else's string");
    await redis.hset(storage.keys.run("nosteps"), "names", '["a","zz"]');
    const listed = await storage.listPipelines();
    expect(listed.map((s) => s.pipelineId)).toEqual(["ok-2", "ok-1"]);
    const page = await storage.listPage({ limit: 2 });
    expect(page.items.map((s) => s.pipelineId)).toEqual(["nosteps", "ok-2"]);
    expect((await storage.listPage({ limit: 2, cursor: page.nextCursor })).items.map((s) => s.pipelineId)).toEqual(["ok-1"]);
    expect((await storage.getHistory()).map((s) => s.pipelineId)).toEqual(["ok-2", "ok-1"]);
    await expect(storage.getStatus("corrupt")).rejects.toThrow(/Corrupt pipeline record "corrupt"/);
    await expect(storage.getStatus("foreign")).rejects.toThrow(/Corrupt pipeline record "foreign"/);
    await expect(storage.getStatus("nosteps")).rejects.toThrow(/Corrupt/);
    expect(await storage.getStatus("ok-1")).not.toBeNull();
    // A write onto a foreign key fails for that write only (the caller hears about it).
    await expect(storage.saveStatus(good("foreign", t))).rejects.toThrow(/WRONGTYPE/);
    await storage.saveStatus(good("ok-3", t + 10));
    expect(await storage.getStatus("ok-3")).not.toBeNull();
    await storage.close();
  });
});
