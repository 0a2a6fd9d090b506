/**
 * Leases on a real Redis: a worker process shut down by SIGTERM leaves nothing RUNNING, and sweepers
 * racing each other and the runs' own late ends end every run exactly once.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Redis } from "ioredis";
import { RedisPipelineStorage, type PipelineStatus } from "../../lib";
import { connect, deleteKeys, silentLogger, uniquePrefix } from "./helpers";
import { exited, startLeaseWorker } from "./lease-worker-process";

const base = uniquePrefix("leases");
let redis: Redis;

beforeAll(() => {
  redis = connect();
});
afterAll(async () => {
  await deleteKeys(redis, base);
  redis.disconnect();
});

function runningRun(id: string, startedAt: Date): PipelineStatus {
  const step = {
    startedAt,
    completedAt: null,
    durationMs: null,
    result: null,
    error: null,
    dependsOn: [],
    attempts: 1,
    workerId: "dead:1",
  };
  return {
    pipelineId: id,
    pipelineName: "race",
    status: "RUNNING",
    pipelineType: "sequential",
    startedAt,
    completedAt: null,
    durationMs: null,
    result: null,
    error: null,
    steps: [
      { stepName: "a", status: "RUNNING", ...step },
      { stepName: "b", status: "PENDING", ...step, startedAt: null, attempts: 0, workerId: null },
    ],
  };
}

describe("leases on Redis", () => {
  it("SIGTERM: the worker's shutdown completes the short run, cancels the long one 'worker shut down', leaves none RUNNING and exits", async () => {
    const prefix = `${base}term:`;
    const { child, started } = startLeaseWorker(prefix, "sigterm", 3000);
    const [shortId, longId] = await started;
    child.kill("SIGTERM");
    expect(await exited(child)).toBe(0);
    const storage = new RedisPipelineStorage(redis, { keyPrefix: prefix, logger: silentLogger() });
    const short = (await storage.getStatus(shortId!))!;
    const long = (await storage.getStatus(longId!))!;
    expect(short.status).toBe("COMPLETED");
    expect(long.status).toBe("CANCELLED");
    expect(long.error).toBe("worker shut down");
    expect((await storage.countByStatus()).RUNNING).toBe(0);
    // A run that ended normally gave its lease back.
    expect(await redis.zcard(`${prefix}leases`)).toBe(0);
    await storage.close();
  }, 30_000);

  it("two sweepers and a late finish race over 1 000 expired runs: each run ends exactly once", async () => {
    const prefix = `${base}race:`;
    const writerClient = connect();
    const [clientA, clientB, listener] = [connect(), connect(), connect()];
    const writer = new RedisPipelineStorage(writerClient, { keyPrefix: prefix, logger: silentLogger() });
    const sweeperA = new RedisPipelineStorage(clientA, { keyPrefix: prefix, logger: silentLogger() });
    const sweeperB = new RedisPipelineStorage(clientB, { keyPrefix: prefix, logger: silentLogger() });
    const startedAt = new Date(Date.now() - 60_000);
    const ids = Array.from({ length: 1000 }, (_, i) => `race-${i}`);
    await Promise.all(ids.map((id) => writer.saveStatus(runningRun(id, startedAt))));
    await writer.renewLeases(ids, 1, "dead:1");
    await writer.flush();
    // Await the leases' expiry by Redis's own clock (1 ms long: a few polls at most).
    for (;;) {
      const [sec, usec] = await redis.time();
      if ((await redis.zcount(`${prefix}leases`, "-inf", Number(sec) * 1000 + Math.floor(Number(usec) / 1000))) === ids.length) break;
    }
    // Every announced change, counted per run (the start was announced before this subscription).
    const announced = new Map<string, number>();
    await listener.subscribe(`${prefix}changes`);
    listener.on("message", (_channel: string, message: string) => {
      for (const line of message.split("\n").slice(1)) {
        const id = line.split("|")[4]!;
        announced.set(id, (announced.get(id) ?? 0) + 1);
      }
    });

    const lateFinish = (id: string) =>
      writer.finishStatus({
        ...runningRun(id, startedAt),
        status: "COMPLETED",
        completedAt: new Date(),
        durationMs: 60_000,
        steps: runningRun(id, startedAt).steps.map((s) => ({ ...s, status: "COMPLETED" as const, completedAt: new Date(), durationMs: 5 })),
      });
    const [sweptA, sweptB, finishes] = await Promise.all([
      sweeperA.sweepExpiredLeases(),
      sweeperB.sweepExpiredLeases(),
      Promise.all(ids.map((id) => lateFinish(id))),
    ]);
    const failed = [...sweptA, ...sweptB].map((e) => e.status.pipelineId);
    const completed = ids.filter((_, i) => finishes[i]!.applied);
    expect(new Set(failed).size).toBe(failed.length);
    expect([...failed, ...completed].sort()).toEqual(ids.slice().sort());
    const counts = await writer.countByStatus();
    expect(counts).toEqual({ PENDING: 0, RUNNING: 0, COMPLETED: completed.length, FAILED: failed.length, CANCELLED: 0 });
    for (const e of [...sweptA, ...sweptB]) expect(e.status.error).toBe("worker lost: dead:1 (lease expired)");
    // Exactly one announced end per run.
    for (;;) {
      if ([...announced.values()].reduce((a, b) => a + b, 0) >= ids.length) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(announced.size).toBe(ids.length);
    expect([...announced.values()].every((n) => n === 1)).toBe(true);
    expect(await redis.zcard(`${prefix}leases`)).toBe(0);
    expect(await sweeperA.sweepExpiredLeases()).toEqual([]);
    for (const s of [writer, sweeperA, sweeperB]) await s.close();
    for (const c of [writerClient, clientA, clientB, listener]) c.disconnect();
  }, 60_000);
});
