/** A process that runs pipelines itself as a worker (lib/workers/process-worker.ts): its running steps and counts, as its heartbeats report them. */
import { afterEach, describe, expect, it, vi } from "vitest";
import { InMemoryBroker } from "../../lib/pipeline/broker";
import { PipelineTrackingManager } from "../../lib/tracking/manager";
import { InMemoryPipelineStorage } from "../../lib/tracking/storage/memory";
import { startProcessWorker, type ProcessWorker } from "../../lib/workers/process-worker";
import { gatedPipeline, silentLogger } from "./helpers";

let worker: ProcessWorker | undefined;
afterEach(async () => {
  await worker?.stop();
});

describe("the dashboard process as a worker", () => {
  it("reports the steps running here, then the finished ones as processed, and stops offline", async () => {
    const storage = new InMemoryPipelineStorage();
    const tracking = new PipelineTrackingManager({ logger: silentLogger }).withStorage(storage);
    const broker = new InMemoryBroker({ workerId: "dash:1" });
    const { pipeline, release } = gatedPipeline(broker, tracking, "gated-worker");
    worker = startProcessWorker({ broker, tracking, concurrency: 3, pipelines: () => [pipeline.describe()], logger: silentLogger });
    const own = async () => (await storage.listWorkers()).find((w) => w.workerId === "dash:1");

    await vi.waitFor(async () => expect(await own()).toMatchObject({ status: "online", concurrency: 3, active: [], processed: 0 }));
    const task = await pipeline.kiq();
    // A touch() writes within a second of the change.
    await vi.waitFor(
      async () => expect((await own())?.active).toEqual([expect.objectContaining({ pipelineId: task.pipelineId, stepName: "first" })]),
      {
        timeout: 3_000,
      },
    );
    await release("first");
    await release("second");
    await task.waitResult({ timeoutMs: 5_000 });
    await vi.waitFor(async () => expect(await own()).toMatchObject({ active: [], processed: 2, failed: 0 }), { timeout: 3_000 });
    expect((await own())?.pipelines.map((p) => p.name)).toEqual(["gated-worker"]);

    await worker.stop();
    worker = undefined;
    expect(await own()).toMatchObject({ status: "offline" });
    await tracking.close();
  });
});
