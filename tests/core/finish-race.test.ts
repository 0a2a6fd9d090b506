/**
 * A run's end is a compare-and-set in the storage: two managers sharing one storage (as two
 * processes share Redis) — a worker executing the run and an "API" that cancels or deletes it.
 * Whoever writes a final state first wins; the other side adopts it, and a deleted run stays deleted.
 */
import { describe, expect, it } from "vitest";
import {
  InMemoryBroker,
  InMemoryPipelineStorage,
  Pipeline,
  PipelineTrackingManager,
  type PipelineStatus,
  type StorageChange,
  type TrackingStorage,
} from "../../lib";
import { deferred, silentLogger, sleep } from "./helpers";

/** The worker's view of the shared storage, with a change feed that can lag (never delivers). */
function lagging(inner: TrackingStorage): TrackingStorage {
  return new Proxy(inner, {
    get(target, key, receiver) {
      if (key === "subscribe") return (_handler: (c: StorageChange) => void) => () => undefined;
      const value = Reflect.get(target, key, receiver) as unknown;
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

function setup(options: { workerHearsChanges: boolean }) {
  const shared = new InMemoryPipelineStorage();
  const worker = new PipelineTrackingManager({ logger: silentLogger() }).withStorage(options.workerHearsChanges ? shared : lagging(shared));
  const api = new PipelineTrackingManager({ logger: silentLogger() }).withStorage(shared);
  const heard: PipelineStatus[] = [];
  worker.addListener({ onPipelineComplete: (_id, status) => void heard.push(status) });
  return { shared, worker, api, heard };
}

describe("cancel racing the run's end across managers", () => {
  it("a cancel that lands first wins: the worker's late FAILED end is refused, it adopts CANCELLED and aborts the rest", async () => {
    const { shared, worker, api, heard } = setup({ workerHearsChanges: false });
    const gate = deferred<void>();
    let slowSignal: AbortSignal | null = null;
    // A dataflow: "fast" and "slow" run side by side.
    const pipe = new Pipeline(new InMemoryBroker())
      .step("fast", async () => {
        await gate.promise;
        throw new Error("fast broke");
      })
      .step("slow", async (_x: unknown, ctx) => {
        slowSignal = ctx.signal;
        await new Promise((r) => ctx.signal.addEventListener("abort", r));
      })
      .step("join", (x: unknown) => x, { dependsOn: ["fast", "slow"] })
      .withTracking(worker);
    const task = await pipe.kiq();
    const outcome = await api.cancel(task.pipelineId);
    expect(outcome?.cancelled).toBe(true);
    expect(outcome?.status.status).toBe("CANCELLED");
    // The worker never heard the cancel: its steps go on until its own end write is refused.
    await sleep(5); // on purpose: an abort reaching the worker would have arrived by now
    expect(slowSignal!.aborted).toBe(false);
    gate.resolve();
    const result = await task.waitResult({ timeoutMs: 2000 });
    expect(result).toMatchObject({ isErr: true, error: "Cancelled", returnValue: null });
    expect(slowSignal!.aborted).toBe(true);
    const stored = await shared.getStatus(task.pipelineId);
    expect(stored?.status).toBe("CANCELLED");
    expect(stored?.error).toBe("Cancelled");
    expect(heard.map((s) => s.status)).toEqual(["CANCELLED"]);
    expect(heard[0]).toEqual(stored);
    // A later local cancel is answered with the stored end, not a second one.
    expect(await worker.cancel(task.pipelineId)).toEqual({ cancelled: false, status: stored });
  });

  it("a worker whose COMPLETED end is refused resolves waitResult with the stored CANCELLED", async () => {
    const { shared, worker, api, heard } = setup({ workerHearsChanges: false });
    const gate = deferred<number>();
    const pipe = new Pipeline(new InMemoryBroker()).step("only", async () => gate.promise).withTracking(worker);
    const task = await pipe.kiq();
    expect((await api.cancel(task.pipelineId))?.cancelled).toBe(true);
    gate.resolve(42);
    const result = await task.waitResult({ timeoutMs: 2000 });
    expect(result).toMatchObject({ isErr: true, error: "Cancelled" });
    expect((await shared.getStatus(task.pipelineId))?.status).toBe("CANCELLED");
    expect(heard.map((s) => s.status)).toEqual(["CANCELLED"]);
    expect(worker.isActive(task.pipelineId)).toBe(false);
  });

  it("a cancel that reads RUNNING but writes after the run completed loses: { cancelled: false, status: COMPLETED }", async () => {
    const shared = new InMemoryPipelineStorage();
    const worker = new PipelineTrackingManager({ logger: silentLogger() }).withStorage(shared);
    const gate = deferred<number>();
    const pipe = new Pipeline(new InMemoryBroker()).step("only", async () => gate.promise).withTracking(worker);
    const task = await pipe.kiq();
    // The API's read sees RUNNING; the run completes before the API writes.
    const slowRead = new Proxy(shared, {
      get(target, key) {
        if (key === "getStatus") {
          return async (id: string) => {
            const status = await target.getStatus(id);
            gate.resolve(7);
            await task.waitResult();
            return status;
          };
        }
        const value = Reflect.get(target, key) as unknown;
        return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const api = new PipelineTrackingManager({ logger: silentLogger() }).withStorage(slowRead);
    const outcome = await api.cancel(task.pipelineId);
    expect(outcome?.cancelled).toBe(false);
    expect(outcome?.status.status).toBe("COMPLETED");
    expect(outcome?.status.result).toBe(7);
    expect(await task.waitResult()).toMatchObject({ isErr: false, returnValue: 7 });
    expect((await shared.getStatus(task.pipelineId))?.status).toBe("COMPLETED");
  });

  it("a cancel heard through the change feed stops the worker at once", async () => {
    const { shared, worker, api, heard } = setup({ workerHearsChanges: true });
    let aborted = false;
    const pipe = new Pipeline(new InMemoryBroker())
      .step("wait", async (_x: unknown, ctx) => {
        await new Promise((r) => ctx.signal.addEventListener("abort", r));
        aborted = true;
      })
      .withTracking(worker);
    const task = await pipe.kiq();
    expect((await api.cancel(task.pipelineId))?.cancelled).toBe(true);
    expect(await task.waitResult({ timeoutMs: 2000 })).toMatchObject({ isErr: true, error: "Cancelled" });
    expect(aborted).toBe(true);
    expect((await shared.getStatus(task.pipelineId))?.status).toBe("CANCELLED");
    expect(heard.at(-1)?.status).toBe("CANCELLED");
  });
});

describe("deleting a run another manager is executing", () => {
  it("the executing manager hears the delete, aborts the steps, resolves CANCELLED 'Deleted'; the run stays deleted", async () => {
    const { shared, worker, api } = setup({ workerHearsChanges: true });
    let aborted = false;
    const never = deferred<void>();
    const pipe = new Pipeline(new InMemoryBroker())
      .step("wait", async (_x: unknown, ctx) => {
        await new Promise((r) => ctx.signal.addEventListener("abort", r));
        aborted = true;
      })
      .step("next", async () => never.promise)
      .withTracking(worker);
    const task = await pipe.kiq();
    expect(await api.deletePipeline(task.pipelineId)).toBe(true);
    expect(await task.waitResult({ timeoutMs: 2000 })).toMatchObject({ isErr: true, error: "Deleted" });
    expect(aborted).toBe(true);
    await sleep(5); // on purpose: a late write recreating the deleted run would have landed by now
    expect(await shared.getStatus(task.pipelineId)).toBeNull();
    expect(await shared.listPipelines()).toEqual([]);
    expect(worker.isActive(task.pipelineId)).toBe(false);
  });

  it("a worker that never heard the delete does not bring the run back when it finishes", async () => {
    const { shared, worker, api, heard } = setup({ workerHearsChanges: false });
    const gate = deferred<string>();
    const pipe = new Pipeline(new InMemoryBroker()).step("only", async () => gate.promise).withTracking(worker);
    const task = await pipe.kiq();
    expect(await api.deletePipeline(task.pipelineId)).toBe(true);
    gate.resolve("done");
    expect(await task.waitResult({ timeoutMs: 2000 })).toMatchObject({ isErr: true, error: "Deleted" });
    expect(await shared.getStatus(task.pipelineId)).toBeNull();
    expect(await shared.countByStatus()).toEqual({ PENDING: 0, RUNNING: 0, COMPLETED: 0, FAILED: 0, CANCELLED: 0 });
    expect(heard).toEqual([]);
  });
});
