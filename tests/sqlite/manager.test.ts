/** The SQLite storage under a tracking manager and real pipelines, and across a restart. */
import { afterAll, describe, expect, it } from "vitest";
import { InMemoryBroker, Pipeline, PipelineTrackingManager, SqlitePipelineStorage, computeMetrics } from "../../lib";
import { expectMetricsMatch } from "../../lib/tracking/storage/contract";
import { silentLogger, tempDir } from "./helpers";

const temp = tempDir("manager");
afterAll(() => temp.remove());
const logger = silentLogger();

describe("SqlitePipelineStorage with a tracking manager", () => {
  it("records pipelines whose metrics equal computeMetrics over the stored runs, and keeps them across a restart", async () => {
    const path = temp.file("runs.db");
    const storage = new SqlitePipelineStorage({ path, logger });
    const tracking = new PipelineTrackingManager({ logger }).withStorage(storage);
    const pipe = new Pipeline(new InMemoryBroker(), { name: "mixed" })
      .step("a", async (x: unknown) => x)
      .step("b", async (x) => {
        if ((x as number) % 4 === 0) throw new Error(`bad input ${x}\nstack`);
        return { doubled: (x as number) * 2 };
      })
      .step("c", (x) => x)
      .withTracking(tracking);
    const tasks = await Promise.all(Array.from({ length: 40 }, (_, i) => pipe.kiq(i)));
    await Promise.all(tasks.map((t) => t.waitResult({ timeoutMs: 10_000 })));
    const runs = await storage.listPipelines();
    expect(runs).toHaveLength(40);
    expect(runs.filter((r) => r.status === "FAILED")).toHaveLength(10);
    const now = new Date();
    expectMetricsMatch(await storage.getMetrics({ days: 7, now }), computeMetrics(runs, { days: 7, now }));
    const one = tasks[1]!.pipelineId;
    const before = await tracking.getStatus(one);
    expect(before!.steps.map((s) => s.status)).toEqual(["COMPLETED", "COMPLETED", "COMPLETED"]);
    await tracking.shutdown({ graceMs: 1000 });
    await storage.close();

    // A new process on the same file: same runs, same metrics.
    const reopened = new SqlitePipelineStorage({ path, logger });
    expect(await reopened.getStatus(one)).toEqual(before);
    expect(await reopened.countByStatus()).toEqual({ PENDING: 0, RUNNING: 0, COMPLETED: 30, FAILED: 10, CANCELLED: 0 });
    expectMetricsMatch(await reopened.getMetrics({ days: 7, now }), computeMetrics(runs, { days: 7, now }));
    await reopened.close();
  });
});
