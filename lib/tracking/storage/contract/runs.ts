/** Storage contract: saving and reading runs: whole runs and single steps. */
import { beforeEach, describe, expect, it } from "vitest";
import type { PipelineStatus } from "../../models";
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
