/** Usage examples of the library, run as written: quick start, choosing a storage, and a manager without one. */
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { InMemoryBroker, InMemoryPipelineStorage, Pipeline, PipelineTrackingManager, RedisPipelineStorage } from "../../lib";
import { TEST_REDIS_URL } from "../test-redis-url";
import { silentLogger } from "./helpers";

describe("quick start", () => {
  it("tracks a run and answers its status", async () => {
    const broker = new InMemoryBroker();
    const tracking = new PipelineTrackingManager({ logger: silentLogger() }).withAutoStorage(broker);
    const pipeline = new Pipeline(broker)
      .step("double", async (n: number) => n * 2)
      .step("describe", async (n) => `got ${n}`)
      .withTracking(tracking);

    const task = await pipeline.kiq(21);
    const result = await task.waitResult();

    const status = await tracking.getStatus(pipeline.pipelineId);
    expect(result.returnValue).toBe("got 42");
    expect(status?.status).toBe("COMPLETED");
    expect(status?.steps).toHaveLength(2);
    expect(typeof status?.durationMs).toBe("number");
    expect(status?.pipelineId).toBe(task.pipelineId);
  });
});

describe("initialization", () => {
  it("picks memory for a plain broker and Redis for a broker with a Redis connection", async () => {
    const broker = new InMemoryBroker();
    expect(new PipelineTrackingManager().withAutoStorage(broker).storage).toBeInstanceOf(InMemoryPipelineStorage);

    const redisClient = new Redis(TEST_REDIS_URL, { lazyConnect: true });
    try {
      const redisBroker = new InMemoryBroker({ redis: redisClient });
      const auto = new PipelineTrackingManager().withAutoStorage(redisBroker);
      expect(auto.storage).toBeInstanceOf(RedisPipelineStorage);
      expect(auto.storage.kind).toBe("redis");
      // Options 2 and 3: explicit storages.
      expect(new PipelineTrackingManager().withStorage(new InMemoryPipelineStorage()).storage.kind).toBe("memory");
      expect(new PipelineTrackingManager().withStorage(new RedisPipelineStorage(redisClient)).storage).toBeInstanceOf(RedisPipelineStorage);
    } finally {
      redisClient.disconnect();
    }
  });

  it("refuses something that is not a storage", () => {
    expect(() => new PipelineTrackingManager().withStorage({} as never)).toThrow(TypeError);
  });
});

describe("InMemoryPipelineStorage", () => {
  it("keeps data in this process only: a new storage starts empty", async () => {
    const broker = new InMemoryBroker();
    const storage = new InMemoryPipelineStorage();
    const tracking = new PipelineTrackingManager({ logger: silentLogger() }).withStorage(storage);
    const pipeline = new Pipeline(broker).step("x", () => "kept").withTracking(tracking);
    await (await pipeline.kiq()).waitResult();
    expect(storage.size).toBe(1);
    expect((await tracking.getStatus(pipeline.pipelineId))?.result).toBe("kept");
    // "On restart, all history is lost": another storage knows nothing of it.
    const restarted = new PipelineTrackingManager({ logger: silentLogger() }).withStorage(new InMemoryPipelineStorage());
    expect(await restarted.getStatus(pipeline.pipelineId)).toBeNull();
  });
});

describe("no tracking storage configured", () => {
  it("every manager method fails with the exact error before a storage is set", async () => {
    const tracking = new PipelineTrackingManager({ logger: silentLogger() });
    const message = "No tracking storage configured";
    const calls: [string, () => Promise<unknown>][] = [
      ["getStatus", () => tracking.getStatus("x")],
      ["listPipelines", () => tracking.listPipelines()],
      ["listPage", () => tracking.listPage()],
      ["countByStatus", () => tracking.countByStatus()],
      ["getHistory", () => tracking.getHistory({ limit: 10 })],
      ["cleanupOlderThan", () => tracking.cleanupOlderThan({ days: 30 })],
      ["deletePipeline", () => tracking.deletePipeline("x")],
      ["getMetrics", () => tracking.getMetrics({ days: 7 })],
      ["cancel", () => tracking.cancel("x")],
    ];
    for (const [name, call] of calls) {
      const error = await call().then(
        () => null,
        (e: unknown) => e,
      );
      expect(error, name).toBeInstanceOf(Error);
      expect((error as Error).message, name).toBe(message);
    }
    expect(() => tracking.addListener(() => undefined)).toThrow(new Error(message));
    expect(() => tracking.removeListener(() => undefined)).toThrow(new Error(message));
    expect(() => tracking.storage).toThrow(new Error(message));

    // A tracked pipeline cannot start either, and the failed kiq leaves nothing behind.
    const pipeline = new Pipeline(new InMemoryBroker()).step("x", () => 1).withTracking(tracking);
    await expect(pipeline.kiq(undefined, { pipelineId: "no-storage" })).rejects.toThrow(message);
    tracking.withStorage(new InMemoryPipelineStorage());
    const task = await pipeline.kiq(undefined, { pipelineId: "no-storage" });
    expect((await task.waitResult()).returnValue).toBe(1);
  });
});
