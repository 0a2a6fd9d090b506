/**
 * A worker process and an "API server" process share one Redis: cancels racing the runs' own ends,
 * and deletes of runs still executing. Whatever the interleaving, every side agrees with the storage:
 * the cancel's answer, the worker's waitResult and listeners, and the stored final state.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Redis } from "ioredis";
import { PipelineTrackingManager, RedisPipelineStorage, type CancelOutcome } from "../../lib";
import { REDIS_URL, connect, deleteKeys, silentLogger } from "./helpers";

const base = `pwtest:rp2:${randomBytes(4).toString("hex")}:`;
let redis: Redis;

beforeAll(() => {
  redis = connect();
});
afterAll(async () => {
  await deleteKeys(redis, base);
  redis.disconnect();
});

interface ChildResult {
  id: string;
  isErr: boolean;
  error: string | null;
  returnValue: unknown;
  heard: string | null;
}

/** Starts the worker; `onGo` runs when its runs are started; resolves with its results. */
function runWorker(prefix: string, runs: number, stepMs: number, onGo: (ids: string[]) => void): Promise<ChildResult[]> {
  return new Promise((resolve, reject) => {
    const child = spawn("npx", ["tsx", "tests/redis/fixtures/race-worker.ts", REDIS_URL, prefix, String(runs), String(stepMs)], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    let went = false;
    child.stdout.on("data", (d: Buffer) => {
      out += d;
      const go = out.split("\n").find((l) => l.startsWith("go "));
      if (go && !went) {
        went = true;
        onGo(go.slice(3).trim().split(" "));
      }
    });
    child.stderr.on("data", (d: Buffer) => (err += d));
    child.on("exit", (code) => {
      const line = out.split("\n").find((l) => l.startsWith("result "));
      if (code === 0 && line) resolve(JSON.parse(line.slice(7)) as ChildResult[]);
      else reject(new Error(`worker exited ${code}: ${err || out}`));
    });
  });
}

function apiManager(prefix: string): PipelineTrackingManager {
  return new PipelineTrackingManager({ logger: silentLogger() }).withStorage(
    new RedisPipelineStorage(redis, { keyPrefix: prefix, logger: silentLogger() }),
  );
}

describe("a run's end across processes (Redis)", () => {
  it("cancels racing a 100 ms step: the answer, the worker's result and listeners, and the storage agree", async () => {
    const prefix = `${base}race:`;
    const api = apiManager(prefix);
    const answers = new Map<string, Promise<CancelOutcome | null>>();
    const results = await runWorker(prefix, 40, 100, (ids) => {
      ids.forEach((id, i) => {
        // Spread around the step's end.
        answers.set(id, new Promise((r) => setTimeout(() => r(api.cancel(id)), 70 + ((i * 37) % 50))));
      });
    });
    expect(results).toHaveLength(40);
    const tally = { cancelled: 0, completed: 0 };
    for (const r of results) {
      const answer = await answers.get(r.id)!;
      const stored = await api.getStatus(r.id);
      expect(answer, r.id).not.toBeNull();
      expect(stored?.status, r.id).toMatch(/^(COMPLETED|CANCELLED)$/);
      if (answer!.cancelled) expect(stored!.status, `${r.id} answered cancelled`).toBe("CANCELLED");
      else expect(answer!.status.status, `${r.id} answered not cancelled`).toBe(stored!.status);
      if (stored!.status === "CANCELLED") {
        tally.cancelled++;
        expect(r, r.id).toMatchObject({ isErr: true, error: "Cancelled" });
        expect(stored!.error).toBe("Cancelled");
      } else {
        tally.completed++;
        expect(r, r.id).toMatchObject({ isErr: false, returnValue: "worked" });
      }
      expect(r.heard, `${r.id}: what the worker's listeners heard last`).toBe(stored!.status);
    }
    console.info(`cancel race over 40 runs: ${tally.cancelled} cancelled, ${tally.completed} completed first`);
    await api.close();
  }, 30_000);

  it("a DELETE of a run executing in the worker stops it there and the run stays deleted", async () => {
    const prefix = `${base}delete:`;
    const api = apiManager(prefix);
    const deletes = new Map<string, Promise<boolean>>();
    const results = await runWorker(prefix, 5, 2000, (ids) => {
      for (const id of ids) deletes.set(id, new Promise((r) => setTimeout(() => r(api.deletePipeline(id)), 30)));
    });
    for (const r of results) {
      expect(await deletes.get(r.id)!, r.id).toBe(true);
      expect(r, r.id).toMatchObject({ isErr: true, error: "Deleted", heard: null });
      expect(await api.getStatus(r.id), r.id).toBeNull();
    }
    expect((await api.listPage({ q: "race-" })).items).toEqual([]);
    expect(await api.countByStatus()).toEqual({ PENDING: 0, RUNNING: 0, COMPLETED: 0, FAILED: 0, CANCELLED: 0 });
    await api.close();
  }, 30_000);
});
