/**
 * Storage contract: the worker registry (optional: a storage without `recordWorker` and
 * `listWorkers` skips this area). Liveness by time (WORKER_OFFLINE_AFTER_MS) is too slow to wait
 * for here; a clean stop, which lists a worker offline at once, stands in for it.
 */
import { beforeEach, describe, expect, it } from "vitest";
import type { TrackingStorage } from "../types";
import type { WorkerInfo } from "../../../workers/types";
import { uniqueId } from "./helpers";

type RegistryStorage = TrackingStorage & Required<Pick<TrackingStorage, "recordWorker" | "listWorkers">>;

const hasRegistry = (storage: TrackingStorage): storage is RegistryStorage =>
  typeof storage.recordWorker === "function" && typeof storage.listWorkers === "function";

/** A heartbeat as a worker sends it; dates with milliseconds, so a storage must keep them. */
export function makeWorkerInfo(workerId: string, fields: Partial<WorkerInfo> = {}): WorkerInfo {
  return {
    workerId,
    hostname: "host-a",
    pid: 4242,
    startedAt: new Date(Date.now() - 60_123),
    concurrency: 4,
    active: [],
    processed: 0,
    failed: 0,
    pipelines: [],
    ...fields,
  };
}

export function describeWorkersContract(current: () => TrackingStorage): void {
  let storage: TrackingStorage;
  beforeEach(() => {
    storage = current();
  });

  describe("workers", () => {
    it("a heartbeat lists the worker online with everything it reported and lastSeenAt by the storage's clock", async (ctx) => {
      if (!hasRegistry(storage)) return ctx.skip();
      const id = uniqueId("worker");
      const info = makeWorkerInfo(id, {
        active: [{ pipelineId: "run-1", stepName: "load", startedAt: new Date(Date.now() - 1_234) }],
        processed: 7,
        failed: 2,
        pipelines: [
          {
            name: "report",
            pipelineType: "dataflow",
            steps: [
              { name: "a", dependsOn: [] },
              { name: "b", dependsOn: ["a"] },
            ],
          },
        ],
      });
      const before = Date.now();
      await storage.recordWorker(info);
      const listed = await storage.listWorkers();
      expect(listed).toHaveLength(1);
      const { lastSeenAt, status, ...reported } = listed[0]!;
      expect(status).toBe("online");
      expect(reported).toEqual(info);
      // Another host's clock may differ a little; the storage's is the one that counts.
      expect(Math.abs(lastSeenAt.getTime() - before)).toBeLessThan(5_000);
    });

    it("a heartbeat replaces the worker's previous one and moves lastSeenAt on", async (ctx) => {
      if (!hasRegistry(storage)) return ctx.skip();
      const id = uniqueId("worker");
      await storage.recordWorker(makeWorkerInfo(id, { processed: 1 }));
      const first = (await storage.listWorkers())[0]!;
      await storage.recordWorker(makeWorkerInfo(id, { processed: 2, active: [] }));
      const listed = await storage.listWorkers();
      expect(listed).toHaveLength(1);
      expect(listed[0]!.processed).toBe(2);
      expect(listed[0]!.lastSeenAt.getTime()).toBeGreaterThanOrEqual(first.lastSeenAt.getTime());
    });

    it("a stopped worker is listed offline at once, and online again when it heartbeats anew", async (ctx) => {
      if (!hasRegistry(storage)) return ctx.skip();
      const id = uniqueId("worker");
      await storage.recordWorker(makeWorkerInfo(id));
      await storage.recordWorker(makeWorkerInfo(id, { processed: 3 }), { stopped: true });
      let listed = await storage.listWorkers();
      expect(listed.map((w) => [w.workerId, w.status, w.processed])).toEqual([[id, "offline", 3]]);
      await storage.recordWorker(makeWorkerInfo(id));
      listed = await storage.listWorkers();
      expect(listed[0]!.status).toBe("online");
    });

    it("lists online workers first, then by workerId", async (ctx) => {
      if (!hasRegistry(storage)) return ctx.skip();
      const base = uniqueId("worker");
      await storage.recordWorker(makeWorkerInfo(`${base}-c`));
      await storage.recordWorker(makeWorkerInfo(`${base}-a`), { stopped: true });
      await storage.recordWorker(makeWorkerInfo(`${base}-b`));
      await storage.recordWorker(makeWorkerInfo(`${base}-d`), { stopped: true });
      const listed = await storage.listWorkers();
      expect(listed.map((w) => w.workerId)).toEqual([`${base}-b`, `${base}-c`, `${base}-a`, `${base}-d`]);
      expect(listed.map((w) => w.status)).toEqual(["online", "online", "offline", "offline"]);
    });

    it("keeps ids and host names as given (unicode, separators)", async (ctx) => {
      if (!hasRegistry(storage)) return ctx.skip();
      const id = `${uniqueId("worker")}:ü|\u0000 "x"`;
      await storage.recordWorker(makeWorkerInfo(id, { hostname: "hôte-1 <b>" }));
      const listed = await storage.listWorkers();
      expect(listed.map((w) => [w.workerId, w.hostname])).toEqual([[id, "hôte-1 <b>"]]);
    });

    it("an empty registry lists nothing", async (ctx) => {
      if (!hasRegistry(storage)) return ctx.skip();
      expect(await storage.listWorkers()).toEqual([]);
    });
  });
}
