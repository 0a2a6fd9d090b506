/**
 * Storage contract: leases (optional: a storage without `renewLeases` and `sweepExpiredLeases` skips
 * this area). Leases here are 1 ms long, so a sweep soon after finds them expired by any clock.
 */
import { beforeEach, describe, expect, it } from "vitest";
import type { PipelineStatus } from "../../models";
import type { ExpiredLease, StorageChange, TrackingStorage } from "../types";
import { eventually, makeRun, makeStep, uniqueId } from "./helpers";

type LeasingStorage = TrackingStorage & Required<Pick<TrackingStorage, "renewLeases" | "sweepExpiredLeases">>;

const hasLeases = (storage: TrackingStorage): storage is LeasingStorage =>
  typeof storage.renewLeases === "function" && typeof storage.sweepExpiredLeases === "function";

/** Sweeps until `id` is ended by a sweep (the storage's clock must pass the 1 ms lease first). */
async function sweepUntilEnded(storage: LeasingStorage, id: string): Promise<ExpiredLease> {
  const deadline = Date.now() + 3000;
  for (;;) {
    const found = (await storage.sweepExpiredLeases()).find((e) => e.status.pipelineId === id);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no sweep ended ${id}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function runningRun(id: string): PipelineStatus {
  const t = new Date(Date.now() - 1000);
  return makeRun(id, {
    status: "RUNNING",
    startedAt: t,
    steps: [
      makeStep("done", {
        status: "COMPLETED",
        startedAt: t,
        completedAt: new Date(t.getTime() + 10),
        durationMs: 10,
        result: 1,
        attempts: 1,
      }),
      makeStep("busy", { status: "RUNNING", startedAt: new Date(t.getTime() + 10), attempts: 1, workerId: "host:1" }),
      makeStep("later"),
    ],
  });
}

export function describeLeasesContract(current: () => TrackingStorage): void {
  let storage: TrackingStorage;
  beforeEach(() => {
    storage = current();
  });

  describe("leases", () => {
    it("a sweep ends a run whose lease expired: FAILED 'worker lost', running steps FAILED, unstarted CANCELLED", async (ctx) => {
      if (!hasLeases(storage)) return ctx.skip();
      const s = storage;
      const id = uniqueId("lease-lost");
      const seen: StorageChange[] = [];
      const stop = s.subscribe((c) => {
        if (c.pipelineId === id) seen.push(c);
      });
      await s.saveStatus(runningRun(id));
      await s.renewLeases([id], 1, "host:1");
      const ended = await sweepUntilEnded(s, id);
      expect(ended.workerId).toBe("host:1");
      const stored = (await s.getStatus(id))!;
      expect(stored.status).toBe("FAILED");
      expect(stored.error).toMatch(/^worker lost: host:1/);
      expect(stored.completedAt).not.toBeNull();
      expect(stored.steps.map((st) => st.status)).toEqual(["COMPLETED", "FAILED", "CANCELLED"]);
      expect(stored.steps[0]!.result).toBe(1);
      expect(stored.steps[1]!.error).toMatch(/^worker lost: host:1/);
      expect(ended.status.status).toBe("FAILED");
      expect(await s.countByStatus()).toMatchObject({ RUNNING: 0, FAILED: 1 });
      // Announced like any end (the start was version 1), and swept only once.
      await eventually(() => expect(seen.some((c) => c.version >= 2 && !c.deleted)).toBe(true));
      expect(await s.sweepExpiredLeases()).toEqual([]);
      stop();
    });

    it("a live lease, a run that ended, a deleted run and an import without a lease are never swept", async (ctx) => {
      if (!hasLeases(storage)) return ctx.skip();
      const s = storage;
      const [live, ended, deleted, imported, expiring] = ["live", "ended", "deleted", "imported", "expiring"].map((l) =>
        uniqueId(`lease-${l}`),
      );
      for (const id of [live, ended, deleted, imported, expiring]) await s.saveStatus(runningRun(id!));
      await s.renewLeases([live!], 60_000, "host:2");
      await s.renewLeases([ended!, deleted!, expiring!], 1, "host:2");
      const done = { ...runningRun(ended!), status: "COMPLETED" as const, completedAt: new Date(), durationMs: 1000 };
      done.steps = done.steps.map((st) => ({ ...st, status: "COMPLETED" as const, completedAt: new Date(), durationMs: 5 }));
      expect((await s.finishStatus(done)).applied).toBe(true);
      expect(await s.deletePipeline(deleted!)).toBe(true);
      // A lease asked for a run that is finished or unknown makes none.
      await s.renewLeases([ended!, uniqueId("lease-unknown")], 1, "host:2");
      await sweepUntilEnded(s, expiring!);
      expect((await s.sweepExpiredLeases()).map((e) => e.status.pipelineId)).toEqual([]);
      expect((await s.getStatus(live!))!.status).toBe("RUNNING");
      expect((await s.getStatus(imported!))!.status).toBe("RUNNING");
      expect((await s.getStatus(ended!))!.status).toBe("COMPLETED");
      expect(await s.getStatus(deleted!)).toBeNull();
    });

    it("a renewal extends a lease already held, with the new length", async (ctx) => {
      if (!hasLeases(storage)) return ctx.skip();
      const s = storage;
      const [kept, lost] = [uniqueId("lease-kept"), uniqueId("lease-lost2")];
      for (const id of [kept, lost]) await s.saveStatus(runningRun(id!));
      await s.renewLeases([kept!, lost!], 1, "host:4");
      await s.renewLeases([kept!], 60_000, "host:4");
      await sweepUntilEnded(s, lost!);
      expect(await s.sweepExpiredLeases()).toEqual([]);
      expect((await s.getStatus(kept!))!.status).toBe("RUNNING");
    });

    it("two sweeps and the run's own late end race: the run ends exactly once", async (ctx) => {
      if (!hasLeases(storage)) return ctx.skip();
      const s = storage;
      const ids = Array.from({ length: 20 }, () => uniqueId("lease-race"));
      for (const id of ids) await s.saveStatus(runningRun(id));
      await s.renewLeases(ids, 1, "host:3");
      await new Promise((r) => setTimeout(r, 20));
      const finishes = ids.map((id) => {
        const run = runningRun(id);
        return s.finishStatus({ ...run, status: "COMPLETED", completedAt: new Date(), durationMs: 1000 });
      });
      const [a, b, ...ends] = await Promise.all([s.sweepExpiredLeases(), s.sweepExpiredLeases(), ...finishes]);
      const swept = [...a!, ...b!].map((e) => e.status.pipelineId);
      const completed = ids.filter((_, i) => ends[i]!.applied);
      expect(new Set(swept).size).toBe(swept.length);
      expect([...swept, ...completed].sort()).toEqual(ids.slice().sort());
      for (const id of ids) expect((await s.getStatus(id))!.status).toBe(swept.includes(id) ? "FAILED" : "COMPLETED");
    });
  });
}
