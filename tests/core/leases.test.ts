/** Leases and shutdown of the tracking manager over memory storage (the Redis side: tests/redis/leases*). */
import { describe, expect, it, vi } from "vitest";
import { InMemoryBroker, InMemoryPipelineStorage, Pipeline, PipelineTrackingManager, type PipelineStatus } from "../../lib";
import { importedRun } from "./imported-run";
import { deferred, silentLogger, sleep } from "./helpers";

function manager(storage: InMemoryPipelineStorage, options: { leaseMs?: number; workerId?: string } = {}): PipelineTrackingManager {
  return new PipelineTrackingManager({ logger: silentLogger(), ...options }).withStorage(storage);
}

/** A process that died stops renewing; here, the manager's lease timers stop (its storage is shared and stays open). */
function stopRenewing(tracking: PipelineTrackingManager): void {
  (tracking as unknown as { leases: { stop(): void } }).leases.stop();
}

describe("leases (memory storage)", () => {
  it("a live run stays RUNNING past several lease periods: its lease is renewed", async () => {
    const storage = new InMemoryPipelineStorage();
    const tracking = manager(storage, { leaseMs: 60 });
    const release = deferred<void>();
    const task = await new Pipeline(new InMemoryBroker(), { name: "long" })
      .step("wait", () => release.promise)
      .withTracking(tracking)
      .kiq();
    // The subject of the test is time passing: five lease periods, with this manager sweeping all along.
    await sleep(300);
    expect(await tracking.sweepExpiredLeases()).toBe(0);
    expect((await tracking.getStatus(task.pipelineId))!.status).toBe("RUNNING");
    release.resolve();
    expect((await task.waitResult()).isErr).toBe(false);
    expect((await tracking.getStatus(task.pipelineId))!.status).toBe("COMPLETED");
    await tracking.close();
  });

  it("a run whose process stopped renewing is ended by another manager's sweep: FAILED 'worker lost: <broker workerId>'", async () => {
    const storage = new InMemoryPipelineStorage();
    const worker = manager(storage, { leaseMs: 60 });
    const dashboard = manager(storage, { leaseMs: 60 });
    const heard: PipelineStatus[] = [];
    dashboard.addListener((s) => void heard.push(s));
    const task = await new Pipeline(new InMemoryBroker({ workerId: "box:42" }), { name: "lost" })
      .step("hang", () => new Promise(() => {}))
      .step("next", () => 1)
      .withTracking(worker)
      .kiq();
    await vi.waitFor(async () => expect((await worker.getStatus(task.pipelineId))!.steps[0]!.status).toBe("RUNNING"));
    // The worker "dies": its timers stop, its run stays as it was.
    stopRenewing(worker);
    await vi.waitFor(async () => expect((await dashboard.getStatus(task.pipelineId))!.status).toBe("FAILED"), { timeout: 3000 });
    const lost = (await dashboard.getStatus(task.pipelineId))!;
    expect(lost.error).toBe("worker lost: box:42 (lease expired)");
    expect(lost.steps.map((s) => s.status)).toEqual(["FAILED", "CANCELLED"]);
    await vi.waitFor(() => expect(heard.some((s) => s.pipelineId === task.pipelineId && s.status === "FAILED")).toBe(true));
    await dashboard.close();
  });

  it("the manager's workerId names the lease; an imported RUNNING run without a lease is never swept", async () => {
    const storage = new InMemoryPipelineStorage();
    await storage.saveStatus(importedRun("imported-running", new Date(Date.now() - 3_600_000), "RUNNING"));
    const worker = manager(storage, { leaseMs: 60, workerId: "etl-7" });
    const task = await new Pipeline(new InMemoryBroker(), { name: "named" })
      .step("hang", () => new Promise(() => {}))
      .withTracking(worker)
      .kiq();
    stopRenewing(worker);
    const sweeper = manager(storage, { leaseMs: 60 });
    await vi.waitFor(async () => expect((await storage.getStatus(task.pipelineId))!.status).toBe("FAILED"), { timeout: 3000 });
    expect((await storage.getStatus(task.pipelineId))!.error).toMatch(/^worker lost: etl-7/);
    expect((await storage.getStatus("imported-running"))!.status).toBe("RUNNING");
    expect(await sweeper.sweepExpiredLeases()).toBe(0);
    await sweeper.close();
  });

  it("the memory storage judges expiry by the clock it is given", async () => {
    const storage = new InMemoryPipelineStorage();
    await storage.saveStatus(importedRun("clocked", new Date(), "RUNNING"));
    await storage.renewLeases(["clocked"], 60_000, "w:1");
    expect(await storage.sweepExpiredLeases(new Date(Date.now() + 59_000))).toEqual([]);
    const [ended] = await storage.sweepExpiredLeases(new Date(Date.now() + 61_000));
    expect(ended!.status).toMatchObject({ pipelineId: "clocked", status: "FAILED", error: "worker lost: w:1 (lease expired)" });
    expect(ended!.status.steps[0]!.status).toBe("FAILED");
  });

  it("rejects a lease shorter than 30 ms", () => {
    expect(() => new PipelineTrackingManager({ leaseMs: 5 })).toThrow(/leaseMs/);
  });
});

describe("shutdown (memory storage)", () => {
  it("waits for short runs, cancels the rest 'worker shut down', then refuses new runs", async () => {
    const storage = new InMemoryPipelineStorage();
    const tracking = manager(storage);
    const broker = new InMemoryBroker();
    const short = deferred<void>();
    const shortRun = await new Pipeline(broker, { name: "short" })
      .step("s", () => short.promise.then(() => "done"))
      .withTracking(tracking)
      .kiq();
    const longPipeline = new Pipeline(broker, { name: "long" })
      .step(
        "l",
        (_input, ctx) => new Promise((_resolve, reject) => ctx.signal.addEventListener("abort", () => reject(new Error("aborted")))),
      )
      .step("after", () => 1)
      .withTracking(tracking);
    const longRun = await longPipeline.kiq();
    const stopped = tracking.shutdown({ graceMs: 200 });
    await expect(longPipeline.kiq()).rejects.toThrow(/shutting down/);
    short.resolve();
    await stopped;
    const s = (await storage.getStatus(shortRun.pipelineId))!;
    const l = (await storage.getStatus(longRun.pipelineId))!;
    expect(s.status).toBe("COMPLETED");
    expect(l.status).toBe("CANCELLED");
    expect(l.error).toBe("worker shut down");
    expect(l.steps.map((st) => st.status)).toEqual(["CANCELLED", "CANCELLED"]);
    expect((await longRun.waitResult()).error).toBe("worker shut down");
    expect(tracking.activeRunIds).toEqual([]);
    expect(tracking.shutdown()).toBe(stopped);
  });

  it("with nothing running it resolves at once", async () => {
    const tracking = manager(new InMemoryPipelineStorage());
    const t0 = Date.now();
    await tracking.shutdown({ graceMs: 60_000 });
    expect(Date.now() - t0).toBeLessThan(1000);
  });
});
