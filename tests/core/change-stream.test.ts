/**
 * The tracking manager's change stream: the one place its subscribers (listeners, the live server)
 * hear changes from. Local transitions and other managers' writes arrive once each, deletes from
 * anywhere arrive as `deleted`, stale versions are dropped, and a feed reset makes the stream read
 * the runs it told about again.
 */
import { describe, expect, it } from "vitest";
import {
  InMemoryBroker,
  InMemoryPipelineStorage,
  Pipeline,
  PipelineTrackingManager,
  type FeedEvents,
  type PipelineStatus,
  type StatusChange,
  type StorageChange,
} from "../../lib";
import { deferred, flush, silentLogger } from "./helpers";

/** A memory storage whose feed a test can pause (a gap), feed by hand and reset. */
class ControlledFeedStorage extends InMemoryPipelineStorage {
  paused = false;
  /** The first subscriber's (the dashboard's) handler and events; workers subscribe after it. */
  handler: ((change: StorageChange) => void) | null = null;
  events: FeedEvents | undefined;
  /** Reads that fail before the storage answers again (a connection still coming back). */
  failingReads = 0;

  override async getStatus(pipelineId: string): Promise<PipelineStatus | null> {
    if (this.failingReads > 0) {
      this.failingReads--;
      throw new Error("storage unavailable");
    }
    return super.getStatus(pipelineId);
  }

  override subscribe(handler: (change: StorageChange) => void, events?: FeedEvents): () => void {
    this.handler ??= handler;
    this.events ??= events;
    return super.subscribe((change) => {
      if (!this.paused) handler(change);
    });
  }
}

function heardBy(tracking: PipelineTrackingManager) {
  const statuses: StatusChange[] = [];
  const deleted: string[] = [];
  tracking.onChange("status", (change) => void statuses.push(change));
  tracking.onChange("deleted", (id) => void deleted.push(id));
  return { statuses, deleted, of: (id: string) => statuses.filter((c) => c.status.pipelineId === id).map((c) => c.status.status) };
}

const manager = (storage: InMemoryPipelineStorage) => new PipelineTrackingManager({ logger: silentLogger() }).withStorage(storage);

function run(storage: InMemoryPipelineStorage, gate?: Promise<void>) {
  const worker = manager(storage);
  return new Pipeline(new InMemoryBroker(), { name: "job" })
    .step("a", async () => {
      await gate;
      return 1;
    })
    .withTracking(worker);
}

describe("the change stream", () => {
  it("hears this manager's transitions (with their lifecycle events) and another manager's writes, each once", async () => {
    const storage = new InMemoryPipelineStorage();
    const dashboard = manager(storage);
    const heard = heardBy(dashboard);

    const own = new Pipeline(new InMemoryBroker(), { name: "own" }).step("a", () => 1).withTracking(dashboard);
    const ownTask = await own.kiq();
    await ownTask.waitResult();
    const remoteTask = await run(storage).kiq();
    await remoteTask.waitResult();
    await flush();

    expect(heard.of(ownTask.pipelineId)).toEqual(["RUNNING", "RUNNING", "RUNNING", "COMPLETED"]);
    const ownChanges = heard.statuses.filter((c) => c.status.pipelineId === ownTask.pipelineId);
    expect(ownChanges.every((c) => c.local)).toBe(true);
    expect(ownChanges.map((c) => c.events.map((e) => e.kind))).toEqual([
      ["pipelineStart"],
      ["stepStart"],
      ["stepComplete"],
      ["pipelineComplete"],
    ]);
    expect(heard.of(remoteTask.pipelineId)).toEqual(["RUNNING", "RUNNING", "RUNNING", "COMPLETED"]);
    expect(
      heard.statuses.filter((c) => c.status.pipelineId === remoteTask.pipelineId).every((c) => !c.local && c.events.length === 0),
    ).toBe(true);
  });

  it("hears deletes from anywhere: another manager, its own delete, and cleanup", async () => {
    const storage = new InMemoryPipelineStorage();
    const dashboard = manager(storage);
    const heard = heardBy(dashboard);
    const worker = manager(storage);
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) {
      const task = await run(storage).kiq();
      await task.waitResult();
      ids.push(task.pipelineId);
    }
    await storage.saveStatus({ ...sample, pipelineId: "imported-old", status: "COMPLETED", completedAt: new Date(1_000) });
    await worker.deletePipeline(ids[0]!);
    await dashboard.deletePipeline(ids[1]!);
    expect(await dashboard.cleanupOlderThan({ days: 1 })).toBe(1);
    expect(heard.deleted).toEqual([...ids, "imported-old"]);
  });

  it("drops a version it has already seen, and starts counting again in a new epoch", async () => {
    const storage = new ControlledFeedStorage();
    const dashboard = manager(storage);
    const heard = heardBy(dashboard);
    const status = (s: PipelineStatus["status"]) => ({ ...sample, status: s });
    const deliver = (version: number, s: PipelineStatus["status"], epoch = "e1") =>
      storage.handler!({ pipelineId: "r1", version, origin: "elsewhere", deleted: false, epoch, status: status(s) });
    deliver(5, "RUNNING");
    deliver(3, "PENDING");
    deliver(5, "PENDING");
    deliver(6, "COMPLETED");
    deliver(1, "FAILED", "e2");
    await flush();
    expect(heard.of("r1")).toEqual(["RUNNING", "COMPLETED", "FAILED"]);
  });

  it("after a feed reset reads every run it told about again: changed ones as status, vanished ones as deleted", async () => {
    const storage = new ControlledFeedStorage();
    const dashboard = manager(storage);
    const heard = heardBy(dashboard);
    const gate = deferred();
    const slow = await run(storage, gate.promise).kiq();
    const gone = await run(storage).kiq();
    await gone.waitResult();
    await flush();
    expect(heard.of(slow.pipelineId).at(-1)).toBe("RUNNING");

    storage.paused = true; // the gap: nothing of this reaches the stream
    gate.resolve();
    await slow.waitResult();
    await storage.deletePipeline(gone.pipelineId);
    storage.paused = false;
    expect(heard.of(slow.pipelineId).at(-1)).toBe("RUNNING");

    storage.events!.onReset!();
    await expect.poll(() => heard.of(slow.pipelineId).at(-1)).toBe("COMPLETED");
    await expect.poll(() => heard.deleted).toEqual([gone.pipelineId]);
  });

  it("never announces a stored copy of a run executing here (it may lag behind), but obeys a cancel from elsewhere", async () => {
    const storage = new ControlledFeedStorage();
    const dashboard = manager(storage);
    const heard = heardBy(dashboard);
    const gate = deferred();
    const pipeline = new Pipeline(new InMemoryBroker(), { name: "here" })
      .step("a", async () => {
        await gate.promise;
        return 1;
      })
      .withTracking(dashboard);
    const task = await pipeline.kiq();
    const id = task.pipelineId;
    const stale = { ...sample, pipelineId: id, status: "PENDING" as const };
    storage.handler!({ pipelineId: id, version: 50, origin: null, deleted: false, status: stale });
    await flush();
    expect(heard.statuses.filter((c) => c.status.pipelineId === id && !c.local)).toEqual([]);

    const cancelled = { ...sample, pipelineId: id, status: "CANCELLED" as const };
    storage.handler!({ pipelineId: id, version: 51, origin: "elsewhere", deleted: false, status: cancelled });
    const result = await task.waitResult({ timeoutMs: 5_000 });
    gate.resolve();
    expect(result.isErr).toBe(true);
    expect(heard.of(id).at(-1)).toBe("CANCELLED");
  });

  it("after a reset, reads that fail (the storage not back yet) are tried again", async () => {
    const storage = new ControlledFeedStorage();
    const dashboard = manager(storage);
    const heard = heardBy(dashboard);
    const kept = await run(storage).kiq();
    const gone = await run(storage).kiq();
    await Promise.all([kept.waitResult(), gone.waitResult()]);
    await flush();
    storage.paused = true;
    await storage.deletePipeline(gone.pipelineId);
    storage.paused = false;
    storage.failingReads = 3;
    const before = heard.of(kept.pipelineId).length;
    storage.events!.onReset!();
    await expect.poll(() => heard.deleted, { timeout: 5_000 }).toEqual([gone.pipelineId]);
    await expect.poll(() => heard.of(kept.pipelineId).length).toBe(before + 1);
    expect(storage.failingReads).toBe(0);
  });

  it("a subscriber that throws never stops the others", async () => {
    const storage = new InMemoryPipelineStorage();
    const dashboard = manager(storage);
    dashboard.onChange("status", () => {
      throw new Error("subscriber broke");
    });
    const heard = heardBy(dashboard);
    const task = await new Pipeline(new InMemoryBroker())
      .step("a", () => 1)
      .withTracking(dashboard)
      .kiq();
    await task.waitResult();
    expect(heard.of(task.pipelineId).at(-1)).toBe("COMPLETED");
  });

  it("is refused before a storage is set", () => {
    expect(() => new PipelineTrackingManager().onChange("status", () => undefined)).toThrow("No tracking storage configured");
  });
});

const sample: PipelineStatus = {
  pipelineId: "r1",
  pipelineName: "job",
  status: "RUNNING",
  pipelineType: "sequential",
  startedAt: new Date(0),
  completedAt: null,
  durationMs: null,
  steps: [],
  result: null,
  error: null,
};
