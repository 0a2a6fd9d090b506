/**
 * The storage contract battery (like unstorage's `testDriver` or bull-board's adapter contract):
 * every `TrackingStorage` — memory, Redis, or a user's own — runs it against itself.
 *
 *   import { runStorageContract } from "pipewatch/lib/tracking/storage/contract";
 *   runStorageContract("postgres", async () => ({ storage: new PgStorage(pool), cleanup: () => truncate() }));
 *
 * `makeStorage` is called before every test and should give an empty storage (a fresh key prefix,
 * a fresh table); `cleanup` runs after the test. Each test also uses its own pipeline ids, so a
 * storage that leaks between tests shows up as a failure in the test that sees the leak, not as
 * silent cross-talk. Imports vitest, so only test files should import this module.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { computeMetrics } from "../metrics";
import type { PipelineMetrics } from "../metrics-types";
import { STATUSES, type PipelineStatus, type Status, type StepStatus } from "../models";
import { InvalidCursorError } from "./cursor";
import type { PipelineSummary } from "../models";
import type { StorageChange, TrackingStorage } from "./types";

export interface StorageHarness {
  storage: TrackingStorage;
  cleanup: () => Promise<void>;
}

const DAY_MS = 86_400_000;
const FINISHED: readonly Status[] = ["COMPLETED", "FAILED", "CANCELLED"];

let idCounter = 0;
/** A pipeline id no other test (or earlier run of this battery) uses. */
function uniqueId(label: string): string {
  idCounter++;
  return `ct-${label}-${Date.now().toString(36)}-${idCounter}-${Math.random().toString(36).slice(2, 8)}`;
}

function makeStep(stepName: string, fields: Partial<StepStatus> = {}): StepStatus {
  return {
    stepName,
    status: "PENDING",
    startedAt: null,
    completedAt: null,
    durationMs: null,
    result: null,
    error: null,
    dependsOn: [],
    attempts: 0,
    workerId: null,
    ...fields,
  };
}

/** A run in the shape the manager stores; finished statuses get completedAt/durationMs filled. */
function makeRun(pipelineId: string, fields: Partial<PipelineStatus> = {}): PipelineStatus {
  const startedAt = fields.startedAt ?? new Date();
  const status = fields.status ?? "COMPLETED";
  const finished = FINISHED.includes(status);
  const durationMs = fields.durationMs !== undefined ? fields.durationMs : finished ? 1000 : null;
  return {
    pipelineId,
    pipelineName: "contract",
    status,
    pipelineType: "sequential",
    startedAt,
    completedAt: finished && durationMs !== null ? new Date(startedAt.getTime() + Math.round(durationMs)) : null,
    durationMs,
    steps: [makeStep("only", { status: finished ? "COMPLETED" : "PENDING" })],
    result: null,
    error: status === "FAILED" ? "boom" : null,
    ...fields,
  };
}

/** Waits until `check` stops throwing (for storages whose change feed is asynchronous). */
async function eventually(check: () => void, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      check();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

async function pageThrough(storage: TrackingStorage, query: { status?: Status; q?: string; limit: number }): Promise<PipelineSummary[]> {
  const all: PipelineSummary[] = [];
  let cursor: string | null = null;
  for (let guard = 0; guard < 10_000; guard++) {
    const page = await storage.listPage({ ...query, cursor });
    expect(page.items.length).toBeLessThanOrEqual(query.limit);
    all.push(...page.items);
    if (!page.nextCursor) return all;
    expect(page.items.length).toBe(query.limit);
    cursor = page.nextCursor;
  }
  throw new Error("paging never ended");
}

function expectClose(actual: number | null, expected: number | null, what: string, rel: number, abs: number): void {
  if (expected === null || actual === null) {
    expect(actual, what).toBe(expected);
    return;
  }
  const diff = Math.abs(actual - expected);
  expect(diff <= abs || diff <= Math.abs(expected) * rel, `${what}: ${actual} vs ${expected}`).toBe(true);
}

/** Exact where a rollup can be exact; percentiles within 10% or 1 ms (histogram buckets are allowed). */
export function expectMetricsMatch(actual: PipelineMetrics, expected: PipelineMetrics): void {
  const exact = (a: number | null, e: number | null, what: string) => expectClose(a, e, what, 1e-9, 1e-6);
  const pct = (a: number | null, e: number | null, what: string) => expectClose(a, e, what, 0.1, 1);
  expect(actual.days).toBe(expected.days);
  expect(actual.from).toBe(expected.from);
  expect(actual.to).toBe(expected.to);
  for (const k of ["totalPipelines", "completed", "failed", "cancelled", "running"] as const) {
    expect(actual[k], k).toBe(expected[k]);
  }
  exact(actual.successRate, expected.successRate, "successRate");
  exact(actual.avgDurationMs, expected.avgDurationMs, "avgDurationMs");
  exact(actual.throughputPerMinute, expected.throughputPerMinute, "throughputPerMinute");
  pct(actual.p50DurationMs, expected.p50DurationMs, "p50DurationMs");
  pct(actual.p95DurationMs, expected.p95DurationMs, "p95DurationMs");
  expect(actual.failureReasons).toEqual(expected.failureReasons);
  expect(actual.busiestHours).toEqual(expected.busiestHours);
  expect(actual.daily.map((d) => d.date)).toEqual(expected.daily.map((d) => d.date));
  actual.daily.forEach((d, i) => {
    const e = expected.daily[i]!;
    expect({ ...d, successRate: 0, avgDurationMs: 0 }, d.date).toEqual({ ...e, successRate: 0, avgDurationMs: 0 });
    exact(d.successRate, e.successRate, `${d.date} successRate`);
    exact(d.avgDurationMs, e.avgDurationMs, `${d.date} avgDurationMs`);
  });
  expect(actual.steps.map((s) => s.stepName)).toEqual(expected.steps.map((s) => s.stepName));
  actual.steps.forEach((s, i) => {
    const e = expected.steps[i]!;
    expect(s.count, `${s.stepName} count`).toBe(e.count);
    expect(s.failed, `${s.stepName} failed`).toBe(e.failed);
    exact(s.avgDurationMs, e.avgDurationMs, `${s.stepName} avgDurationMs`);
    exact(s.maxDurationMs, e.maxDurationMs, `${s.stepName} maxDurationMs`);
    pct(s.p95DurationMs, e.p95DurationMs, `${s.stepName} p95DurationMs`);
  });
}

/** Deterministic pseudo-random numbers (mulberry32), so a failure reproduces. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function runStorageContract(name: string, makeStorage: () => Promise<StorageHarness>): void {
  describe(`TrackingStorage contract: ${name}`, () => {
    let harness: StorageHarness;
    let storage: TrackingStorage;

    beforeEach(async () => {
      harness = await makeStorage();
      storage = harness.storage;
    });
    afterEach(async () => {
      await harness.cleanup();
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
              status: "COMPLETED", startedAt: t0, completedAt: new Date(t0.getTime() + 1000), durationMs: 1000,
              result: { rows: [1, "two", null, { nested: true }], unicode: "héllo ✓", n: 1.5 }, attempts: 2, workerId: "host-a:1",
            }),
            makeStep("stats", {
              status: "FAILED", startedAt: new Date(t0.getTime() + 1000), completedAt: new Date(t0.getTime() + 2500), durationMs: 1500,
              error: "division by zero", dependsOn: ["load"], attempts: 1, workerId: "host-b:2",
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
        const running = makeRun(uniqueId("running"), { status: "RUNNING", steps: [makeStep("a", { status: "RUNNING", startedAt: new Date(), attempts: 1 }), makeStep("b")] });
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
        ...run, status, completedAt: new Date(run.startedAt.getTime() + 50), durationMs: 50,
        error: status === "COMPLETED" ? null : status === "FAILED" ? "boom" : "Cancelled",
        steps: run.steps.map((s) => ({ ...s, status: status === "COMPLETED" ? "COMPLETED" : "CANCELLED" })),
        ...fields,
      });

      it("writes the final state of a PENDING or RUNNING run once; a second end is refused and answered the stored one", async () => {
        const running = makeRun(uniqueId("fin-run"), { status: "RUNNING", startedAt: new Date(Date.now() - 1000), steps: [makeStep("a", { status: "RUNNING", startedAt: new Date(), attempts: 1 })] });
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

      it("lets exactly one of several concurrent ends win", async () => {
        const run = makeRun(uniqueId("fin-race"), { status: "RUNNING", steps: [makeStep("a", { status: "RUNNING", startedAt: new Date(), attempts: 1 })] });
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
        await storage.saveStep(id, makeStep("b", {
          status: "COMPLETED", startedAt: started, completedAt: new Date(started.getTime() + 7), durationMs: 7,
          result: { ok: [1, 2] }, attempts: 1, workerId: "w1",
        }));
        const after = await storage.getStatus(id);
        expect(after!.steps[1]!.result).toEqual({ ok: [1, 2] });
        expect(after!.steps[1]!.durationMs).toBe(7);
        expect(after!.steps.map((s) => s.stepName)).toEqual(["a", "b", "c"]);
      });

      it("never moves a step backwards", async () => {
        const id = uniqueId("backwards");
        await storage.saveStatus(makeRun(id, { status: "RUNNING", steps: [makeStep("a"), makeStep("b")] }));
        const t = new Date();
        await storage.saveStep(id, makeStep("a", { status: "COMPLETED", startedAt: t, completedAt: t, durationMs: 0, result: 1, attempts: 1 }));
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
        await Promise.all(names.map((n, i) => storage.saveStep(id, makeStep(n, {
          status: i % 2 ? "COMPLETED" : "RUNNING", startedAt: t, completedAt: i % 2 ? t : null,
          durationMs: i % 2 ? i : null, result: i % 2 ? { i } : null, attempts: 1,
        }))));
        const got = await storage.getStatus(id);
        expect(got!.steps.map((s) => s.stepName)).toEqual(names);
        expect(got!.steps.map((s) => s.status)).toEqual(names.map((_, i) => (i % 2 ? "COMPLETED" : "RUNNING")));
        expect(got!.steps[3]!.result).toEqual({ i: 3 });
      });
    });

    describe("listPipelines", () => {
      it("lists newest first, filters by status, honours limit", async () => {
        const base = Date.now() - 60_000;
        const statuses: Status[] = ["COMPLETED", "FAILED", "RUNNING", "COMPLETED", "CANCELLED", "PENDING", "COMPLETED", "FAILED"];
        const runs = statuses.map((status, i) => makeRun(uniqueId(`list${i}`), { status, startedAt: new Date(base + i * 1000) }));
        // Saved out of order: the storage sorts by startedAt, not by arrival.
        for (const i of [3, 0, 7, 5, 1, 6, 2, 4]) await storage.saveStatus(runs[i]!);
        const newestFirst = runs.slice().reverse().map((r) => r.pipelineId);

        const all = await storage.listPipelines();
        expect(all.map((s) => s.pipelineId)).toEqual(newestFirst);
        expect(all[0]).toEqual(runs[7]);

        const completed = await storage.listPipelines({ status: "COMPLETED" });
        expect(completed.map((s) => s.pipelineId)).toEqual([runs[6]!, runs[3]!, runs[0]!].map((r) => r.pipelineId));
        expect((await storage.listPipelines({ status: "PENDING" })).map((s) => s.pipelineId)).toEqual([runs[5]!.pipelineId]);

        expect((await storage.listPipelines({ limit: 3 })).map((s) => s.pipelineId)).toEqual(newestFirst.slice(0, 3));
        expect((await storage.listPipelines({ status: "FAILED", limit: 1 })).map((s) => s.pipelineId)).toEqual([runs[7]!.pipelineId]);
      });

      it("lists every run when no limit is given (guide §4.2: more than a thousand), history too (§4.4)", async () => {
        const base = Date.now() - 3_000_000;
        const runs = Array.from({ length: 1100 }, (_, i) => makeRun(uniqueId(`many${i}`), {
          startedAt: new Date(base + i * 1000), status: i % 10 === 0 ? "FAILED" : "COMPLETED",
        }));
        await Promise.all(runs.map((r) => storage.saveStatus(r)));
        const all = await storage.listPipelines();
        expect(all).toHaveLength(1100);
        expect(all[0]!.pipelineId).toBe(runs[1099]!.pipelineId);
        expect(all[1099]!.pipelineId).toBe(runs[0]!.pipelineId);
        expect(await storage.listPipelines({ status: "FAILED" })).toHaveLength(110);
        expect(await storage.listPipelines({ limit: 1050 })).toHaveLength(1050);
        expect(await storage.getHistory()).toHaveLength(1100);
        const since = await storage.getHistory({ since: runs[100]!.startedAt });
        expect(since).toHaveLength(1000);
        expect(since[999]!.pipelineId).toBe(runs[100]!.pipelineId);
        expect(await storage.getHistory({ since: runs[100]!.startedAt, limit: 7 })).toHaveLength(7);
      });

      it("orders runs with the same start time by id, newest-first order stays total", async () => {
        const at = new Date(Date.now() - 10_000);
        const ids = ["b", "a", "c"].map((l) => `${uniqueId("tie")}-${l}`);
        for (const id of ids) await storage.saveStatus(makeRun(id, { startedAt: at }));
        const listed = (await storage.listPipelines()).map((s) => s.pipelineId);
        expect(listed).toEqual(ids.slice().sort().reverse());
      });
    });

    describe("listPage", () => {
      async function seed(n: number, label: string, startMs = Date.now() - n * 1000 - 10_000): Promise<PipelineStatus[]> {
        const runs: PipelineStatus[] = [];
        const prefix = uniqueId(label);
        for (let i = 0; i < n; i++) {
          const status = STATUSES[i % STATUSES.length]!;
          // Every third pair shares a start time, so ties are paged too.
          const startedAt = new Date(startMs + Math.floor(i / 3) * 3000 + (i % 3 === 2 ? 0 : (i % 3) * 1000));
          runs.push(makeRun(`${prefix}-${String(i).padStart(3, "0")}`, {
            status, startedAt, pipelineName: i % 2 ? "Nightly-ETL" : "report",
          }));
        }
        await Promise.all(runs.map((r) => storage.saveStatus(r)));
        return runs;
      }
      const newestFirst = (runs: PipelineStatus[]) => runs.slice().sort((a, b) =>
        b.startedAt.getTime() - a.startedAt.getTime() || (a.pipelineId < b.pipelineId ? 1 : -1)).map((r) => r.pipelineId);

      it("pages through everything exactly once, in order", async () => {
        const runs = await seed(23, "page");
        const items = await pageThrough(storage, { limit: 5 });
        expect(items.map((s) => s.pipelineId)).toEqual(newestFirst(runs));
        const one = await pageThrough(storage, { limit: 1 });
        expect(one.map((s) => s.pipelineId)).toEqual(newestFirst(runs));
        const big = await storage.listPage({ limit: 500 });
        expect(big.items).toHaveLength(23);
        expect(big.nextCursor).toBeNull();
      });

      it("answers summaries: counts of steps, current step, error cut to 200 chars", async () => {
        const id = uniqueId("summary");
        const t = new Date(Date.now() - 1000);
        await storage.saveStatus(makeRun(id, {
          status: "RUNNING", startedAt: t, pipelineName: "sum",
          steps: [
            makeStep("a", { status: "COMPLETED", startedAt: t, completedAt: t, durationMs: 0 }),
            makeStep("b", { status: "FAILED", startedAt: t, completedAt: t, durationMs: 0, error: "x" }),
            makeStep("c", { status: "RUNNING", startedAt: t }),
            makeStep("d"),
          ],
          error: "e".repeat(500),
        }));
        const { items } = await storage.listPage({ q: id });
        expect(items).toEqual([{
          pipelineId: id, pipelineName: "sum", status: "RUNNING", pipelineType: "sequential",
          startedAt: t.toISOString(), completedAt: null, durationMs: null, error: "e".repeat(200),
          stepsTotal: 4, stepsCompleted: 1, stepsFailed: 1, currentStep: "c",
        } satisfies PipelineSummary]);
      });

      it("filters by status, with paging", async () => {
        const runs = await seed(30, "pstatus");
        for (const status of STATUSES) {
          const expected = newestFirst(runs.filter((r) => r.status === status));
          const items = await pageThrough(storage, { status, limit: 2 });
          expect(items.map((s) => s.pipelineId), status).toEqual(expected);
          expect(items.every((s) => s.status === status)).toBe(true);
        }
      });

      it("matches q as a case-insensitive prefix of the id or the name, not a substring", async () => {
        const runs = await seed(12, "pq");
        const prefix = runs[0]!.pipelineId.slice(0, -4);
        const byId = await pageThrough(storage, { q: prefix.toUpperCase(), limit: 4 });
        expect(byId.map((s) => s.pipelineId)).toEqual(newestFirst(runs));
        const byName = await pageThrough(storage, { q: "nightly-", limit: 4 });
        expect(byName.map((s) => s.pipelineId)).toEqual(newestFirst(runs.filter((r) => r.pipelineName === "Nightly-ETL")));
        expect((await storage.listPage({ q: "ETL" })).items).toEqual([]);
        expect((await storage.listPage({ q: prefix.slice(3) })).items).toEqual([]);
        const both = await pageThrough(storage, { q: "REPORT", status: "COMPLETED", limit: 1 });
        expect(both.map((s) => s.pipelineId)).toEqual(newestFirst(runs.filter((r) => r.pipelineName === "report" && r.status === "COMPLETED")));
        expect(both.length).toBeGreaterThan(0);
      });

      it("stays stable when new runs arrive between pages", async () => {
        const runs = await seed(15, "pstable");
        const first = await storage.listPage({ limit: 6 });
        expect(first.nextCursor).not.toBeNull();
        // Newer runs (the usual case) and one older than everything, inserted mid-paging.
        const newer = [makeRun(uniqueId("pnew1")), makeRun(uniqueId("pnew2"))];
        for (const r of newer) await storage.saveStatus(r);
        const rest: PipelineSummary[] = [];
        let cursor = first.nextCursor;
        while (cursor) {
          const page = await storage.listPage({ limit: 6, cursor });
          rest.push(...page.items);
          cursor = page.nextCursor;
        }
        expect([...first.items, ...rest].map((s) => s.pipelineId)).toEqual(newestFirst(runs));
        const fresh = await storage.listPage({ limit: 2 });
        expect(fresh.items.map((s) => s.pipelineId).sort()).toEqual(newer.map((r) => r.pipelineId).sort());
      });

      it("rejects an invalid cursor with InvalidCursorError", async () => {
        await seed(3, "pbad");
        for (const cursor of ["not-a-cursor", "!!!", Buffer.from("abc:def").toString("base64url"), Buffer.from("12:").toString("base64url")]) {
          await expect(storage.listPage({ cursor }), cursor).rejects.toBeInstanceOf(InvalidCursorError);
        }
      });

      it("answers an empty page with a null cursor on an empty match", async () => {
        expect(await storage.listPage({ q: uniqueId("nothing") })).toEqual({ items: [], nextCursor: null });
      });
    });

    describe("countByStatus", () => {
      it("counts every status, following updates and deletes", async () => {
        const zero = Object.fromEntries(STATUSES.map((s) => [s, 0]));
        expect(await storage.countByStatus()).toEqual(zero);
        const ids = STATUSES.map((s) => uniqueId(`count-${s}`));
        await Promise.all(STATUSES.map((status, i) => storage.saveStatus(makeRun(ids[i]!, { status }))));
        await storage.saveStatus(makeRun(uniqueId("count-extra"), { status: "COMPLETED" }));
        expect(await storage.countByStatus()).toEqual({ PENDING: 1, RUNNING: 1, COMPLETED: 2, FAILED: 1, CANCELLED: 1 });
        const running = (await storage.getStatus(ids[1]!))!;
        await storage.saveStatus({ ...running, status: "FAILED", completedAt: new Date(), durationMs: 5, error: "x" });
        await storage.deletePipeline(ids[2]!);
        expect(await storage.countByStatus()).toEqual({ PENDING: 1, RUNNING: 0, COMPLETED: 1, FAILED: 2, CANCELLED: 1 });
      });
    });

    describe("getHistory", () => {
      it("answers newest first, honours limit, since is inclusive", async () => {
        const base = Date.UTC(2026, 0, 10, 12);
        const runs = Array.from({ length: 10 }, (_, i) => makeRun(uniqueId(`hist${i}`), {
          startedAt: new Date(base + i * 3_600_000), status: i % 3 === 0 ? "FAILED" : "COMPLETED",
        }));
        for (const r of runs) await storage.saveStatus(r);
        const ids = runs.map((r) => r.pipelineId).reverse();
        expect((await storage.getHistory()).map((s) => s.pipelineId)).toEqual(ids);
        expect((await storage.getHistory({ limit: 4 })).map((s) => s.pipelineId)).toEqual(ids.slice(0, 4));
        const since = runs[6]!.startedAt;
        expect((await storage.getHistory({ since })).map((s) => s.pipelineId)).toEqual(ids.slice(0, 4));
        expect((await storage.getHistory({ since: new Date(since.getTime() + 1) })).map((s) => s.pipelineId)).toEqual(ids.slice(0, 3));
        expect((await storage.getHistory({ since, limit: 2 })).map((s) => s.pipelineId)).toEqual(ids.slice(0, 2));
        expect(await storage.getHistory({ since: new Date(base + 100 * 3_600_000) })).toEqual([]);
        const full = await storage.getHistory({ limit: 1 });
        expect(full[0]).toEqual(runs[9]);
      });
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
        await storage.saveStep(gone.pipelineId, makeStep("only", { status: "COMPLETED", startedAt: new Date(), completedAt: new Date(), durationMs: 1 }));
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
        const expectedIds = kept.slice().sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime()).map((r) => r.pipelineId);
        expect((await storage.listPipelines()).map((s) => s.pipelineId)).toEqual(expectedIds);
        expect((await pageThrough(storage, { limit: 2 })).map((s) => s.pipelineId)).toEqual(expectedIds);
        expect((await storage.getHistory()).map((s) => s.pipelineId)).toEqual(expectedIds);
        expect(await storage.countByStatus()).toEqual({ PENDING: 1, RUNNING: 1, COMPLETED: 1, FAILED: 1, CANCELLED: 0 });
        expect(await storage.cleanupOlderThan(cutoff)).toBe(0);
      });

      it("answers 0 on an empty store", async () => {
        expect(await storage.cleanupOlderThan(new Date())).toBe(0);
      });
    });

    describe("getMetrics", () => {
      it("matches computeMetrics over the same runs (pinned now)", async () => {
        const now = new Date();
        const random = seeded(20261128);
        const runs: PipelineStatus[] = [];
        const reasons = ["Timeout talking to db", "KeyError: 'id'\ntraceback...", "", "x".repeat(300)];
        for (let i = 0; i < 160; i++) {
          // Mostly inside a 7-day window, some before it.
          const ageMs = random() * 9 * DAY_MS;
          const startedAt = new Date(now.getTime() - ageMs);
          const roll = random();
          const status: Status = roll < 0.55 ? "COMPLETED" : roll < 0.8 ? "FAILED" : roll < 0.9 ? "CANCELLED" : roll < 0.95 ? "RUNNING" : "PENDING";
          const finished = FINISHED.includes(status);
          const stepNames = ["extract", "transform", "load"].slice(0, 1 + (i % 3));
          const steps = stepNames.map((stepName, k) => {
            const failedHere = status === "FAILED" && k === stepNames.length - 1;
            const durationMs = Math.round(random() * (k + 1) * 400) + (i % 7 === 0 ? 0.25 : 0);
            const stepStatus: Status = !finished && k === stepNames.length - 1 ? "RUNNING"
              : status === "CANCELLED" && k === stepNames.length - 1 ? "CANCELLED" : failedHere ? "FAILED" : "COMPLETED";
            const done = stepStatus === "COMPLETED" || stepStatus === "FAILED";
            return makeStep(stepName, {
              status: stepStatus, startedAt, completedAt: done ? new Date(startedAt.getTime() + durationMs) : null,
              durationMs: done ? durationMs : null, error: failedHere ? "step failed" : null, attempts: 1,
            });
          });
          runs.push(makeRun(uniqueId(`m${i}`), {
            status, startedAt, steps,
            durationMs: finished ? Math.round(random() * 5000) + (i % 5 === 0 ? 0.5 : 0) : null,
            error: status === "FAILED" ? reasons[i % reasons.length]! : null,
            pipelineType: i % 2 ? "dataflow" : "sequential",
          }));
        }
        // Some runs arrive the way the manager writes them: RUNNING first, steps, then the end.
        for (const [i, run] of runs.entries()) {
          if (i % 4 === 0 && FINISHED.includes(run.status)) {
            await storage.saveStatus({ ...run, status: "RUNNING", completedAt: null, durationMs: null, error: null,
              steps: run.steps.map((s) => makeStep(s.stepName)) });
            for (const step of run.steps) await storage.saveStep(run.pipelineId, step);
          }
          await storage.saveStatus(run);
        }
        for (const days of [1, 7, 30]) {
          const actual = await storage.getMetrics({ days, now });
          expectMetricsMatch(actual, computeMetrics(runs, { days, now }));
        }
        const week = await storage.getMetrics({ days: 7, now });
        expect(week.totalPipelines).toBeGreaterThan(50);
        expect(Object.keys(week.failureReasons).length).toBeGreaterThan(1);
      });

      it("answers zero-filled UTC days and a null success rate on an empty store", async () => {
        const now = new Date("2026-03-04T05:06:07.000Z");
        const m = await storage.getMetrics({ days: 7, now });
        expect(m).toEqual({
          days: 7, from: "2026-02-26T00:00:00.000Z", to: now.toISOString(),
          totalPipelines: 0, completed: 0, failed: 0, cancelled: 0, running: 0,
          successRate: null, avgDurationMs: null, p50DurationMs: null, p95DurationMs: null,
          throughputPerMinute: 0, failureReasons: {},
          daily: ["02-26", "02-27", "02-28", "03-01", "03-02", "03-03", "03-04"].map((d) => ({
            date: `2026-${d}`, total: 0, completed: 0, failed: 0, cancelled: 0, successRate: null, avgDurationMs: null,
          })),
          busiestHours: Array.from({ length: 24 }, (_, hour) => ({ hour, count: 0 })),
          steps: [],
        } satisfies PipelineMetrics);
      });
    });

    describe("subscribe", () => {
      it("announces every write with growing versions and the writer's origin; unsubscribe stops it", async () => {
        const id = uniqueId("feed");
        const seen: StorageChange[] = [];
        const stop = storage.subscribe((c) => {
          if (c.pipelineId === id) seen.push(c);
        });
        // Give a subscription over the network time to be established.
        await new Promise((r) => setTimeout(r, 50));
        const t = new Date();
        await storage.saveStatus(makeRun(id, { status: "RUNNING", startedAt: t, steps: [makeStep("a")] }), { origin: "writer-1" });
        await storage.saveStep(id, makeStep("a", { status: "RUNNING", startedAt: t, attempts: 1 }), { origin: "writer-1" });
        await storage.saveStatus(makeRun(id, { status: "COMPLETED", startedAt: t }), { origin: "writer-2" });
        await storage.deletePipeline(id, { origin: "writer-2" });
        await eventually(() => expect(seen).toHaveLength(4));
        const versions = seen.map((c) => c.version);
        expect(versions.slice().sort((a, b) => a - b)).toEqual(versions);
        expect(new Set(versions).size).toBe(4);
        expect(seen.map((c) => c.origin)).toEqual(["writer-1", "writer-1", "writer-2", "writer-2"]);
        expect(seen.map((c) => c.deleted)).toEqual([false, false, false, true]);
        for (const c of seen.slice(0, 3)) {
          if (c.status) expect(c.status.pipelineId).toBe(id);
        }
        if (seen[2]!.status) expect(seen[2]!.status.status).toBe("COMPLETED");

        stop();
        const after = uniqueId("feed-after");
        const late: StorageChange[] = [];
        const stop2 = storage.subscribe((c) => {
          if (c.pipelineId === after) late.push(c);
        });
        await new Promise((r) => setTimeout(r, 50));
        await storage.saveStatus(makeRun(after));
        await eventually(() => expect(late).toHaveLength(1));
        stop2();
        expect(seen).toHaveLength(4);
        expect(seen.some((c) => c.pipelineId === after)).toBe(false);
      });
    });
  });
}
