/** Storage contract: deleting runs: one by one, and retention. */
import { beforeEach, describe, expect, it } from "vitest";
import type { TrackingStorage } from "../types";
import { DAY_MS, makeRun, makeStep, pageThrough, uniqueId } from "./helpers";

export function describeRemovalContract(current: () => TrackingStorage): void {
  let storage: TrackingStorage;
  beforeEach(() => {
    storage = current();
  });

  describe("deletePipeline", () => {
    it("deletes a run (true) and answers false for an unknown one", async () => {
      const keep = makeRun(uniqueId("keep"));
      const gone = makeRun(uniqueId("gone"), { status: "RUNNING" });
      await storage.saveStatus(keep);
      await storage.saveStatus(gone);
      expect(await storage.deletePipeline(gone.pipelineId)).toBe(true);
      expect(await storage.getStatus(gone.pipelineId)).toBeNull();
      expect(await storage.deletePipeline(gone.pipelineId)).toBe(false);
      expect(await storage.deletePipeline(uniqueId("never"))).toBe(false);
      expect((await storage.listPipelines()).map((s) => s.pipelineId)).toEqual([keep.pipelineId]);
      expect((await storage.listPage()).items.map((s) => s.pipelineId)).toEqual([keep.pipelineId]);
      expect((await storage.getHistory()).map((s) => s.pipelineId)).toEqual([keep.pipelineId]);
      // A late step write for the deleted run does not resurrect it.
      await storage.saveStep(
        gone.pipelineId,
        makeStep("only", { status: "COMPLETED", startedAt: new Date(), completedAt: new Date(), durationMs: 1 }),
      );
      expect(await storage.getStatus(gone.pipelineId)).toBeNull();
    });
  });
  describe("cleanupOlderThan", () => {
    it("deletes finished runs strictly older than the cutoff, never a running or pending one", async () => {
      const cutoff = new Date("2025-06-01T00:00:00.000Z");
      const c = cutoff.getTime();
      const oldFinished = [
        makeRun(uniqueId("old-c"), { status: "COMPLETED", startedAt: new Date(c - 1) }),
        makeRun(uniqueId("old-f"), { status: "FAILED", startedAt: new Date(c - DAY_MS) }),
        makeRun(uniqueId("old-x"), { status: "CANCELLED", startedAt: new Date(c - 40 * DAY_MS) }),
      ];
      const kept = [
        makeRun(uniqueId("old-r"), { status: "RUNNING", startedAt: new Date(c - 10 * DAY_MS) }),
        makeRun(uniqueId("old-p"), { status: "PENDING", startedAt: new Date(c - 2 * DAY_MS) }),
        makeRun(uniqueId("at-cutoff"), { status: "COMPLETED", startedAt: new Date(c) }),
        makeRun(uniqueId("new"), { status: "FAILED", startedAt: new Date(c + 1) }),
      ];
      for (const r of [...oldFinished, ...kept]) await storage.saveStatus(r);
      expect(await storage.cleanupOlderThan(cutoff)).toBe(3);
      for (const r of oldFinished) expect(await storage.getStatus(r.pipelineId)).toBeNull();
      for (const r of kept) expect(await storage.getStatus(r.pipelineId)).toEqual(r);
      const expectedIds = kept
        .slice()
        .sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime())
        .map((r) => r.pipelineId);
      expect((await storage.listPipelines()).map((s) => s.pipelineId)).toEqual(expectedIds);
      expect((await pageThrough(storage, { limit: 2 })).map((s) => s.pipelineId)).toEqual(expectedIds);
      expect((await storage.getHistory()).map((s) => s.pipelineId)).toEqual(expectedIds);
      expect(await storage.countByStatus()).toEqual({ PENDING: 1, RUNNING: 1, COMPLETED: 1, FAILED: 1, CANCELLED: 0 });
      expect(await storage.cleanupOlderThan(cutoff)).toBe(0);
    });

    it("with a limit, deletes at most that many, oldest first, skipping unfinished runs", async () => {
      const cutoff = new Date("2025-06-01T00:00:00.000Z");
      const c = cutoff.getTime();
      const running = makeRun(uniqueId("lim-r"), { status: "RUNNING", startedAt: new Date(c - 10 * DAY_MS) });
      const finished = [5, 4, 3, 2, 1].map((d) =>
        makeRun(uniqueId(`lim-${d}`), { status: "COMPLETED", startedAt: new Date(c - d * DAY_MS) }),
      );
      for (const r of [running, ...finished]) await storage.saveStatus(r);
      expect(await storage.cleanupOlderThan(cutoff, { limit: 2 })).toBe(2);
      expect(await storage.getStatus(finished[0]!.pipelineId)).toBeNull();
      expect(await storage.getStatus(finished[1]!.pipelineId)).toBeNull();
      expect(await storage.getStatus(finished[2]!.pipelineId)).not.toBeNull();
      expect(await storage.cleanupOlderThan(cutoff, { limit: 2 })).toBe(2);
      expect(await storage.cleanupOlderThan(cutoff, { limit: 2 })).toBe(1);
      expect(await storage.cleanupOlderThan(cutoff, { limit: 2 })).toBe(0);
      expect(await storage.getStatus(running.pipelineId)).toEqual(running);
    });

    it("answers 0 on an empty store", async () => {
      expect(await storage.cleanupOlderThan(new Date())).toBe(0);
    });
  });
}
