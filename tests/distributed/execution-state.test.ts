/**
 * The execution-state scripts on a real Redis: the decisions that make distributed runs exactly-once.
 * Two finishes racing for the last two dependencies make the dependent ready once; a finish that
 * arrives twice counts once; a run that ended in the storage lets no step start.
 */
import { afterAll, describe, expect, it } from "vitest";
import { RedisPipelineStorage, type PipelineStatus } from "pipewatch";
import { executionScripts, parseClaim, parseComplete } from "../../lib/broker/bullmq/execution-state";
import { ExecutionKeys } from "../../lib/broker/bullmq/names";
import { connect, deleteKeys, silentLogger, uniquePrefix } from "../redis/helpers";

const redis = connect();
const prefix = uniquePrefix("xstate");
const storage = new RedisPipelineStorage(redis, { keyPrefix: prefix, logger: silentLogger() });
const x = new ExecutionKeys(prefix);
const scripts = executionScripts(redis);
const QUEUE = "p.diamond";

afterAll(async () => {
  await storage.close();
  await deleteKeys(redis, prefix);
  await redis.quit();
});

function run(id: string): PipelineStatus {
  const step = (stepName: string, dependsOn: string[]) => ({
    stepName,
    status: "PENDING" as const,
    startedAt: null,
    completedAt: null,
    durationMs: null,
    result: null,
    error: null,
    dependsOn,
    attempts: 1,
    workerId: null,
  });
  return {
    pipelineId: id,
    pipelineName: "diamond",
    status: "RUNNING",
    pipelineType: "dataflow",
    startedAt: new Date(),
    completedAt: null,
    durationMs: null,
    result: null,
    error: null,
    steps: [step("a", []), step("b", []), step("c", ["a", "b"])],
  };
}

/** Stores the run and its execution state: a and b are roots, c waits for both. */
async function start(id: string): Promise<[string, string, string]> {
  await storage.saveStatus(run(id));
  await scripts.pwxInit(x.run(id), x.open(QUEUE), "g1", id, '"in"', 60_000, "a", 0, "b", 0, "c", 2);
  return [x.run(id), storage.keys.run(id), x.open(QUEUE)];
}

const complete = (keys: string[], id: string, step: string, output: string) =>
  scripts.pwxComplete(...keys, "g1", id, step, output, 1, "c", "c").then(parseComplete);

describe("execution state", () => {
  it("two finishes racing for the last two dependencies make the dependent ready exactly once", async () => {
    for (let i = 0; i < 50; i++) {
      const id = `race-${i}`;
      const keys = await start(id);
      const [a, b] = await Promise.all([complete(keys, id, "a", "1"), complete(keys, id, "b", "2")]);
      const ready = [a, b].flatMap((r) => (r.kind === "ok" ? r.ready : []));
      expect(ready).toEqual(["c"]);
      const claim = parseClaim(await scripts.pwxClaim(...keys, "g1", id, "c", "w1", Date.now(), "a", "b"));
      expect(claim).toMatchObject({ kind: "run", attempt: 1, inputs: ["1", "2"] });
    }
  });

  it("a finish that arrives twice counts once; the last step answers the sinks' outputs, again after a crash, until the state is dropped", async () => {
    const id = "twice";
    const keys = await start(id);
    await complete(keys, id, "a", "1");
    await complete(keys, id, "a", "999"); // redelivered: ignored, the first output stands
    expect(await redis.hget(x.run(id), "left")).toBe("2");
    await complete(keys, id, "b", "2");
    const claim = parseClaim(await scripts.pwxClaim(...keys, "g1", id, "c", "w1", Date.now(), "a", "b"));
    expect(claim).toMatchObject({ kind: "run", inputs: ["1", "2"] });
    const last = parseComplete(await scripts.pwxComplete(...keys, "g1", id, "c", "3", 0, "c"));
    expect(last).toEqual({ kind: "last", sinkOutputs: ["3"] });
    // Until the end is written the state stays: the step's next delivery (its worker died) ends the run.
    expect(parseClaim(await scripts.pwxClaim(...keys, "g1", id, "c", "w2", Date.now(), "a", "b"))).toEqual({ kind: "done" });
    expect(parseComplete(await scripts.pwxComplete(...keys, "g1", id, "c", "", 0, "c"))).toEqual({ kind: "last", sinkOutputs: ["3"] });
    await scripts.pwxDrop(x.run(id), x.open(QUEUE), "g1", id);
    expect(await redis.exists(x.run(id))).toBe(0);
    expect(await redis.sismember(x.open(QUEUE), id)).toBe(0);
  });

  it("counts attempts; a duplicate of a finished step is answered done; a stale generation is skipped", async () => {
    const id = "attempts";
    const keys = await start(id);
    const claim = (gen = "g1") => scripts.pwxClaim(...keys, gen, id, "a", "w1", Date.now()).then(parseClaim);
    expect(await claim()).toMatchObject({ kind: "run", attempt: 1, inputs: ['"in"'] });
    expect(await claim()).toMatchObject({ kind: "run", attempt: 2 }); // a stalled job run again
    expect(await claim("old")).toEqual({ kind: "skip" });
    await complete(keys, id, "a", "1");
    expect(await claim()).toEqual({ kind: "done" });
    expect(await redis.hget(storage.keys.run(id), "lw")).toBe("w1");
  });

  it("a run ended in the storage (a cancel, a sweep) starts no further step and loses its state", async () => {
    const id = "ended";
    const keys = await start(id);
    await storage.finishStatus({ ...run(id), status: "CANCELLED", completedAt: new Date(), error: "Cancelled" });
    expect(parseClaim(await scripts.pwxClaim(...keys, "g1", id, "a", "w1", Date.now()))).toEqual({ kind: "skip" });
    expect(await redis.exists(x.run(id))).toBe(0);
    expect(await complete(keys, id, "b", "2")).toEqual({ kind: "ended" });
    expect(Number(await scripts.pwxFail(...keys, "g1", id))).toBe(0);
  });
});
