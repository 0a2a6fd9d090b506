/** Two processes on one SQLite file: a child records runs while this process's subscriber hears them. */
import { afterAll, describe, expect, it } from "vitest";
import { SqlitePipelineStorage, type StorageChange } from "../../lib";
import { startChild } from "./child";
import { silentLogger, tempDir, until } from "./helpers";
import { loadBetterSqlite3 } from "../../lib/tracking/storage/sqlite/driver";
import { makeRun, makeStep } from "../../lib/tracking/storage/contract/helpers";

const temp = tempDir("xproc");
afterAll(() => temp.remove());

describe("SqlitePipelineStorage across processes", () => {
  it("hears every run another process records, each within 250 ms, and reads its final state", async () => {
    const path = temp.file("shared.db");
    const storage = new SqlitePipelineStorage({ path, logger: silentLogger() });
    const heard = new Map<string, StorageChange[]>();
    const lags: number[] = [];
    const stop = storage.subscribe((change) => {
      if (!change.pipelineId.startsWith("xp-")) return;
      let list = heard.get(change.pipelineId);
      if (!list) {
        heard.set(change.pipelineId, (list = []));
        // The id carries the child's clock at its first write: one machine, one clock.
        lags.push(Date.now() - Number(change.pipelineId.split("-").pop()));
      }
      list.push(change);
    });

    const child = startChild(["record", path, "60"]);
    const ids = (await child.line("done ")).slice(5).trim().split(" ");
    expect(await child.exited).toBe(0);
    expect(ids).toHaveLength(60);

    // Every run's newest change (its row in the change table) reaches this subscriber.
    const db = new (loadBetterSqlite3())(path, { readonly: true });
    const newest = db.prepare("SELECT seq FROM changes WHERE pipeline_id = ?").pluck();
    await until(() => ids.every((id) => heard.get(id)?.some((c) => c.version === newest.get(id))), 3000, "every change");
    db.close();
    for (const id of ids) {
      const changes = heard.get(id)!;
      expect(changes.every((c) => c.origin === "child" && !c.deleted)).toBe(true);
      const versions = changes.map((c) => c.version);
      expect(versions).toEqual(versions.slice().sort((a, b) => a - b));
      expect((await storage.getStatus(id))!.status).toBe("COMPLETED");
    }
    lags.sort((a, b) => a - b);
    const at = (p: number) => lags[Math.min(lags.length - 1, Math.floor((p / 100) * lags.length))]!;
    console.log(`cross-process change lag over ${lags.length} runs: p50 ${at(50)} ms, p99 ${at(99)} ms, max ${lags.at(-1)} ms`);
    expect(lags.at(-1)!).toBeLessThan(250);
    stop();
    await storage.close();
  });

  it("two processes sweeping the same expired leases end each run exactly once", async () => {
    const path = temp.file("sweep.db");
    const storage = new SqlitePipelineStorage({ path, logger: silentLogger() });
    const ids = Array.from({ length: 40 }, (_, i) => `sweep-${i}`);
    for (const id of ids) await storage.saveStatus(makeRun(id, { status: "RUNNING", steps: [makeStep("a")] }));
    const child = startChild(["sweep", path, "1500"]);
    await child.line("ready");
    // Leases run out one after another over 800 ms, while both processes sweep.
    await Promise.all(ids.map((id, i) => storage.renewLeases([id], 1 + i * 20, "gone:1")));
    const mine: string[] = [];
    const deadline = Date.now() + 1500;
    while (Date.now() < deadline) {
      for (const e of await storage.sweepExpiredLeases()) mine.push(e.status.pipelineId);
      await new Promise((r) => setTimeout(r, 2));
    }
    const theirs = (await child.line("ended")).slice(6).trim().split(" ").filter(Boolean);
    console.log(`lease sweep race: this process ended ${mine.length}, the other ${theirs.length}`);
    expect([...mine, ...theirs].sort()).toEqual(ids.slice().sort());
    for (const id of ids) expect((await storage.getStatus(id))!.error).toMatch(/^worker lost: gone:1/);
    await storage.close();
  });
});
