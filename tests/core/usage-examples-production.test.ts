/** Usage examples of the library, run as written: production practices (scheduled cleanup, health check, keeping the newest runs). */
import { afterEach, describe, expect, it } from "vitest";
import { InMemoryBroker, Pipeline, PipelineScheduler, PipelineTrackingManager } from "../../lib";
import { memoryTracking, silentLogger } from "./helpers";
import { DAY_MS, importedRun } from "./imported-run";

describe("production practices", () => {
  let scheduler: PipelineScheduler | null = null;
  afterEach(() => scheduler?.stopAll());

  it("schedules a daily cleanup at 3 AM", async () => {
    const broker = new InMemoryBroker();
    const { tracking } = memoryTracking();
    await tracking.storage.saveStatus(importedRun("very-old", new Date(Date.now() - 10 * DAY_MS)));
    const printed: string[] = [];
    async function cleanupOldTrackings() {
      const deleted = await tracking.cleanupOlderThan({ days: 7 });
      printed.push(`Cleaned up ${deleted} old pipeline records`);
    }
    scheduler = new PipelineScheduler(broker, { logger: silentLogger() });
    const handle = scheduler.scheduleAt(cleanupOldTrackings, { runAt: "0 3 * * *" });
    const next = handle.nextRun();
    expect(next).toBeInstanceOf(Date);
    expect(next!.getUTCHours()).toBe(3);
    expect(next!.getUTCMinutes()).toBe(0);
    expect(next!.getTime() - Date.now()).toBeLessThanOrEqual(DAY_MS);
    expect(next!.getTime()).toBeGreaterThan(Date.now());
    await cleanupOldTrackings();
    expect(printed).toEqual(["Cleaned up 1 old pipeline records"]);
    handle.stop();
    expect(handle.nextRun()).toBeNull();
  });

  async function trackingHealth(broker: InMemoryBroker, tracking: PipelineTrackingManager) {
    try {
      const testPipeline = new Pipeline(broker).step("ping", (x) => x).withTracking(tracking);
      await testPipeline.kiq("health_check");
      return { status: "healthy" };
    } catch (e) {
      return { status: "unhealthy", error: e instanceof Error ? e.message : String(e) };
    }
  }

  it("reports healthy with a storage and unhealthy without one", async () => {
    const broker = new InMemoryBroker();
    expect(await trackingHealth(broker, memoryTracking().tracking)).toEqual({ status: "healthy" });
    expect(await trackingHealth(broker, new PipelineTrackingManager({ logger: silentLogger() }))).toEqual({
      status: "unhealthy",
      error: "No tracking storage configured",
    });
  });

  it("keeps only the newest 100 runs per id pattern", async () => {
    const { tracking } = memoryTracking();
    const now = Date.now();
    for (let i = 0; i < 130; i++) await tracking.storage.saveStatus(importedRun(`etl_${i}`, new Date(now - i * 60_000)));
    for (let i = 0; i < 40; i++) await tracking.storage.saveStatus(importedRun(`batch_job_${i}`, new Date(now - i * 60_000)));
    for (let i = 0; i < 120; i++) await tracking.storage.saveStatus(importedRun(`other_${i}`, new Date(now - i * 60_000)));
    // fnmatch-style patterns; "*" is any run of characters.
    const fnmatch = (id: string, pattern: string) =>
      new RegExp(
        `^${pattern
          .split("*")
          .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
          .join(".*")}$`,
      ).test(id);

    const patterns = ["batch_job_*", "etl_*"];
    for (const pattern of patterns) {
      const old = await tracking.listPipelines();
      const matching = old.filter((p) => fnmatch(p.pipelineId, pattern));
      if (matching.length > 100) {
        // Newest first: everything past the first 100 is the oldest, so it goes.
        for (const oldPipeline of matching.slice(100)) await tracking.deletePipeline(oldPipeline.pipelineId);
      }
    }
    const left = (await tracking.listPipelines()).map((s) => s.pipelineId);
    expect(left.filter((id) => id.startsWith("etl_"))).toEqual(Array.from({ length: 100 }, (_, i) => `etl_${i}`));
    expect(left.filter((id) => id.startsWith("batch_job_"))).toHaveLength(40);
    expect(left.filter((id) => id.startsWith("other_"))).toHaveLength(120);
  });
});
