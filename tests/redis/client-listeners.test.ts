/** The ioredis client is the caller's: a storage's listeners on it go away with close(). */
import { afterAll, describe, expect, it } from "vitest";
import { InMemoryBroker, PipelineTrackingManager, RedisPipelineStorage } from "../../lib";
import { connect, deleteKeys, silentLogger, uniquePrefix } from "./helpers";

const prefix = uniquePrefix("listeners");
const redis = connect();

afterAll(async () => {
  await deleteKeys(redis, prefix);
  redis.disconnect();
});

describe("RedisPipelineStorage on a shared client", () => {
  it("leaves the client's listener counts as it found them after 20 rounds of create, use and close", async () => {
    await redis.ping();
    const events = ["close", "ready", "error", "end", "reconnecting"] as const;
    const baseline = events.map((e) => redis.listenerCount(e));
    const warnings: Error[] = [];
    const onWarning = (w: Error) => void warnings.push(w);
    process.on("warning", onWarning);
    for (let i = 0; i < 20; i++) {
      // As an app would: a manager built from the broker's connection (nothing written under its default prefix)...
      await new PipelineTrackingManager({ logger: silentLogger() }).withAutoStorage(new InMemoryBroker({ redis })).close();
      // ...and a storage that writes, reads and subscribes.
      const storage = new RedisPipelineStorage(redis, { keyPrefix: prefix, logger: silentLogger() });
      const stop = storage.subscribe(() => undefined);
      await storage.saveStatus({
        pipelineId: `l-${i}`,
        pipelineName: null,
        status: "COMPLETED",
        pipelineType: "sequential",
        startedAt: new Date(),
        completedAt: new Date(),
        durationMs: 1,
        steps: [],
        result: null,
        error: null,
      });
      expect(await storage.getStatus(`l-${i}`)).not.toBeNull();
      stop();
      await storage.close();
    }
    await new Promise((r) => setImmediate(r));
    process.off("warning", onWarning);
    expect(events.map((e) => redis.listenerCount(e))).toEqual(baseline);
    expect(warnings.filter((w) => w.name === "MaxListenersExceededWarning")).toEqual([]);
  });
});
