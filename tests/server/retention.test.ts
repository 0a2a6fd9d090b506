/**
 * Retention on its schedule (interval and first pass injected: milliseconds here, an hour in the
 * server): each pass deletes finished runs past RETENTION_DAYS in batches, never an unfinished or
 * a recent one, and the schedule keeps running passes.
 */
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { PipelineTrackingManager } from "../../lib/tracking/manager";
import type { PipelineStatus, Status } from "../../lib/tracking/models";
import { InMemoryPipelineStorage } from "../../lib/tracking/storage/memory";
import { startRetention, type Retention } from "../../server/retention";
import { silentLogger } from "./helpers";

const DAY_MS = 86_400_000;
let retention: Retention | undefined;
afterEach(() => retention?.stop());

function run(id: string, status: Status, ageMs: number): PipelineStatus {
  const startedAt = new Date(Date.now() - ageMs);
  const finished = status !== "RUNNING" && status !== "PENDING";
  return {
    pipelineId: id,
    pipelineName: "ret",
    status,
    pipelineType: "sequential",
    startedAt,
    completedAt: finished ? new Date(startedAt.getTime() + 10) : null,
    durationMs: finished ? 10 : null,
    steps: [],
    result: null,
    error: null,
  };
}

/** A logger whose "retention cleanup done" lines arrive in order, one promise each. */
function passLog() {
  const waiting: ((entry: { deleted: number; batches: number }) => void)[] = [];
  const arrived: { deleted: number; batches: number }[] = [];
  const logger = pino(
    { level: "info" },
    {
      write(line: string) {
        const entry = JSON.parse(line) as { msg: string; deleted: number; batches: number };
        if (entry.msg !== "retention cleanup done") return;
        const next = waiting.shift();
        if (next) next(entry);
        else arrived.push(entry);
      },
    },
  );
  const nextPass = () =>
    new Promise<{ deleted: number; batches: number }>((resolve) => {
      const ready = arrived.shift();
      if (ready) resolve(ready);
      else waiting.push(resolve);
    });
  return { logger, nextPass };
}

describe("retention", () => {
  it("removes old finished runs in batches on its schedule, and keeps doing so", async () => {
    const storage = new InMemoryPipelineStorage();
    const tracking = new PipelineTrackingManager({ logger: silentLogger }).withStorage(storage);
    for (let i = 0; i < 25; i++) await storage.saveStatus(run(`old-${i}`, i % 2 ? "FAILED" : "COMPLETED", 3 * DAY_MS + i));
    await storage.saveStatus(run("old-running", "RUNNING", 5 * DAY_MS));
    for (let i = 0; i < 3; i++) await storage.saveStatus(run(`recent-${i}`, "COMPLETED", DAY_MS / 2));

    const { logger, nextPass } = passLog();
    retention = startRetention({ tracking, days: 1, logger, firstPassAfterMs: 1, intervalMs: 20, batchSize: 10 });
    expect(await nextPass()).toMatchObject({ deleted: 25, batches: 3 });
    const left = (await tracking.listPage({ limit: 50 })).items.map((s) => s.pipelineId).sort();
    expect(left).toEqual(["old-running", "recent-0", "recent-1", "recent-2"]);

    // Runs that age past the window later go at a following pass.
    await storage.saveStatus(run("old-late", "CANCELLED", 2 * DAY_MS));
    let pass = await nextPass();
    while (pass.deleted === 0) pass = await nextPass();
    expect(pass).toMatchObject({ deleted: 1, batches: 1 });
    expect(await tracking.getStatus("old-late")).toBeNull();
    expect(await tracking.getStatus("old-running")).not.toBeNull();
  });

  it("works with a storage written before the limit existed (it deletes everything in one call)", async () => {
    class OldStorage extends InMemoryPipelineStorage {
      override cleanupOlderThan(cutoff: Date): Promise<number> {
        return super.cleanupOlderThan(cutoff);
      }
    }
    const storage = new OldStorage();
    const tracking = new PipelineTrackingManager({ logger: silentLogger }).withStorage(storage);
    for (let i = 0; i < 25; i++) await storage.saveStatus(run(`old-${i}`, "COMPLETED", 3 * DAY_MS));
    retention = startRetention({ tracking, days: 1, logger: silentLogger, firstPassAfterMs: 60_000, batchSize: 10 });
    expect(await retention.runOnce()).toBe(25);
    expect((await tracking.listPage()).items).toEqual([]);
  });

  it("runs one pass at a time: a pass asked for while one runs shares it", async () => {
    const storage = new InMemoryPipelineStorage();
    const tracking = new PipelineTrackingManager({ logger: silentLogger }).withStorage(storage);
    for (let i = 0; i < 5; i++) await storage.saveStatus(run(`old-${i}`, "COMPLETED", 3 * DAY_MS));
    retention = startRetention({ tracking, days: 1, logger: silentLogger, firstPassAfterMs: 60_000, batchSize: 2 });
    const [a, b] = await Promise.all([retention.runOnce(), retention.runOnce()]);
    expect(a).toBe(5);
    expect(b).toBe(5);
    expect(retention.nextRun().getTime()).toBeGreaterThan(Date.now());
  });
});
