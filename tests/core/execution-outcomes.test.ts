/** How a run executes and how it is recorded: outcomes, step inputs, kiq and waitResult. */
import { describe, expect, it } from "vitest";
import { InMemoryBroker, Pipeline, type StepContext } from "../../lib";
import { deferred, flush, memoryTracking, sleep } from "./helpers";

describe("outcomes", () => {
  it("records zero-duration steps as completed with a duration of at least 0", async () => {
    const { tracking } = memoryTracking();
    const p = new Pipeline<number>(new InMemoryBroker({ workerId: "w-1" }))
      .step("a", (n) => n + 1)
      .step("b", (n) => n * 2)
      .step("c", (n) => n - 1)
      .withTracking(tracking);
    const res = await (await p.kiq(1)).waitResult();
    expect(res).toMatchObject({ returnValue: 3, isErr: false, error: null });
    expect(res.executionTimeMs).toBeGreaterThanOrEqual(0);
    const status = (await tracking.getStatus(p.pipelineId))!;
    expect(status.status).toBe("COMPLETED");
    expect(status.result).toBe(3);
    for (const step of status.steps) {
      expect(step.status).toBe("COMPLETED");
      expect(step.durationMs).toBeGreaterThanOrEqual(0);
      expect(Number.isFinite(step.durationMs)).toBe(true);
      expect(step.completedAt!.getTime()).toBeGreaterThanOrEqual(step.startedAt!.getTime());
      expect(step.attempts).toBe(1);
      expect(step.workerId).toBe("w-1");
    }
    expect(status.steps.map((s) => s.result)).toEqual([2, 4, 3]);
    expect(status.completedAt!.getTime()).toBeGreaterThanOrEqual(status.startedAt.getTime());
  });

  it("counts attempts: 1 unless retried, a step not yet started included", async () => {
    const { tracking } = memoryTracking();
    const gate = deferred<number>();
    const p = new Pipeline(new InMemoryBroker())
      .step("a", () => gate.promise)
      .step("b", (n: number) => n)
      .withTracking(tracking);
    const task = await p.kiq();
    await flush();
    expect((await tracking.getStatus(task.pipelineId))!.steps.map((s) => [s.status, s.attempts])).toEqual([
      ["RUNNING", 1],
      ["PENDING", 1],
    ]);
    gate.resolve(1);
    await task.waitResult();
    expect((await tracking.getStatus(task.pipelineId))!.steps.map((s) => s.attempts)).toEqual([1, 1]);
  });

  it.each([
    [
      "a string",
      () => {
        throw "plain string";
      },
      "plain string",
    ],
    [
      "an object",
      () => {
        throw { code: 42, reason: "quota" };
      },
      '{"code":42,"reason":"quota"}',
    ],
    [
      "undefined",
      () => {
        throw undefined;
      },
      "undefined",
    ],
    ["null (rejected)", () => Promise.reject(null), "null"],
    ["a number (rejected)", () => Promise.reject(7), "7"],
    [
      "a TypeError",
      () => {
        throw new TypeError("bad type");
      },
      "TypeError: bad type",
    ],
    [
      "an Error without message",
      () => {
        throw new RangeError();
      },
      "RangeError",
    ],
  ])("fails the run with a readable error when a step throws %s", async (_what, fn, message) => {
    const { tracking } = memoryTracking();
    const p = new Pipeline(new InMemoryBroker())
      .step("ok", () => 1)
      .step("bad", fn)
      .step("after", () => 2)
      .withTracking(tracking);
    const res = await (await p.kiq()).waitResult();
    expect(res).toMatchObject({ isErr: true, error: message, returnValue: null });
    const status = (await tracking.getStatus(p.pipelineId))!;
    expect(status.status).toBe("FAILED");
    expect(status.error).toBe(message);
    expect(status.steps.map((s) => s.status)).toEqual(["COMPLETED", "FAILED", "CANCELLED"]);
    expect(status.steps[1]!.error).toBe(message);
  });

  it("passes ctx { pipelineId, stepName, signal } to every step", async () => {
    const seen: Omit<StepContext, "signal">[] = [];
    const p = new Pipeline(new InMemoryBroker())
      .step("a", (_x, ctx) => void seen.push({ pipelineId: ctx.pipelineId, stepName: ctx.stepName, aborted: ctx.signal.aborted } as never))
      .step("b", (_x, ctx) => void seen.push({ pipelineId: ctx.pipelineId, stepName: ctx.stepName, aborted: ctx.signal.aborted } as never));
    await (await p.kiq(undefined, { pipelineId: "ctx-run" })).waitResult();
    expect(seen).toEqual([
      { pipelineId: "ctx-run", stepName: "a", aborted: false },
      { pipelineId: "ctx-run", stepName: "b", aborted: false },
    ]);
  });

  it("runs untracked, and a sequential step gets the previous output", async () => {
    const p = new Pipeline<string>(new InMemoryBroker()).step("upper", (s) => s.toUpperCase()).step("len", (s) => s.length);
    expect(p.pipelineType).toBe("sequential");
    expect(await (await p.kiq("abc")).waitResult()).toMatchObject({ returnValue: 3, isErr: false });
  });

  it("dataflow: roots get the input, a step gets { dependency: output }, independent steps overlap", async () => {
    const { tracking } = memoryTracking();
    const order: string[] = [];
    const gate = deferred();
    const p = new Pipeline<number>(new InMemoryBroker())
      .step("load", (n) => [n, n + 1, n + 2])
      .step(
        "stats",
        async ({ load }) => {
          order.push("stats:start");
          await gate.promise;
          order.push("stats:end");
          return (load as number[]).reduce((a, b) => a + b, 0);
        },
        { dependsOn: ["load"] },
      )
      .step(
        "chart",
        async ({ load }) => {
          order.push("chart:start");
          gate.resolve();
          return `chart of ${(load as number[]).length}`;
        },
        { dependsOn: ["load"] },
      )
      .step("publish", (inputs) => inputs, { dependsOn: ["stats", "chart"] })
      .step("audit", (input) => `audited ${String(input)}`)
      .withTracking(tracking);
    expect(p.pipelineType).toBe("dataflow");
    const res = await (await p.kiq(10)).waitResult();
    // chart starts while stats is still waiting: they run concurrently.
    expect(order.indexOf("chart:start")).toBeLessThan(order.indexOf("stats:end"));
    // Two sinks (publish, audit): the result names both; audit is a root and got the pipeline input.
    expect(res.returnValue).toEqual({ publish: { stats: 33, chart: "chart of 3" }, audit: "audited 10" });
    const status = (await tracking.getStatus(p.pipelineId))!;
    expect(status.pipelineType).toBe("dataflow");
    expect(status.steps.map((s) => [s.stepName, s.dependsOn])).toEqual([
      ["load", []],
      ["stats", ["load"]],
      ["chart", ["load"]],
      ["publish", ["stats", "chart"]],
      ["audit", []],
    ]);
  });
});

describe("kiq and waitResult", () => {
  it("resolves kiq with the run already stored, every declared step listed", async () => {
    const { tracking } = memoryTracking();
    const hold = deferred();
    const p = new Pipeline(new InMemoryBroker(), { name: "held" })
      .step("first", () => hold.promise)
      .step("second", () => 2)
      .step("third", () => 3)
      .withTracking(tracking);
    const task = await p.kiq();
    const stored = (await tracking.getStatus(task.pipelineId))!;
    expect(["PENDING", "RUNNING"]).toContain(stored.status);
    expect(stored.pipelineName).toBe("held");
    expect(stored.steps.map((s) => s.stepName)).toEqual(["first", "second", "third"]);
    expect(stored.steps.slice(1).map((s) => s.status)).toEqual(["PENDING", "PENDING"]);
    expect(p.pipelineId).toBe(task.pipelineId);
    expect(task.pipelineId).toMatch(/^held_/);
    hold.resolve();
    await task.waitResult();
  });

  it("resolves waitResult with the final status already readable", async () => {
    const { tracking } = memoryTracking();
    const p = new Pipeline(new InMemoryBroker())
      .step("a", async () => {
        await sleep(5);
        return "x";
      })
      .step("b", (x) => `${x}y`)
      .withTracking(tracking);
    for (let i = 0; i < 5; i++) {
      const task = await p.kiq();
      const res = await task.waitResult({ timeoutMs: 5000 });
      const status = (await tracking.getStatus(task.pipelineId))!;
      expect(status.status).toBe("COMPLETED");
      expect(status.result).toBe(res.returnValue);
      expect(status.steps.every((s) => s.status === "COMPLETED")).toBe(true);
    }
  });

  it("rejects waitResult with a TimeoutError, and the run goes on", async () => {
    const hold = deferred();
    const p = new Pipeline(new InMemoryBroker()).step("slow", () => hold.promise.then(() => "late"));
    const task = await p.kiq();
    const error = await task.waitResult({ timeoutMs: 20 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).name).toBe("TimeoutError");
    hold.resolve();
    expect((await task.waitResult({ timeoutMs: 5000 })).returnValue).toBe("late");
    expect(() => task.waitResult({ timeoutMs: -1 })).toThrow(RangeError);
  });

  it("uses the given pipelineId, and refuses a second live run with the same id", async () => {
    const { tracking } = memoryTracking();
    const hold = deferred();
    const p = new Pipeline(new InMemoryBroker()).step("a", () => hold.promise).withTracking(tracking);
    const task = await p.kiq(undefined, { pipelineId: "etl_2026_11_28" });
    expect(task.pipelineId).toBe("etl_2026_11_28");
    await expect(p.kiq(undefined, { pipelineId: "etl_2026_11_28" })).rejects.toThrow(/already running/);
    hold.resolve();
    await task.waitResult();
    // Once finished the id may be reused (a rerun replaces the record).
    const again = await p.kiq(undefined, { pipelineId: "etl_2026_11_28" });
    expect((await again.waitResult()).isErr).toBe(false);
  });
});
