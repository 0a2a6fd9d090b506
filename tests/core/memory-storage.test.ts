import { describe, expect, it } from "vitest";
import { InMemoryPipelineStorage } from "../../lib";
import { runStorageContract } from "../../lib/tracking/storage/contract";
import type { PipelineStatus, Status } from "../../lib";

runStorageContract("InMemoryPipelineStorage", async () => {
  const storage = new InMemoryPipelineStorage();
  return { storage, cleanup: () => storage.close() };
});

function run(pipelineId: string, status: Status, startedAtMs: number): PipelineStatus {
  const finished = status === "COMPLETED" || status === "FAILED" || status === "CANCELLED";
  return {
    pipelineId,
    pipelineName: null,
    status,
    pipelineType: "sequential",
    startedAt: new Date(startedAtMs),
    completedAt: finished ? new Date(startedAtMs + 5) : null,
    durationMs: finished ? 5 : null,
    steps: [],
    result: null,
    error: null,
  };
}

describe("InMemoryPipelineStorage bounds", () => {
  it("evicts the oldest finished runs past maxPipelines", async () => {
    const storage = new InMemoryPipelineStorage({ maxPipelines: 5 });
    for (let i = 0; i < 12; i++) await storage.saveStatus(run(`r${String(i).padStart(2, "0")}`, "COMPLETED", 1000 + i));
    expect(storage.size).toBe(5);
    expect((await storage.listPipelines()).map((s) => s.pipelineId)).toEqual(["r11", "r10", "r09", "r08", "r07"]);
    expect(await storage.countByStatus()).toEqual({ PENDING: 0, RUNNING: 0, COMPLETED: 5, FAILED: 0, CANCELLED: 0 });
    expect(await storage.getStatus("r00")).toBeNull();
  });

  it("announces every evicted run as deleted, so live clients drop it too", async () => {
    const storage = new InMemoryPipelineStorage({ maxPipelines: 2 });
    const heard: string[] = [];
    storage.subscribe((c) => void heard.push(`${c.deleted ? "deleted" : "saved"} ${c.pipelineId}`));
    for (const id of ["a", "b", "c"]) await storage.saveStatus(run(id, "COMPLETED", 1000 + id.charCodeAt(0)));
    await storage.saveStatus(run("imported-older", "COMPLETED", 1));
    expect(heard).toEqual(["saved a", "saved b", "deleted a", "saved c", "deleted imported-older"]);
  });

  it("never evicts a running or pending run, even past the bound", async () => {
    const storage = new InMemoryPipelineStorage({ maxPipelines: 3 });
    await storage.saveStatus(run("old-running", "RUNNING", 1));
    await storage.saveStatus(run("old-pending", "PENDING", 2));
    for (let i = 0; i < 5; i++) await storage.saveStatus(run(`done${i}`, "FAILED", 100 + i));
    expect(storage.size).toBe(3);
    expect((await storage.listPipelines()).map((s) => s.pipelineId)).toEqual(["done4", "old-pending", "old-running"]);
    for (let i = 0; i < 3; i++) await storage.saveStatus(run(`live${i}`, "RUNNING", 200 + i));
    // Only unfinished runs are left: the store grows past its bound rather than drop one.
    expect(storage.size).toBe(5);
    expect(await storage.listPipelines({ status: "FAILED" })).toEqual([]);
  });

  it("rejects a non-positive bound", () => {
    expect(() => new InMemoryPipelineStorage({ maxPipelines: 0 })).toThrow(RangeError);
    expect(() => new InMemoryPipelineStorage({ maxPipelines: 1.5 })).toThrow(RangeError);
  });
});
