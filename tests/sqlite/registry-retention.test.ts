/** The SQLite worker registry, and retention that leaves no rows behind. */
import { afterAll, describe, expect, it } from "vitest";
import { SqlitePipelineStorage, type WorkerInfo } from "../../lib";
import { loadBetterSqlite3 } from "../../lib/tracking/storage/sqlite/driver";
import { makeRun, makeStep } from "../../lib/tracking/storage/contract/helpers";
import { silentLogger, tempDir, until } from "./helpers";

const temp = tempDir("registry");
afterAll(() => temp.remove());
const logger = silentLogger();
const Sqlite = loadBetterSqlite3();

const worker = (workerId: string, fields: Partial<WorkerInfo> = {}): WorkerInfo => ({
  workerId,
  hostname: "host",
  pid: 42,
  startedAt: new Date("2026-11-30T01:02:03.456Z"),
  concurrency: 4,
  active: [{ pipelineId: "p-1", stepName: "load", startedAt: new Date("2026-11-30T01:02:04.000Z") }],
  processed: 7,
  failed: 1,
  pipelines: [{ name: "etl", pipelineType: "sequential", steps: [{ name: "load", dependsOn: [] }] }],
  ...fields,
});

function tableCounts(path: string): Record<string, number> {
  const db = new Sqlite(path, { readonly: true });
  const count = (table: string) => db.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;
  const out = { runs: count("runs"), changes: count("changes"), deletedChanges: 0 };
  out.deletedChanges = db.prepare("SELECT count(*) FROM changes WHERE deleted = 1").pluck().get() as number;
  db.close();
  return out;
}

describe("SqlitePipelineStorage worker registry", () => {
  it("lists workers by the database clock: online first, a stopped one offline at once, fields intact", async () => {
    const path = temp.file("workers.db");
    const storage = new SqlitePipelineStorage({ path, logger });
    const before = Date.now();
    await storage.recordWorker(worker("b:2"));
    await storage.recordWorker(worker("a:1"));
    await storage.recordWorker(worker("c:3", { processed: 9 }), { stopped: true });
    await storage.recordWorker(worker("b:2", { processed: 8, active: [] }));
    const listed = await storage.listWorkers();
    expect(listed.map((w) => [w.workerId, w.status])).toEqual([
      ["a:1", "online"],
      ["b:2", "online"],
      ["c:3", "offline"],
    ]);
    const a = listed[0]!;
    expect(a).toMatchObject({ ...worker("a:1"), status: "online" });
    expect(a.startedAt).toBeInstanceOf(Date);
    expect(a.active[0]!.startedAt).toEqual(new Date("2026-11-30T01:02:04.000Z"));
    expect(listed[1]).toMatchObject({ processed: 8, active: [] });
    // Same machine: the database clock and this one agree closely.
    expect(Math.abs(a.lastSeenAt.getTime() - before)).toBeLessThan(5000);
    // Another process on the same file sees them.
    const other = new SqlitePipelineStorage({ path, logger });
    expect((await other.listWorkers()).map((w) => w.workerId)).toEqual(["a:1", "b:2", "c:3"]);
    await other.close();
    await storage.close();
  });
});

describe("SqlitePipelineStorage retention", () => {
  it("cleanup and delete leave no run rows and one deletion change per run", async () => {
    const path = temp.file("cleanup.db");
    const storage = new SqlitePipelineStorage({ path, logger });
    const old = new Date("2025-01-01T00:00:00Z");
    for (let i = 0; i < 30; i++) {
      const id = `old-${i}`;
      await storage.saveStatus(makeRun(id, { status: "RUNNING", startedAt: old, steps: [makeStep("a"), makeStep("b")] }));
      await storage.saveStep(id, makeStep("a", { status: "COMPLETED", startedAt: old, completedAt: old, durationMs: 3 }));
      await storage.finishStatus(makeRun(id, { startedAt: old }));
    }
    await storage.saveStatus(makeRun("gone", { startedAt: new Date() }));
    expect(await storage.cleanupOlderThan(new Date("2025-06-01T00:00:00Z"))).toBe(30);
    expect(await storage.deletePipeline("gone")).toBe(true);
    expect(tableCounts(path)).toEqual({ runs: 0, changes: 31, deletedChanges: 31 });
    expect(await storage.countByStatus()).toEqual({ PENDING: 0, RUNNING: 0, COMPLETED: 0, FAILED: 0, CANCELLED: 0 });
    await storage.close();
  });

  it("trimming a subscriber's own changes is no gap: it hears no onReset, and still hears others", async () => {
    const path = temp.file("own-trim.db");
    const storage = new SqlitePipelineStorage({ path, logger, keepChanges: 10 });
    const other = new SqlitePipelineStorage({ path, logger });
    let resets = 0;
    const heard = new Set<string>();
    const stop = storage.subscribe((c) => heard.add(c.pipelineId), { onReset: () => resets++ });
    for (let i = 0; i < 300; i++) await storage.saveStatus(makeRun(`own-${i}`, { status: "RUNNING" }));
    await other.saveStatus(makeRun("from-other"));
    await until(() => heard.has("from-other"), 3000, "the other connection's change");
    expect(resets).toBe(0);
    expect(heard.size).toBe(301);
    stop();
    await other.close();
    await storage.close();
  });

  it("ttlSeconds deletes finished runs after their time; a subscriber behind a trim hears onReset", async () => {
    const path = temp.file("ttl.db");
    const storage = new SqlitePipelineStorage({ path, logger, ttlSeconds: 0.05, keepChanges: 10 });
    // The reader polls rarely, so the writes below outrun it.
    const reader = new SqlitePipelineStorage({ path, logger, keepChanges: 10, pollMs: 1000 });
    let resets = 0;
    const stop = reader.subscribe(() => {}, { onReset: () => resets++ });
    await storage.saveStatus(makeRun("ttl-running", { status: "RUNNING" }));
    await storage.saveStatus(makeRun("ttl-done"));
    await until(async () => (await storage.getStatus("ttl-done")) === null, 5000, "the run to expire");
    expect((await storage.getStatus("ttl-running"))!.status).toBe("RUNNING");
    expect(tableCounts(path).runs).toBe(1);
    const writes = Array.from({ length: 300 }, (_, i) => storage.saveStatus(makeRun(`ttl-many-${i}`, { status: "RUNNING" })));
    await Promise.all(writes);
    for (let i = 0; i < 300; i++) await storage.saveStep(`ttl-many-${i}`, makeStep("only", { status: "RUNNING", startedAt: new Date() }));
    await until(() => resets > 0, 5000, "onReset");
    expect(tableCounts(path).changes).toBeLessThan(300);
    stop();
    await reader.close();
    await storage.close();
  });
});
