/** The demo's back-filled history: runs shaped like the executor records them, DAGs included. */
import { describe, expect, it } from "vitest";
import { InMemoryBroker } from "../../lib/pipeline/broker";
import type { PipelineStatus, StepStatus } from "../../lib/tracking/models";
import { PipelineTrackingManager } from "../../lib/tracking/manager";
import { InMemoryPipelineStorage } from "../../lib/tracking/storage/memory";
import { backfillHistory, pastRun } from "../../server/demo/backfill";
import { defineDemoPipelines, type DemoPipeline } from "../../server/demo/definitions";
import { silentLogger } from "./helpers";

const storage = new InMemoryPipelineStorage();
const tracking = new PipelineTrackingManager({ logger: silentLogger }).withStorage(storage);
const demos = defineDemoPipelines(new InMemoryBroker(), tracking);
const demo = (name: string): DemoPipeline => demos.find((d) => d.pipeline.name === name)!;
const ms = (d: Date | null) => d!.getTime();
const step = (run: PipelineStatus, name: string): StepStatus => run.steps.find((s) => s.stepName === name)!;

describe("backfillHistory", () => {
  it("stores dataflow runs with their definition's dependsOn and overlapping branches", async () => {
    const count = await backfillHistory(storage, demos, { days: 7 });
    expect(count).toBeGreaterThan(100);
    const reports = (await tracking.listPipelines({ limit: 5_000 })).filter((r) => r.pipelineName === "daily-report");
    expect(reports.length).toBeGreaterThan(20);
    const completed = reports.filter((r) => r.status === "COMPLETED");
    expect(completed.length).toBeGreaterThan(10);
    for (const run of completed) {
      expect(run.pipelineType).toBe("dataflow");
      expect(step(run, "load-sales").dependsOn).toEqual([]);
      expect(step(run, "render-charts").dependsOn).toEqual(["load-sales"]);
      expect(step(run, "publish").dependsOn).toEqual(["compute-stats", "render-charts", "detect-anomalies"]);
      const branches = ["compute-stats", "render-charts", "detect-anomalies"].map((n) => step(run, n));
      for (const branch of branches) expect(ms(branch.startedAt)).toBeGreaterThanOrEqual(ms(step(run, "load-sales").completedAt));
      // Concurrent: every pair of branches overlaps in time.
      for (const a of branches) for (const b of branches) expect(ms(a.startedAt)).toBeLessThan(ms(b.completedAt));
      expect(ms(step(run, "publish").startedAt)).toBe(Math.max(...branches.map((b) => ms(b.completedAt))));
      // The run took less than its steps laid end to end.
      expect(run.durationMs!).toBeLessThan(run.steps.reduce((sum, s) => sum + s.durationMs!, 0));
      expect(ms(run.completedAt)).toBe(ms(step(run, "publish").completedAt));
    }
    const sequential = (await tracking.listPipelines({ limit: 5_000 })).filter(
      (r) => r.pipelineName === "orders-etl" && r.status === "COMPLETED",
    );
    for (const run of sequential.slice(0, 20)) {
      run.steps.slice(1).forEach((s, i) => expect(ms(s.startedAt)).toBe(ms(run.steps[i]!.completedAt)));
    }
  });
});

describe("pastRun", () => {
  const training = demo("model-training");
  const runs = Array.from({ length: 400 }, (_, i) => pastRun(training, Date.UTC(2026, 10, 1) + i * 60_000));

  it("cancels the slow training job now and then, cutting the running step short", () => {
    const cancelled = runs.filter((r) => r.status === "CANCELLED");
    expect(cancelled.length).toBeGreaterThan(10);
    for (const run of cancelled) {
      expect(run.error).toBe("Cancelled");
      const end = ms(run.completedAt);
      const interrupted = run.steps.filter((s) => s.status === "CANCELLED" && s.startedAt);
      expect(interrupted.length).toBe(1);
      expect(ms(interrupted[0]!.completedAt)).toBe(end);
      for (const s of run.steps.filter((x) => x.status === "CANCELLED" && !x.startedAt)) expect(s.attempts).toBe(1);
      for (const s of run.steps.filter((x) => x.status === "COMPLETED")) expect(ms(s.completedAt)).toBeLessThanOrEqual(end);
    }
  });

  it("ends a failed run at its failing step, with that step's error; nothing after it ran", () => {
    const failed = [...runs, ...Array.from({ length: 300 }, (_, i) => pastRun(demo("daily-report"), i * 60_000))].filter(
      (r) => r.status === "FAILED",
    );
    expect(failed.length).toBeGreaterThan(10);
    for (const run of failed) {
      const failing = run.steps.filter((s) => s.status === "FAILED");
      expect(failing.length).toBe(1);
      expect(run.error).toBe(failing[0]!.error);
      expect(ms(run.completedAt)).toBe(ms(failing[0]!.completedAt));
      for (const s of run.steps) if (s.startedAt) expect(ms(s.startedAt)).toBeLessThan(ms(run.completedAt));
      expect(run.steps.every((s) => s.status !== "PENDING" && s.status !== "RUNNING")).toBe(true);
    }
  });
});
