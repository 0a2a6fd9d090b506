/** Storage contract: the change feed. */
import { beforeEach, describe, expect, it } from "vitest";
import type { StorageChange, TrackingStorage } from "../types";
import { eventually, makeRun, makeStep, uniqueId } from "./helpers";

export function describeChangeFeedContract(current: () => TrackingStorage): void {
  let storage: TrackingStorage;
  beforeEach(() => {
    storage = current();
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
}
