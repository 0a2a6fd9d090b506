/** withAutoStorage(broker) builds the Redis storage with the manager's logger (its outage errors go there). */
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import { pino } from "pino";
import { freePort } from "../free-port";
import { InMemoryBroker, PipelineTrackingManager, RedisPipelineStorage } from "../../lib";

describe("withAutoStorage", () => {
  it("hands the manager's logger to the Redis storage it creates", async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const logger = pino({ level: "error" }, sink);
    // Nothing listens on a port the OS just handed out and that was closed again: every write is an outage.
    const redis = new Redis(await freePort(), "127.0.0.1", { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    redis.on("error", () => undefined);
    await redis.connect().catch(() => undefined);
    const tracking = new PipelineTrackingManager({ logger }).withAutoStorage(new InMemoryBroker({ redis }));
    expect(tracking.storage).toBeInstanceOf(RedisPipelineStorage);
    await tracking.storage.saveStatus({
      pipelineId: "auto-1",
      pipelineName: null,
      status: "RUNNING",
      pipelineType: "sequential",
      startedAt: new Date(),
      completedAt: null,
      durationMs: null,
      steps: [],
      result: null,
      error: null,
    });
    expect(lines.join("")).toMatch(/Redis unavailable: buffering tracking writes/);
    redis.disconnect();
  });
});
