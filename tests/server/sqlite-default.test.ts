/**
 * The production entry with its default storage, a SQLite file at PIPEWATCH_DB: restarts keep every
 * run and count and never back-fill again; files it cannot use refuse the start with one line; the
 * CLI reads the same file. Entry started through tests/server/entry.ts (which rebuilds the bundle).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, existsSync, writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SqlitePipelineStorage } from "../../lib";
import { isFinished, type PipelineSummary } from "../../lib/tracking/models";
import { makeRun, makeStep } from "../../lib/tracking/storage/contract/helpers";
import { loadBetterSqlite3 } from "../../lib/tracking/storage/sqlite/driver";
import { buildServerEntry, startEntry as spawnEntry, stopGracefully, waitForLog, type StartedEntry } from "./entry";
import { ROOT, listEverything, startRefused, tempDir, until, type Listing } from "./sqlite-entry";
import { silentLogger } from "./helpers";

const children: ChildProcess[] = [];
const temp = tempDir("default");

beforeAll(() => buildServerEntry(), 60_000);

afterAll(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  temp.remove();
});

const startEntry = (env: Record<string, string>): Promise<StartedEntry> => spawnEntry(env, children);
const BACKFILLED = "demo history back-filled";
const BACKFILL_SKIPPED = "demo history back-fill skipped: the storage already holds runs";

const byId = (items: PipelineSummary[]) => new Map(items.map((item) => [item.pipelineId, item]));
const backfilledIn = (listing: Listing) => listing.items.filter((i) => i.pipelineId.startsWith("backfill-")).length;

describe("node dist/server/index.js over SQLite", () => {
  it("keeps every run and count across restarts, and back-fills only the first, empty start", async () => {
    const path = temp.file("restarts/data/pipewatch.db");
    const first = await startEntry({ PIPEWATCH_DB: path });
    expect(first.logs.find((l) => l.msg === "pipewatch server listening")).toMatchObject({
      storage: "sqlite",
      health: { status: "healthy", storage: "sqlite", changeFeed: "live" },
    });
    const backfilled = Number((await waitForLog(first, BACKFILLED)).count);
    expect(backfilled).toBeGreaterThan(50);
    const beforeStop = await until(
      async () => {
        const listing = await listEverything(first.url);
        const live = listing.items.filter((i) => !i.pipelineId.startsWith("backfill-") && isFinished(i.status));
        return live.length >= 3 && backfilledIn(listing) === backfilled ? listing : null;
      },
      30_000,
      "three finished demo runs and the whole back-fill",
    );
    const finishedBefore = beforeStop.items.filter((i) => isFinished(i.status));
    const detailId = finishedBefore.find((i) => !i.pipelineId.startsWith("backfill-"))!.pipelineId;
    const detailBefore = await (await fetch(`${first.url}/api/pipelines/${detailId}`)).json();
    await stopGracefully(first);

    // DEMO=0: nothing new is written, so two starts in a row must list exactly the same.
    const second = await startEntry({ PIPEWATCH_DB: path, DEMO: "0" });
    const afterStop = await listEverything(second.url);
    await stopGracefully(second);
    const third = await startEntry({ PIPEWATCH_DB: path, DEMO: "0" });
    expect(await listEverything(third.url)).toEqual(afterStop);
    await stopGracefully(third);

    const after = byId(afterStop.items);
    for (const run of finishedBefore) expect(after.get(run.pipelineId)).toEqual(run);
    // The graceful stop ended every demo run: none is left RUNNING or PENDING in the file.
    expect(afterStop.items.filter((i) => !isFinished(i.status))).toEqual([]);
    expect(afterStop.counts.RUNNING + afterStop.counts.PENDING).toBe(0);
    for (const [status, n] of Object.entries(afterStop.counts)) {
      expect(n, status).toBe(afterStop.items.filter((i) => i.status === status).length);
    }
    expect(backfilledIn(afterStop)).toBe(backfilled);

    // The demo on again: it skips the back-fill and adds runs of its own next to the old ones.
    const fourth = await startEntry({ PIPEWATCH_DB: path });
    await waitForLog(fourth, BACKFILL_SKIPPED);
    expect(fourth.logs.some((l) => l.msg === BACKFILLED)).toBe(false);
    expect(await (await fetch(`${fourth.url}/api/pipelines/${detailId}`)).json()).toEqual(detailBefore);
    const withNew = await until(
      async () => {
        const listing = await listEverything(fourth.url);
        return listing.items.some((i) => !after.has(i.pipelineId)) ? listing : null;
      },
      10_000,
      "a new demo run",
    );
    const now = byId(withNew.items);
    for (const run of afterStop.items) expect(now.get(run.pipelineId)).toEqual(run);
    expect(backfilledIn(withNew)).toBe(backfilled);
    for (const status of ["COMPLETED", "FAILED", "CANCELLED"] as const) {
      expect(withNew.counts[status]).toBeGreaterThanOrEqual(afterStop.counts[status]);
    }
    await stopGracefully(fourth);
  }, 120_000);

  it("refuses a file it cannot use with one line naming it, and exits 1", async () => {
    const Sqlite = loadBetterSqlite3();
    const expectRefused = async (result: { code: number | null; stderr: string }, pattern: RegExp) => {
      expect(result.code).toBe(1);
      expect(result.stderr.trim().split("\n")).toHaveLength(1);
      expect(result.stderr).toMatch(pattern);
    };

    const newer = temp.file("newer/runs.db");
    await new SqlitePipelineStorage({ path: newer, logger: silentLogger }).close();
    const db = new Sqlite(newer);
    db.pragma("user_version = 99");
    db.close();
    await expectRefused(
      await startRefused({ PIPEWATCH_DB: newer }, children),
      /^pipewatch: The SQLite database .*newer\/runs\.db has schema version 99/,
    );

    // Root writes read-only files, so the entry runs as nobody then (like tests/sqlite/failures.test.ts).
    const readOnly = temp.file("ro/runs.db");
    await new SqlitePipelineStorage({ path: readOnly, logger: silentLogger }).close();
    chmodSync(temp.dir, 0o755);
    chmodSync(temp.file("ro"), 0o755);
    chmodSync(readOnly, 0o444);
    const asNobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    await expectRefused(
      await startRefused({ PIPEWATCH_DB: readOnly }, children, asNobody),
      /^pipewatch: Cannot (open|write) the SQLite database .*ro\/runs\.db/,
    );

    const notAFolder = temp.file("plain-file");
    writeFileSync(notAFolder, "x");
    await expectRefused(
      await startRefused({ PIPEWATCH_DB: `${notAFolder}/sub/runs.db` }, children),
      /^pipewatch: Cannot create the folder for the SQLite database .*plain-file\/sub\/runs\.db/,
    );

    const locked = temp.file("locked/runs.db");
    await new SqlitePipelineStorage({ path: locked, logger: silentLogger }).close();
    const locker = new Sqlite(locked);
    locker.exec("BEGIN IMMEDIATE");
    try {
      await expectRefused(await startRefused({ PIPEWATCH_DB: locked }, children), /^pipewatch: Cannot write the SQLite database .*locked/);
    } finally {
      locker.exec("ROLLBACK");
      locker.close();
    }

    await expectRefused(
      await startRefused({ PIPEWATCH_DB: "./data/" }, children),
      /^pipewatch: Invalid environment: PIPEWATCH_DB names a folder/,
    );
  }, 60_000);
});

describe("pipewatch status|cleanup with PIPEWATCH_DB", () => {
  const cli = (args: string[], env: Record<string, string>) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, ["--import", "tsx", "lib/cli/pipewatch.ts", ...args], {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? "", NODE_ENV: "production", ...env },
        stdio: ["ignore", "pipe", "pipe"],
      });
      children.push(child);
      let stdout = "";
      let stderr = "";
      child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
      child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
      child.on("error", reject);
      child.on("exit", (code) => resolve({ code, stdout, stderr }));
    });

  it("lists and shows the runs of a file, and cleans it", async () => {
    const path = temp.file("cli/runs.db");
    const storage = new SqlitePipelineStorage({ path, logger: silentLogger });
    const old = new Date(Date.now() - 10 * 86_400_000);
    await storage.saveStatus(makeRun("cli-old", { startedAt: old, completedAt: old, steps: [makeStep("a", { status: "COMPLETED" })] }));
    await storage.saveStatus(makeRun("cli-new", { pipelineName: "nightly", steps: [makeStep("a", { status: "COMPLETED" })] }));
    await storage.saveStatus(makeRun("cli-running", { status: "RUNNING", completedAt: null, steps: [makeStep("a")] }));
    await storage.close();

    const list = await cli(["status", "--list"], { PIPEWATCH_DB: path });
    expect(list).toMatchObject({ code: 0, stderr: "" });
    expect(list.stdout).toMatch(/^PIPELINE ID/);
    for (const id of ["cli-old", "cli-new", "cli-running"]) expect(list.stdout).toContain(id);
    const running = await cli(["status", "--list", "--status", "running"], { PIPEWATCH_DB: path });
    expect(running.stdout.trim().split("\n")).toHaveLength(2);
    expect((await cli(["status", "cli-new"], { PIPEWATCH_DB: path })).stdout).toContain("nightly");
    expect(await cli(["status", "cli-unknown"], { PIPEWATCH_DB: path })).toMatchObject({
      code: 1,
      stderr: 'error: no pipeline with id "cli-unknown"\n',
    });
    expect(await cli(["cleanup", "5"], { PIPEWATCH_DB: path })).toMatchObject({
      code: 0,
      stdout: "deleted 1 finished pipeline older than 5 days\n",
    });
    expect((await cli(["status", "--list"], { PIPEWATCH_DB: path })).stdout).not.toContain("cli-old");
  }, 30_000);

  it("refuses a missing file without creating it, and :memory:", async () => {
    const missing = temp.file("cli-missing/runs.db");
    const result = await cli(["status", "--list"], { PIPEWATCH_DB: missing });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`error: no SQLite database at ${missing}\n`);
    expect(existsSync(missing)).toBe(false);
    expect(existsSync(temp.file("cli-missing"))).toBe(false);
    const memory = await cli(["status", "--list"], { PIPEWATCH_DB: ":memory:" });
    expect(memory.code).toBe(1);
    expect(memory.stderr).toMatch(/^error: PIPEWATCH_DB=:memory: is the dashboard's in-memory storage/);
  }, 30_000);
});
