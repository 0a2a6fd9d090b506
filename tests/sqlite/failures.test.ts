/** What the SQLite storage does when things go wrong: killed writers, unwritable files, newer schemas, locks. */
import { chmodSync, mkdirSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { SqlitePipelineStorage, SqliteStorageError, WORKER_LOST_PREFIX, type PipelineStatus } from "../../lib";
import { loadBetterSqlite3 } from "../../lib/tracking/storage/sqlite/driver";
import { makeRun, makeStep } from "../../lib/tracking/storage/contract/helpers";
import { startChild } from "./child";
import { silentLogger, tempDir, until } from "./helpers";

const temp = tempDir("failures");
afterAll(() => temp.remove());
const Sqlite = loadBetterSqlite3();
const logger = silentLogger();

/** Opens `path` as another user when this is root (root writes read-only files), else here. */
async function openElsewhere(path: string): Promise<string> {
  if (process.getuid?.() !== 0) {
    try {
      await new SqlitePipelineStorage({ path, logger }).close();
      return "opened";
    } catch (err) {
      return `error: ${(err as Error).message}`;
    }
  }
  const child = startChild(["open", path], { uid: 65534, gid: 65534 });
  await child.exited;
  return child.output().trim();
}

describe("SqlitePipelineStorage failures", () => {
  it("a writer killed mid-burst leaves a sound file, and its leased run ends through a sweep", async () => {
    const path = temp.file("killed/runs.db");
    const child = startChild(["burst", path]);
    await child.line("ready");
    const storage = new SqlitePipelineStorage({ path, logger });
    // Killed while it writes: some of its bursts are in the file already.
    await until(async () => (await storage.countByStatus()).RUNNING > 1000, 10_000, "a burst of writes");
    child.process.kill("SIGKILL");
    expect(await child.exited).toBeNull();

    const db = new Sqlite(path);
    expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
    db.close();
    const held = `held-${child.process.pid}`;
    const ended = await until(
      async () => (await storage.sweepExpiredLeases()).find((e) => e.status.pipelineId === held),
      5000,
      "the lease sweep",
    );
    expect(ended.workerId).toBe("doomed-worker");
    const stored = (await storage.getStatus(held))!;
    expect(stored.status).toBe("FAILED");
    expect(stored.error!.startsWith(`${WORKER_LOST_PREFIX}doomed-worker`)).toBe(true);
    expect(stored.steps[0]!.status).toBe("FAILED");
    // Runs it wrote without a lease are left as they are.
    expect((await storage.countByStatus()).RUNNING).toBeGreaterThanOrEqual(1000);
    await storage.close();
  });

  it("refuses a read-only file and a folder it cannot write, with the path in the message", async () => {
    const path = temp.file("ro/runs.db");
    await new SqlitePipelineStorage({ path, logger }).close();
    chmodSync(temp.file("ro"), 0o755);
    chmodSync(temp.dir, 0o755);
    chmodSync(path, 0o444);
    expect(await openElsewhere(path)).toMatch(/^error: Cannot (open|write) the SQLite database .*ro\/runs\.db/);
    const closed = temp.file("closed");
    mkdirSync(closed, { mode: 0o555 });
    chmodSync(closed, 0o555);
    expect(await openElsewhere(`${closed}/sub/runs.db`)).toMatch(/^error: Cannot create the folder/);
    expect(await openElsewhere(`${closed}/runs.db`)).toMatch(/^error: Cannot (open|write) the SQLite database/);
  });

  it("refuses a database with a newer schema, and creates a missing folder", async () => {
    const path = temp.file("deep/er/runs.db");
    await new SqlitePipelineStorage({ path, logger }).close();
    const db = new Sqlite(path);
    db.pragma("user_version = 99");
    db.close();
    expect(() => new SqlitePipelineStorage({ path, logger })).toThrow(SqliteStorageError);
    expect(() => new SqlitePipelineStorage({ path, logger })).toThrow(/schema version 99, newer than this version of pipewatch knows/);
  });

  it("a locked database: refused at start, and later writes are buffered and retried, never thrown", async () => {
    const path = temp.file("locked/runs.db");
    const storage = new SqlitePipelineStorage({ path, logger, busyTimeoutMs: 50 });
    const locker = new Sqlite(path);
    locker.exec("BEGIN IMMEDIATE");
    expect(() => new SqlitePipelineStorage({ path, logger, busyTimeoutMs: 50 })).toThrow(/locked by another connection/);

    const run = makeRun("locked-1", { status: "RUNNING", steps: [makeStep("a")] });
    await storage.saveStatus(run);
    await storage.saveStep(run.pipelineId, makeStep("a", { status: "RUNNING", startedAt: new Date(), attempts: 1 }));
    const end: PipelineStatus = { ...run, status: "COMPLETED", completedAt: new Date(), durationMs: 5 };
    expect(await storage.finishStatus(end)).toEqual({ applied: true, current: end });
    expect(storage.pendingWrites).toBe(3);
    // A delete's answer cannot be guessed while writes fail: its caller hears the failure.
    await expect(storage.deletePipeline("locked-1")).rejects.toThrow(/locked/);
    locker.exec("COMMIT");
    locker.close();
    await until(() => storage.pendingWrites === 0, 5000, "the retried writes");
    expect((await storage.getStatus(run.pipelineId))!.status).toBe("COMPLETED");
    await storage.close();
  });

  it("one corrupt row fails alone: skipped in lists, a clear error for itself, overwritten by a save", async () => {
    const path = temp.file("corrupt/runs.db");
    const storage = new SqlitePipelineStorage({ path, logger });
    const t = Date.now() - 10_000;
    for (const [i, id] of ["ok-1", "bad-steps", "bad-result", "ok-2"].entries()) {
      await storage.saveStatus(makeRun(id, { startedAt: new Date(t + i) }));
    }
    const db = new Sqlite(path);
    db.prepare("UPDATE runs SET steps = '{not json' WHERE id = 'bad-steps'").run();
    db.prepare("UPDATE runs SET result = 'nope' WHERE id = 'bad-result'").run();
    db.close();
    expect((await storage.listPipelines()).map((s) => s.pipelineId)).toEqual(["ok-2", "ok-1"]);
    expect((await storage.getHistory()).map((s) => s.pipelineId)).toEqual(["ok-2", "ok-1"]);
    expect((await storage.listPage()).items.map((s) => s.pipelineId)).toEqual(["ok-2", "bad-result", "bad-steps", "ok-1"]);
    await expect(storage.getStatus("bad-steps")).rejects.toThrow(/Corrupt pipeline record "bad-steps" in SQLite/);
    await expect(storage.getStatus("bad-result")).rejects.toThrow(/Corrupt pipeline record "bad-result"/);
    await storage.saveStatus(makeRun("bad-steps", { startedAt: new Date(t + 1) }));
    expect((await storage.getStatus("bad-steps"))!.status).toBe("COMPLETED");
    expect(await storage.deletePipeline("bad-result")).toBe(true);
    expect(await storage.countByStatus()).toMatchObject({ COMPLETED: 3 });
    await storage.close();
  });
});
