/**
 * Redis dies and comes back mid-run (a server this test starts on its own port): the run keeps
 * going, its writes are buffered and flushed in order on reconnect, the final state is in Redis,
 * and nothing rejects unhandled.
 */
import { ownRedis } from "../own-redis";
import { afterAll, describe, expect, it, vi } from "vitest";
import { Redis } from "ioredis";
import { InMemoryBroker, Pipeline, PipelineTrackingManager, RedisPipelineStorage } from "../../lib";
import { silentLogger, sleep } from "./helpers";

const redisServer = await ownRedis(); // reserved; each test starts and kills it
const startServer = () => redisServer.start();
const stopServer = () => redisServer.kill();

afterAll(async () => {
  await stopServer();
});

describe("RedisPipelineStorage when Redis restarts", () => {
  it("keeps the run going, buffers, flushes in order after the reconnect", async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (err: unknown) => unhandled.push(err);
    process.on("unhandledRejection", onUnhandled);
    await startServer();
    const redis = new Redis(redisServer.port, "127.0.0.1", { retryStrategy: (times) => Math.min(times * 50, 300) });
    redis.on("error", () => undefined);
    const storage = new RedisPipelineStorage(redis, { keyPrefix: "pwtest:rp2:restart:", logger: silentLogger() });
    const tracking = new PipelineTrackingManager({ logger: silentLogger() }).withStorage(storage);
    const stepNames = Array.from({ length: 10 }, (_, i) => `s${i}`);
    let pipe = new Pipeline(new InMemoryBroker({ redis }), { name: "survivor" });
    for (const name of stepNames)
      pipe = pipe.step(name, async (x: unknown) => {
        await sleep(60); // each step takes a while, so Redis can die mid-run
        return (x as number) + 1;
      });
    pipe.withTracking(tracking);

    const task = await pipe.kiq(0, { pipelineId: "survivor-1" });
    expect((await storage.getStatus("survivor-1"))?.status).toBe("RUNNING");
    // Mid-run: a step has completed (and is in Redis), more are to come.
    await vi.waitFor(async () => expect((await storage.getStatus("survivor-1"))?.steps.some((s) => s.status === "COMPLETED")).toBe(true), {
      timeout: 5000,
      interval: 20,
    });
    await stopServer();
    // While Redis is down a new run starts at once (kiq never waits on a dead Redis).
    const t0 = Date.now();
    const second = await pipe.kiq(100, { pipelineId: "survivor-2" });
    expect(Date.now() - t0).toBeLessThan(1500);
    await sleep(250); // on purpose: Redis stays down while steps finish, so their writes are buffered
    await startServer();

    const [r1, r2] = await Promise.all([task.waitResult({ timeoutMs: 15_000 }), second.waitResult({ timeoutMs: 15_000 })]);
    expect(r1).toMatchObject({ isErr: false, returnValue: 10 });
    expect(r2).toMatchObject({ isErr: false, returnValue: 110 });
    expect(await storage.flush(10_000)).toBe(true);
    for (const id of ["survivor-1", "survivor-2"]) {
      const status = await storage.getStatus(id);
      expect(status?.status, id).toBe("COMPLETED");
      expect(status?.steps.map((s) => s.status)).toEqual(stepNames.map(() => "COMPLETED"));
    }
    expect((await storage.listPage({ q: "survivor" })).items).toHaveLength(2);
    expect((await storage.getMetrics({ days: 1 })).completed).toBe(2);
    await tracking.close();
    redis.disconnect();
    await sleep(50); // on purpose: a rejection from the disconnect would surface a moment later
    process.off("unhandledRejection", onUnhandled);
    expect(unhandled).toEqual([]);
  });
});
