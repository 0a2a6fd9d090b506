/** Storage contract: reading many runs: lists, pages, counts, history. */
import { beforeEach, describe, expect, it } from "vitest";
import { STATUSES, type PipelineStatus, type PipelineSummary, type Status } from "../../models";
import { InvalidCursorError } from "../cursor";
import type { TrackingStorage } from "../types";
import { makeRun, makeStep, pageThrough, uniqueId } from "./helpers";

export function describeListsContract(current: () => TrackingStorage): void {
  let storage: TrackingStorage;
  beforeEach(() => {
    storage = current();
  });

  describe("listPipelines", () => {
    it("lists newest first, filters by status, honours limit", async () => {
      const base = Date.now() - 60_000;
      const statuses: Status[] = ["COMPLETED", "FAILED", "RUNNING", "COMPLETED", "CANCELLED", "PENDING", "COMPLETED", "FAILED"];
      const runs = statuses.map((status, i) => makeRun(uniqueId(`list${i}`), { status, startedAt: new Date(base + i * 1000) }));
      // Saved out of order: the storage sorts by startedAt, not by arrival.
      for (const i of [3, 0, 7, 5, 1, 6, 2, 4]) await storage.saveStatus(runs[i]!);
      const newestFirst = runs
        .slice()
        .reverse()
        .map((r) => r.pipelineId);

      const all = await storage.listPipelines();
      expect(all.map((s) => s.pipelineId)).toEqual(newestFirst);
      expect(all[0]).toEqual(runs[7]);

      const completed = await storage.listPipelines({ status: "COMPLETED" });
      expect(completed.map((s) => s.pipelineId)).toEqual([runs[6]!, runs[3]!, runs[0]!].map((r) => r.pipelineId));
      expect((await storage.listPipelines({ status: "PENDING" })).map((s) => s.pipelineId)).toEqual([runs[5]!.pipelineId]);

      expect((await storage.listPipelines({ limit: 3 })).map((s) => s.pipelineId)).toEqual(newestFirst.slice(0, 3));
      expect((await storage.listPipelines({ status: "FAILED", limit: 1 })).map((s) => s.pipelineId)).toEqual([runs[7]!.pipelineId]);
    });

    it("lists every run when no limit is given (more than a thousand), history too", async () => {
      const base = Date.now() - 3_000_000;
      const runs = Array.from({ length: 1100 }, (_, i) =>
        makeRun(uniqueId(`many${i}`), {
          startedAt: new Date(base + i * 1000),
          status: i % 10 === 0 ? "FAILED" : "COMPLETED",
        }),
      );
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
        runs.push(
          makeRun(`${prefix}-${String(i).padStart(3, "0")}`, {
            status,
            startedAt,
            pipelineName: i % 2 ? "Nightly-ETL" : "report",
          }),
        );
      }
      await Promise.all(runs.map((r) => storage.saveStatus(r)));
      return runs;
    }
    const newestFirst = (runs: PipelineStatus[]) =>
      runs
        .slice()
        .sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime() || (a.pipelineId < b.pipelineId ? 1 : -1))
        .map((r) => r.pipelineId);

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
      await storage.saveStatus(
        makeRun(id, {
          status: "RUNNING",
          startedAt: t,
          pipelineName: "sum",
          steps: [
            makeStep("a", { status: "COMPLETED", startedAt: t, completedAt: t, durationMs: 0 }),
            makeStep("b", { status: "FAILED", startedAt: t, completedAt: t, durationMs: 0, error: "x" }),
            makeStep("c", { status: "RUNNING", startedAt: t }),
            makeStep("d"),
          ],
          error: "e".repeat(500),
        }),
      );
      const { items } = await storage.listPage({ q: id });
      expect(items).toEqual([
        {
          pipelineId: id,
          pipelineName: "sum",
          status: "RUNNING",
          pipelineType: "sequential",
          startedAt: t.toISOString(),
          completedAt: null,
          durationMs: null,
          error: "e".repeat(200),
          stepsTotal: 4,
          stepsCompleted: 1,
          stepsFailed: 1,
          currentStep: "c",
        } satisfies PipelineSummary,
      ]);
    });

    it("filters by status, with paging", async () => {
      const runs = await seed(30, "pstatus");
      for (const status of STATUSES) {
        const expected = newestFirst(runs.filter((r) => r.status === status));
        const items = await pageThrough(storage, { status, limit: 2 });
        expect(
          items.map((s) => s.pipelineId),
          status,
        ).toEqual(expected);
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
      expect(both.map((s) => s.pipelineId)).toEqual(
        newestFirst(runs.filter((r) => r.pipelineName === "report" && r.status === "COMPLETED")),
      );
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
      for (const cursor of [
        "not-a-cursor",
        "!!!",
        Buffer.from("abc:def").toString("base64url"),
        Buffer.from("12:").toString("base64url"),
      ]) {
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
      const runs = Array.from({ length: 10 }, (_, i) =>
        makeRun(uniqueId(`hist${i}`), {
          startedAt: new Date(base + i * 3_600_000),
          status: i % 3 === 0 ? "FAILED" : "COMPLETED",
        }),
      );
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
}
