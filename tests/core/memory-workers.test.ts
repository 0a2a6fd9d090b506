import { afterEach, describe, expect, it, vi } from "vitest";
import { InMemoryPipelineStorage } from "../../lib";
import { makeWorkerInfo } from "../../lib/tracking/storage/contract/workers";
import { WORKER_LISTED_FOR_MS, WORKER_OFFLINE_AFTER_MS } from "../../lib/workers/types";

// The battery cannot wait out the time limits; the memory storage's clock can be moved.
describe("memory worker registry over time", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("is offline after WORKER_OFFLINE_AFTER_MS without a heartbeat and dropped after WORKER_LISTED_FOR_MS", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const storage = new InMemoryPipelineStorage();
    await storage.recordWorker(makeWorkerInfo("w1"));
    vi.advanceTimersByTime(WORKER_OFFLINE_AFTER_MS - 1);
    expect((await storage.listWorkers()).map((w) => w.status)).toEqual(["online"]);
    vi.advanceTimersByTime(1);
    expect((await storage.listWorkers()).map((w) => w.status)).toEqual(["offline"]);
    await storage.recordWorker(makeWorkerInfo("w2"));
    vi.advanceTimersByTime(WORKER_LISTED_FOR_MS - WORKER_OFFLINE_AFTER_MS);
    expect((await storage.listWorkers()).map((w) => w.workerId)).toEqual(["w2"]);
  });
});
