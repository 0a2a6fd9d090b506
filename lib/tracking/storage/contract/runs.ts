/** Storage contract: saving and reading runs: whole runs, the terminal compare-and-set, single steps. */
import { beforeEach, describe, expect, it } from "vitest";
import { STATUSES, type PipelineStatus, type Status } from "../../models";
import type { TrackingStorage } from "../types";
import { makeRun, makeStep, uniqueId } from "./helpers";

export function describeRunsContract(current: () => TrackingStorage): void {
  let storage: TrackingStorage;
  beforeEach(() => {
    storage = current();
  });

  describe("saveStatus / getStatus", () => {
    it("round-trips every field: dates, results, nulls, step order, dependsOn, attempts, workerId", async () => {
      const id = uniqueId("roundtrip");
      const t0 = new Date("2026-05-04T03:02:01.123Z");
      const run: PipelineStatus = {
        pipelineId: id,
        pipelineName: "report",
        status: "FAILED",
        pipelineType: "dataflow",
        startedAt: t0,
        completedAt: new Date(t0.getTime() + 2500),
        durationMs: 2500.5,
        result: null,
        error: "stats: division by zero\nat line 3",
        steps: [
          makeStep("load", {
            status: "COMPLETED",
            startedAt: t0,
            completedAt: new Date(t0.getTime() + 1000),
            durationMs: 1000,
            result: { rows: [1, "two", null, { nested: true }], unicode: "héllo ✓", n: 1.5 },
            attempts: 2,
            workerId: "host-a:1",
          }),
          makeStep("stats", {
            status: "FAILED",
            startedAt: new Date(t0.getTime() + 1000),
            completedAt: new Date(t0.getTime() + 2500),
            durationMs: 1500,
            error: "division by zero",
            dependsOn: ["load"],
            attempts: 1,
            workerId: "host-b:2",
          }),
          makeStep("chart", { status: "CANCELLED", dependsOn: ["load"] }),
          makeStep("publish", { status: "CANCELLED", dependsOn: ["stats", "chart"] }),
        ],
      };
      await storage.saveStatus(run);
      const got = await storage.getStatus(id);
      expect(got).toEqual(run);
      expect(got!.startedAt).toBeInstanceOf(Date);
      expect(got!.completedAt).toBeInstanceOf(Date);
      expect(got!.steps[0]!.startedAt).toBeInstanceOf(Date);
      expect(got!.steps.map((s) => s.stepName)).toEqual(["load", "stats", "chart", "publish"]);
    });

    it("round-trips a completed run's result and a running run's nulls", async () => {
      const done = makeRun(uniqueId("result"), { result: { total: 42, items: ["a", "b"], nothing: null } });
      const running = makeRun(uniqueId("running"), {
        status: "RUNNING",
        steps: [makeStep("a", { status: "RUNNING", startedAt: new Date(), attempts: 1 }), makeStep("b")],
      });
      await storage.saveStatus(done);
      await storage.saveStatus(running);
      expect(await storage.getStatus(done.pipelineId)).toEqual(done);
      const got = await storage.getStatus(running.pipelineId);
      expect(got).toEqual(running);
      expect(got!.completedAt).toBeNull();
      expect(got!.durationMs).toBeNull();
    });

    it("answers null for an unknown id", async () => {
      expect(await storage.getStatus(uniqueId("missing"))).toBeNull();
    });

    it("replaces a whole run on a second save", async () => {
      const id = uniqueId("replace");
      const startedAt = new Date(Date.now() - 5000);
      await storage.saveStatus(makeRun(id, { status: "RUNNING", startedAt }));
      const final = makeRun(id, { status: "COMPLETED", startedAt, result: "done" });
      await storage.saveStatus(final);
      expect(await storage.getStatus(id)).toEqual(final);
      const listed = (await storage.listPipelines()).filter((s) => s.pipelineId === id);
      expect(listed).toHaveLength(1);
    });

    it("hands out copies: mutating what was saved or read changes nothing stored", async () => {
      const id = uniqueId("copies");
      const run = makeRun(id, { steps: [makeStep("a", { status: "COMPLETED" })] });
      await storage.saveStatus(run);
      run.status = "FAILED";
      run.steps[0]!.status = "FAILED";
      const read = await storage.getStatus(id);
      expect(read!.status).toBe("COMPLETED");
      read!.steps[0]!.dependsOn.push("x");
      read!.steps.pop();
      const again = await storage.getStatus(id);
      expect(again!.steps).toHaveLength(1);
      expect(again!.steps[0]!.dependsOn).toEqual([]);
      expect(again!.steps[0]!.status).toBe("COMPLETED");
    });

    it("stores a status with past timestamps as given (an import of history)", async () => {
      const id = uniqueId("import");
      const startedAt = new Date("2019-02-03T04:05:06.789Z");
      const run = makeRun(id, { startedAt, durationMs: 12_345 });
      await storage.saveStatus(run);
      expect(await storage.getStatus(id)).toEqual(run);
      const newer = makeRun(uniqueId("import-newer"));
      await storage.saveStatus(newer);
      const ids = (await storage.listPipelines()).map((s) => s.pipelineId);
      expect(ids.indexOf(newer.pipelineId)).toBeLessThan(ids.indexOf(id));
      const history = await storage.getHistory({ since: new Date("2019-01-01T00:00:00Z") });
      expect(history.map((s) => s.pipelineId)).toContain(id);
    });
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
  describe("saveStep", () => {
    it("updates one step and leaves the others alone", async () => {
      const id = uniqueId("step");
      const run = makeRun(id, { status: "RUNNING", steps: [makeStep("a"), makeStep("b"), makeStep("c")] });
      await storage.saveStatus(run);
      const started = new Date();
      await storage.saveStep(id, makeStep("b", { status: "RUNNING", startedAt: started, attempts: 1, workerId: "w1" }));
      const got = await storage.getStatus(id);
      expect(got!.steps.map((s) => s.status)).toEqual(["PENDING", "RUNNING", "PENDING"]);
      expect(got!.steps[1]).toEqual(makeStep("b", { status: "RUNNING", startedAt: started, attempts: 1, workerId: "w1" }));
      expect(got!.status).toBe("RUNNING");
      await storage.saveStep(
        id,
        makeStep("b", {
          status: "COMPLETED",
          startedAt: started,
          completedAt: new Date(started.getTime() + 7),
          durationMs: 7,
          result: { ok: [1, 2] },
          attempts: 1,
          workerId: "w1",
        }),
      );
      const after = await storage.getStatus(id);
      expect(after!.steps[1]!.result).toEqual({ ok: [1, 2] });
      expect(after!.steps[1]!.durationMs).toBe(7);
      expect(after!.steps.map((s) => s.stepName)).toEqual(["a", "b", "c"]);
    });

    it("never moves a step backwards", async () => {
      const id = uniqueId("backwards");
      await storage.saveStatus(makeRun(id, { status: "RUNNING", steps: [makeStep("a"), makeStep("b")] }));
      const t = new Date();
      await storage.saveStep(
        id,
        makeStep("a", { status: "COMPLETED", startedAt: t, completedAt: t, durationMs: 0, result: 1, attempts: 1 }),
      );
      await storage.saveStep(id, makeStep("a", { status: "RUNNING", startedAt: t, attempts: 1 }));
      await storage.saveStep(id, makeStep("a", { status: "PENDING" }));
      await storage.saveStep(id, makeStep("b", { status: "RUNNING", startedAt: t, attempts: 1 }));
      await storage.saveStep(id, makeStep("b", { status: "PENDING" }));
      const got = await storage.getStatus(id);
      expect(got!.steps[0]!.status).toBe("COMPLETED");
      expect(got!.steps[0]!.result).toBe(1);
      expect(got!.steps[1]!.status).toBe("RUNNING");
    });

    it("ignores a step of an unknown run", async () => {
      const id = uniqueId("ghost");
      await storage.saveStep(id, makeStep("a", { status: "RUNNING", startedAt: new Date() }));
      expect(await storage.getStatus(id)).toBeNull();
      expect((await storage.listPipelines()).some((s) => s.pipelineId === id)).toBe(false);
      expect((await storage.listPage({ q: id })).items).toEqual([]);
    });

    it("keeps concurrent writes of different steps of one run", async () => {
      const id = uniqueId("concurrent");
      const names = Array.from({ length: 12 }, (_, i) => `s${i}`);
      await storage.saveStatus(makeRun(id, { status: "RUNNING", pipelineType: "dataflow", steps: names.map((n) => makeStep(n)) }));
      const t = new Date();
      await Promise.all(
        names.map((n, i) =>
          storage.saveStep(
            id,
            makeStep(n, {
              status: i % 2 ? "COMPLETED" : "RUNNING",
              startedAt: t,
              completedAt: i % 2 ? t : null,
              durationMs: i % 2 ? i : null,
              result: i % 2 ? { i } : null,
              attempts: 1,
            }),
          ),
        ),
      );
      const got = await storage.getStatus(id);
      expect(got!.steps.map((s) => s.stepName)).toEqual(names);
      expect(got!.steps.map((s) => s.status)).toEqual(names.map((_, i) => (i % 2 ? "COMPLETED" : "RUNNING")));
      expect(got!.steps[3]!.result).toEqual({ i: 3 });
    });
  });
}
