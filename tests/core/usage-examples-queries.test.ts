/** Usage examples of the library, run as written: querying status, listing, history and deleting runs. */
import { describe, expect, it } from "vitest";
import { InMemoryBroker, Pipeline } from "../../lib";
import { deferred, memoryTracking } from "./helpers";
import { DAY_MS, importedRun } from "./imported-run";

describe("querying status", () => {
  it("answers a completed run's duration and result, a failed run's error", async () => {
    const broker = new InMemoryBroker();
    const { tracking } = memoryTracking();
    const ok = new Pipeline(broker, { name: "ok" }).step("answer", () => 42).withTracking(tracking);
    const bad = new Pipeline(broker, { name: "bad" })
      .step("explode", () => {
        throw new Error("disk full");
      })
      .withTracking(tracking);
    await (await ok.kiq()).waitResult();
    await (await bad.kiq()).waitResult();

    const lines: string[] = [];
    for (const pipelineId of [ok.pipelineId, bad.pipelineId]) {
      const status = await tracking.getStatus(pipelineId);
      if (status?.status === "COMPLETED") {
        lines.push(`Pipeline finished in ${status.durationMs}ms`, `Result: ${String(status.result)}`);
      } else if (status?.status === "FAILED") {
        lines.push(`Failed: ${status.error}`);
      }
    }
    expect(lines[0]).toMatch(/^Pipeline finished in [\d.]+ms$/);
    expect(lines.slice(1)).toEqual(["Result: 42", "Failed: disk full"]);
  });

  it("lists all runs newest first and filters by status", async () => {
    const broker = new InMemoryBroker();
    const { tracking } = memoryTracking();
    const release = deferred();
    const slow = new Pipeline(broker, { name: "slow" }).step("wait", () => release.promise).withTracking(tracking);
    const fine = new Pipeline(broker, { name: "fine" }).step("noop", () => null).withTracking(tracking);
    const broken = new Pipeline(broker, { name: "broken" })
      .step("fail", () => {
        throw new Error("nope");
      })
      .withTracking(tracking);
    await (await fine.kiq(undefined, { pipelineId: "fine-1" })).waitResult();
    await (await broken.kiq(undefined, { pipelineId: "broken-1" })).waitResult();
    const slowTask = await slow.kiq(undefined, { pipelineId: "slow-1" });

    const printed: string[] = [];
    const allStatuses = await tracking.listPipelines();
    for (const status of allStatuses) printed.push(`${status.pipelineId}: ${status.status}`);
    expect(printed.sort()).toEqual(["broken-1: FAILED", "fine-1: COMPLETED", "slow-1: RUNNING"]);

    const running = await tracking.listPipelines({ status: "RUNNING" });
    const failed = await tracking.listPipelines({ status: "FAILED" });
    const completed = await tracking.listPipelines({ status: "COMPLETED" });
    expect(running.map((s) => s.pipelineId)).toEqual(["slow-1"]);
    expect(failed.map((s) => s.pipelineId)).toEqual(["broken-1"]);
    expect(completed.map((s) => s.pipelineId)).toEqual(["fine-1"]);
    release.resolve();
    await slowTask.waitResult();
    expect(await tracking.listPipelines({ status: "RUNNING" })).toEqual([]);
  });

  it("answers the last N runs and runs since a date", async () => {
    const { tracking } = memoryTracking();
    const now = Date.now();
    for (let i = 0; i < 15; i++) await tracking.storage.saveStatus(importedRun(`hist-${i}`, new Date(now - i * DAY_MS - 3_600_000)));

    const history = await tracking.getHistory({ limit: 10 });
    expect(history.map((s) => s.pipelineId)).toEqual(Array.from({ length: 10 }, (_, i) => `hist-${i}`));

    const weekAgo = new Date(Date.now() - 7 * DAY_MS);
    const recent = await tracking.getHistory({ since: weekAgo });
    expect(recent.map((s) => s.pipelineId)).toEqual(Array.from({ length: 7 }, (_, i) => `hist-${i}`));
    await expect(tracking.getHistory({ since: new Date("nope") })).rejects.toThrow(TypeError);
  });

  it("deletes records older than 30 days and a specific run", async () => {
    const broker = new InMemoryBroker();
    const { tracking } = memoryTracking();
    const now = Date.now();
    await tracking.storage.saveStatus(importedRun("ancient-1", new Date(now - 40 * DAY_MS)));
    await tracking.storage.saveStatus(importedRun("ancient-2", new Date(now - 31 * DAY_MS), "FAILED"));
    await tracking.storage.saveStatus(importedRun("ancient-stuck", new Date(now - 60 * DAY_MS), "RUNNING"));
    await tracking.storage.saveStatus(importedRun("recent", new Date(now - 29 * DAY_MS)));
    const pipeline = new Pipeline(broker).step("x", () => 1).withTracking(tracking);
    await (await pipeline.kiq()).waitResult();

    const deleted = await tracking.cleanupOlderThan({ days: 30 });
    expect(`Deleted ${deleted} old pipeline records`).toBe("Deleted 2 old pipeline records");
    expect((await tracking.listPipelines()).map((s) => s.pipelineId).sort()).toEqual(
      ["ancient-stuck", pipeline.pipelineId, "recent"].sort(),
    );

    expect(await tracking.deletePipeline(pipeline.pipelineId)).toBe(true);
    expect(await tracking.getStatus(pipeline.pipelineId)).toBeNull();
    expect(await tracking.deletePipeline(pipeline.pipelineId)).toBe(false);
    await expect(tracking.cleanupOlderThan({ days: -1 })).rejects.toThrow(RangeError);
  });
});
