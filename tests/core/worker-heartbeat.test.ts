import { afterEach, describe, expect, it, vi } from "vitest";
import { InMemoryPipelineStorage, WorkerHeartbeat, type HeartbeatOptions, type WorkerInfo } from "../../lib";
import { makeWorkerInfo } from "../../lib/tracking/storage/contract/workers";
import { captureLogger, silentLogger } from "./helpers";

/** A registry that records every write (and may fail them). */
function recordingRegistry() {
  const writes: { info: WorkerInfo; options?: HeartbeatOptions }[] = [];
  let fail = false;
  return {
    writes,
    failNext(on: boolean) {
      fail = on;
    },
    async recordWorker(info: WorkerInfo, options?: HeartbeatOptions) {
      if (fail) throw new Error("redis down");
      writes.push({ info, options });
    },
  };
}

describe("WorkerHeartbeat", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("writes at start, every interval, and the final stopped heartbeat", async () => {
    vi.useFakeTimers();
    const registry = recordingRegistry();
    let processed = 0;
    const hb = new WorkerHeartbeat(registry, () => makeWorkerInfo("w", { processed: processed++ }), {
      intervalMs: 5_000,
      logger: silentLogger(),
    });
    await hb.start();
    expect(registry.writes).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(5_000);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(registry.writes.map((w) => w.info.processed)).toEqual([0, 1, 2]);
    await hb.stop();
    expect(registry.writes.at(-1)!.options).toEqual({ stopped: true });
    await vi.advanceTimersByTimeAsync(20_000);
    expect(registry.writes).toHaveLength(4);
  });

  it("touch() writes soon, at most one extra write per second", async () => {
    vi.useFakeTimers();
    const registry = recordingRegistry();
    const hb = new WorkerHeartbeat(registry, () => makeWorkerInfo("w"), { intervalMs: 60_000, logger: silentLogger() });
    await hb.start();
    for (let i = 0; i < 10; i++) hb.touch();
    await vi.advanceTimersByTimeAsync(999);
    expect(registry.writes).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(registry.writes).toHaveLength(2);
    for (let i = 0; i < 10; i++) hb.touch();
    await vi.advanceTimersByTimeAsync(3_000);
    expect(registry.writes).toHaveLength(3);
    await hb.stop();
  });

  it("logs storage errors without throwing, once per failure streak, and keeps beating", async () => {
    vi.useFakeTimers();
    const registry = recordingRegistry();
    const { logger, lines } = captureLogger();
    const hb = new WorkerHeartbeat(registry, () => makeWorkerInfo("w"), { intervalMs: 1_000, logger });
    registry.failNext(true);
    await expect(hb.start()).resolves.toBeUndefined();
    await vi.advanceTimersByTimeAsync(3_000);
    expect(lines.filter((l) => l.msg === "worker heartbeat failed" && l.level === 40)).toHaveLength(1);
    registry.failNext(false);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(registry.writes).toHaveLength(1);
    registry.failNext(true);
    await expect(hb.stop()).resolves.toBeUndefined();
  });

  it("lists the worker in a real storage, then offline once stopped; a storage without a registry is a no-op", async () => {
    const storage = new InMemoryPipelineStorage();
    const hb = new WorkerHeartbeat(storage, () => makeWorkerInfo("w1"), { logger: silentLogger() });
    await hb.start();
    expect((await storage.listWorkers()).map((w) => w.status)).toEqual(["online"]);
    await hb.stop();
    expect((await storage.listWorkers()).map((w) => w.status)).toEqual(["offline"]);

    const none = new WorkerHeartbeat({}, () => makeWorkerInfo("w2"), { logger: silentLogger() });
    await none.start();
    none.touch();
    await none.stop();
  });
});
