/**
 * Reads while Redis is down fail fast with StorageUnavailableError (a server maps it to 503)
 * instead of waiting in ioredis' offline queue, and work again once Redis is back. This test starts
 * its own redis-server (on a port from the OS) and kills it.
 */
import { freePort } from "../free-port";
import { ownRedis } from "../own-redis";
import { afterAll, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import { PipelineTrackingManager, RedisPipelineStorage, StorageUnavailableError, type PipelineStatus } from "../../lib";
import { silentLogger, sleep } from "./helpers";

const redisServer = await ownRedis(); // reserved; the test starts and kills it
const startServer = () => redisServer.start();
const stopServer = () => redisServer.kill();

afterAll(stopServer);

/** Rejects with StorageUnavailableError, well before the many seconds ioredis' offline queue would take. */
async function expectUnavailable(what: string, call: () => Promise<unknown>): Promise<void> {
  const t0 = Date.now();
  const err = await call().then(
    () => null,
    (e: unknown) => e,
  );
  expect(err, what).toBeInstanceOf(StorageUnavailableError);
  expect((err as Error).name).toBe("StorageUnavailableError");
  expect(Date.now() - t0, `${what} took`).toBeLessThan(3000);
}

const run = (id: string): PipelineStatus => ({
  pipelineId: id,
  pipelineName: "outage",
  status: "RUNNING",
  pipelineType: "sequential",
  startedAt: new Date(),
  completedAt: null,
  durationMs: null,
  steps: [],
  result: null,
  error: null,
});

describe("RedisPipelineStorage reads during an outage", () => {
  it("fail fast with StorageUnavailableError, then work again after the reconnect", async () => {
    await startServer();
    // Default ioredis options: the offline queue and 20 retries per request that made reads hang.
    const redis = new Redis(redisServer.port, "127.0.0.1", { retryStrategy: (times) => Math.min(times * 50, 200) });
    redis.on("error", () => undefined);
    const storage = new RedisPipelineStorage(redis, { keyPrefix: "pwtest:rp2:outage:", logger: silentLogger() });
    const tracking = new PipelineTrackingManager({ logger: silentLogger() }).withStorage(storage);
    await storage.saveStatus(run("o-1"));
    expect((await tracking.getStatus("o-1"))?.status).toBe("RUNNING");

    const closed = new Promise((r) => redis.once("close", r));
    await stopServer();
    await closed;
    await expectUnavailable("getStatus", () => tracking.getStatus("o-1"));
    await expectUnavailable("listPipelines", () => tracking.listPipelines());
    await expectUnavailable("listPage", () => tracking.listPage());
    await expectUnavailable("countByStatus", () => tracking.countByStatus());
    await expectUnavailable("getHistory", () => tracking.getHistory({ limit: 5 }));
    await expectUnavailable("getMetrics", () => tracking.getMetrics({ days: 7 }));
    await expectUnavailable("cleanupOlderThan", () => tracking.cleanupOlderThan({ days: 30 }));
    await expectUnavailable("cancel", () => tracking.cancel("o-1"));
    await expectUnavailable("deletePipeline", () => tracking.deletePipeline("o-1"));
    // Bad arguments are still reported as such, not as an outage.
    await expect(tracking.getMetrics({ days: 0 })).rejects.toBeInstanceOf(RangeError);

    await startServer();
    const deadline = Date.now() + 5000;
    while (redis.status !== "ready" && Date.now() < deadline) await sleep(20);
    await storage.saveStatus(run("o-2"));
    expect((await tracking.getStatus("o-2"))?.status).toBe("RUNNING");
    expect((await tracking.listPipelines()).map((s) => s.pipelineId)).toContain("o-2");
    await tracking.close();
    redis.disconnect();
  }, 20_000);

  it("a client that cannot connect at all fails reads within about a second", async () => {
    // Nothing listens on a port the OS just handed out and that was closed again.
    const redis = new Redis(await freePort(), "127.0.0.1", { retryStrategy: (times) => Math.min(times * 50, 200) });
    redis.on("error", () => undefined);
    const storage = new RedisPipelineStorage(redis, { keyPrefix: "pwtest:rp2:nowhere:", logger: silentLogger() });
    await expectUnavailable("listPipelines on a fresh client", () => storage.listPipelines());
    await expectUnavailable("countByStatus on a fresh client", () => storage.countByStatus());
    redis.disconnect();
  });
});
