/**
 * How watchers of distributed runs follow them cheaply: which feed changes make them read the run
 * (mayEndRun), at most one check in flight per run (CoalescedChecks), and the Redis storage's
 * two-field read of a run's state (getRunState), batched per tick.
 */
import { afterAll, describe, expect, it } from "vitest";
import { RedisPipelineStorage } from "../../lib/tracking/storage/redis/storage";
import { makeRun, makeStep } from "../../lib/tracking/storage/contract/helpers";
import { endingOrigin, mayEndRun } from "../../lib/broker/bullmq/names";
import { CoalescedChecks } from "../../lib/broker/bullmq/run-waiter";
import { connect, deleteKeys, silentLogger, uniquePrefix } from "../redis/helpers";

const redis = connect();
const prefix = uniquePrefix("watch");
afterAll(async () => {
  await deleteKeys(redis, prefix);
  await redis.quit();
});

describe("watching distributed runs", () => {
  it("reads on cancels, sweeps, deletes, replays and a broker's end, not on a broker's step writes", () => {
    const broker = "broker:4f1c";
    expect(mayEndRun({ origin: broker, deleted: false })).toBe(false);
    expect(mayEndRun({ origin: endingOrigin(broker), deleted: false })).toBe(true);
    expect(mayEndRun({ origin: broker, deleted: true })).toBe(true);
    expect(mayEndRun({ origin: null, deleted: false })).toBe(true);
    expect(mayEndRun({ origin: "3b8e-manager-uuid", deleted: false })).toBe(true);
  });

  it("runs one check at a time per run, and one more for the changes that came meanwhile", async () => {
    const calls: string[] = [];
    let release!: () => void;
    const checks = new CoalescedChecks(async (id) => {
      calls.push(id);
      if (calls.length === 1) await new Promise<void>((r) => (release = r));
    });
    checks.request("a");
    checks.request("a");
    checks.request("a");
    checks.request("b");
    expect(calls).toEqual(["a", "b"]);
    release();
    await new Promise((r) => setTimeout(r, 10));
    expect(calls).toEqual(["a", "b", "a"]);
  });

  it("getRunState answers status and error from two fields, null for no run, many in one tick", async () => {
    const storage = new RedisPipelineStorage(redis, { keyPrefix: prefix, logger: silentLogger() });
    const t = new Date();
    await storage.saveStatus(makeRun("w-running", { status: "RUNNING", startedAt: t, steps: [makeStep("a")] }));
    await storage.saveStatus(
      makeRun("w-failed", { status: "FAILED", startedAt: t, completedAt: t, durationMs: 0, error: "boom", steps: [makeStep("a")] }),
    );
    const [running, failed, missing] = await Promise.all(["w-running", "w-failed", "w-missing"].map((id) => storage.getRunState(id)));
    expect(running).toEqual({ status: "RUNNING", error: null });
    expect(failed).toEqual({ status: "FAILED", error: "boom" });
    expect(missing).toBeNull();
    await storage.close();
  });
});
