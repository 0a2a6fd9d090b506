/** Storage contract: ending a run: the terminal compare-and-set that writes a run's final state once. */
import { beforeEach, describe, expect, it } from "vitest";
import { STATUSES, type PipelineStatus, type Status } from "../../models";
import type { TrackingStorage } from "../types";
import { makeRun, makeStep, uniqueId } from "./helpers";

export function describeFinishContract(current: () => TrackingStorage): void {
  let storage: TrackingStorage;
  beforeEach(() => {
    storage = current();
  });

  describe("finishStatus", () => {
    const finish = (run: PipelineStatus, status: Status, fields: Partial<PipelineStatus> = {}): PipelineStatus => ({
      ...run,
      status,
      completedAt: new Date(run.startedAt.getTime() + 50),
      durationMs: 50,
      error: status === "COMPLETED" ? null : status === "FAILED" ? "boom" : "Cancelled",
      steps: run.steps.map((s) => ({ ...s, status: status === "COMPLETED" ? "COMPLETED" : "CANCELLED" })),
      ...fields,
    });

    it("writes the final state of a PENDING or RUNNING run once; a second end is refused and answered the stored one", async () => {
      const running = makeRun(uniqueId("fin-run"), {
        status: "RUNNING",
        startedAt: new Date(Date.now() - 1000),
        steps: [makeStep("a", { status: "RUNNING", startedAt: new Date(), attempts: 1 })],
      });
      const pending = makeRun(uniqueId("fin-pend"), { status: "PENDING", startedAt: new Date(Date.now() - 2000), steps: [makeStep("a")] });
      await storage.saveStatus(running);
      await storage.saveStatus(pending);
      const done = finish(running, "COMPLETED", { result: { rows: 3 } });
      expect(await storage.finishStatus(done)).toEqual({ applied: true, current: done });
      expect(await storage.getStatus(running.pipelineId)).toEqual(done);
      const cancelled = finish(pending, "CANCELLED");
      expect((await storage.finishStatus(cancelled)).applied).toBe(true);
      expect(await storage.getStatus(pending.pipelineId)).toEqual(cancelled);

      const late = await storage.finishStatus(finish(running, "CANCELLED"));
      expect(late).toEqual({ applied: false, current: done });
      expect(await storage.getStatus(running.pipelineId)).toEqual(done);
      expect((await storage.finishStatus(finish(pending, "FAILED"))).current).toEqual(cancelled);
      expect(await storage.countByStatus()).toEqual({ PENDING: 0, RUNNING: 0, COMPLETED: 1, FAILED: 0, CANCELLED: 1 });
      expect((await storage.listPipelines({ status: "CANCELLED" })).map((s) => s.pipelineId)).toEqual([pending.pipelineId]);
    });

    it("never recreates a run that is not stored (unknown, or deleted while it ran)", async () => {
      const ghost = makeRun(uniqueId("fin-ghost"), { status: "COMPLETED" });
      expect(await storage.finishStatus(ghost)).toEqual({ applied: false, current: null });
      const deleted = makeRun(uniqueId("fin-del"), { status: "RUNNING", steps: [makeStep("a")] });
      await storage.saveStatus(deleted);
      expect(await storage.deletePipeline(deleted.pipelineId)).toBe(true);
      expect(await storage.finishStatus(finish(deleted, "COMPLETED"))).toEqual({ applied: false, current: null });
      for (const id of [ghost.pipelineId, deleted.pipelineId]) expect(await storage.getStatus(id)).toBeNull();
      expect(await storage.listPipelines()).toEqual([]);
      expect((await storage.listPage()).items).toEqual([]);
      expect(await storage.countByStatus()).toEqual(Object.fromEntries(STATUSES.map((st) => [st, 0])));
    });

    it("keeps a step already stored as ended (COMPLETED/FAILED) over the CANCELLED a cancel read earlier", async () => {
      const t0 = new Date(Date.now() - 1000);
      const run = makeRun(uniqueId("fin-keep"), {
        status: "RUNNING",
        startedAt: t0,
        steps: [
          makeStep("a", { status: "RUNNING", startedAt: t0, attempts: 1 }),
          makeStep("b", { status: "RUNNING", startedAt: t0, attempts: 1 }),
          makeStep("c"),
        ],
      });
      await storage.saveStatus(run);
      // The cancel's read: every step unfinished. Then the worker ends "a" and fails "b" before the cancel's write.
      const cancel = finish(run, "CANCELLED");
      const a = makeStep("a", {
        status: "COMPLETED",
        startedAt: t0,
        completedAt: new Date(t0.getTime() + 400),
        durationMs: 400,
        result: { rows: 7 },
        attempts: 1,
        workerId: "w1",
      });
      const b = makeStep("b", {
        status: "FAILED",
        startedAt: t0,
        completedAt: new Date(t0.getTime() + 300),
        durationMs: 300,
        error: "bad",
        attempts: 1,
        workerId: "w2",
      });
      await storage.saveStep(run.pipelineId, a);
      await storage.saveStep(run.pipelineId, b);
      expect((await storage.finishStatus(cancel)).applied).toBe(true);
      const stored = await storage.getStatus(run.pipelineId);
      expect(stored).toEqual({ ...cancel, steps: [a, b, cancel.steps[2]] });
      expect(stored!.status).toBe("CANCELLED");
      const [item] = (await storage.listPage({ q: run.pipelineId })).items;
      expect(item).toMatchObject({ pipelineId: run.pipelineId, status: "CANCELLED", stepsTotal: 3, stepsCompleted: 1, stepsFailed: 1 });
      expect(await storage.countByStatus()).toMatchObject({ RUNNING: 0, CANCELLED: 1 });
      const day = await storage.getMetrics({ days: 1 });
      expect(day.steps.find((s) => s.stepName === "a")).toMatchObject({ count: 1, failed: 0, maxDurationMs: 400 });
      expect(day.steps.find((s) => s.stepName === "b")).toMatchObject({ count: 1, failed: 1, maxDurationMs: 300 });
    });

    it("lets exactly one of several concurrent ends win", async () => {
      const run = makeRun(uniqueId("fin-race"), {
        status: "RUNNING",
        steps: [makeStep("a", { status: "RUNNING", startedAt: new Date(), attempts: 1 })],
      });
      await storage.saveStatus(run);
      const ends = (["COMPLETED", "CANCELLED", "FAILED", "CANCELLED"] as const).map((st) => finish(run, st));
      const outcomes = await Promise.all(ends.map((e) => storage.finishStatus(e)));
      const winners = outcomes.filter((o) => o.applied);
      expect(winners).toHaveLength(1);
      const stored = await storage.getStatus(run.pipelineId);
      expect(stored).toEqual(winners[0]!.current);
      for (const o of outcomes.filter((x) => !x.applied)) expect(o.current).toEqual(stored);
    });
  });
}
