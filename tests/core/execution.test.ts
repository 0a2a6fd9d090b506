/** How a run executes and how it is recorded: outcomes, cancel, retries, timeouts, bad definitions. */
import { describe, expect, it } from "vitest";
import {
  HookManager,
  InMemoryBroker,
  Pipeline,
  PipelineDefinitionError,
  type Broker,
  type HookEvents,
  type StepContext,
  type StepInvocation,
} from "../../lib";
import { deferred, flush, memoryTracking, silentLogger, sleep } from "./helpers";

/** A broker that queues work a tick later, like a remote one: a cancel can land before any step runs. */
class QueuedBroker implements Broker {
  readonly workerId = "queued-worker";
  private readonly inner = new InMemoryBroker({ workerId: this.workerId });
  async execute(invocation: StepInvocation): Promise<unknown> {
    await new Promise((r) => setImmediate(r));
    if (invocation.signal.aborted) throw invocation.signal.reason;
    return this.inner.execute(invocation);
  }
}

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

describe("cancel", () => {
  it("before any step started: no step runs, every step ends CANCELLED", async () => {
    const { tracking } = memoryTracking();
    let ran = 0;
    const p = new Pipeline(new QueuedBroker())
      .step("a", () => ran++)
      .step("b", () => ran++)
      .withTracking(tracking);
    const task = await p.kiq();
    expect(await task.cancel()).toBe(true);
    const res = await task.waitResult();
    await sleep(5); // on purpose: a step that should not run would have run by now
    expect(ran).toBe(0);
    expect(res).toMatchObject({ isErr: true, error: "Cancelled", returnValue: null });
    const status = (await tracking.getStatus(task.pipelineId))!;
    expect(status.status).toBe("CANCELLED");
    expect(status.steps.map((s) => s.status)).toEqual(["CANCELLED", "CANCELLED"]);
    expect(status.steps[1]!.startedAt).toBeNull();
    expect(status.completedAt).not.toBeNull();
  });

  it("mid-run: the running step sees its signal aborted, unstarted steps never run", async () => {
    const { tracking } = memoryTracking();
    const started = deferred();
    let signal: AbortSignal | null = null;
    const ran: string[] = [];
    const p = new Pipeline(new InMemoryBroker())
      .step("one", () => void ran.push("one"))
      .step("two", (_x, ctx) => {
        ran.push("two");
        signal = ctx.signal;
        started.resolve();
        return new Promise((resolve) => ctx.signal.addEventListener("abort", () => resolve("ignored")));
      })
      .step("three", () => void ran.push("three"))
      .withTracking(tracking);
    const task = await p.kiq();
    await started.promise;
    expect(await task.cancel()).toBe(true);
    expect(signal!.aborted).toBe(true);
    expect(task.isDone).toBe(true);
    await task.waitResult();
    await sleep(5); // on purpose: step "three" must not start after the cancel
    expect(ran).toEqual(["one", "two"]);
    const status = (await tracking.getStatus(task.pipelineId))!;
    expect(status.status).toBe("CANCELLED");
    expect(status.steps.map((s) => s.status)).toEqual(["COMPLETED", "CANCELLED", "CANCELLED"]);
    expect(status.steps[1]!.completedAt).not.toBeNull();
    expect(status.steps[2]!.startedAt).toBeNull();
    expect(status.result).toBeNull();
  });

  it("after the run finished: answers false and changes nothing", async () => {
    const { tracking } = memoryTracking();
    const p = new Pipeline(new InMemoryBroker()).step("a", () => "done").withTracking(tracking);
    const task = await p.kiq();
    await task.waitResult();
    const before = await tracking.getStatus(task.pipelineId);
    expect(await task.cancel()).toBe(false);
    expect(await tracking.cancel(task.pipelineId)).toEqual({ cancelled: false, status: before });
    expect(await tracking.getStatus(task.pipelineId)).toEqual(before);
  });

  it("through the manager: a live run stops; a stored unfinished run is marked; an unknown id is null", async () => {
    const { tracking } = memoryTracking();
    let ranSecond = false;
    const p = new Pipeline(new InMemoryBroker())
      .step("wait", (_x, ctx) => new Promise((r) => ctx.signal.addEventListener("abort", r)))
      .step("second", () => {
        ranSecond = true;
      })
      .withTracking(tracking);
    const task = await p.kiq();
    const outcome = await tracking.cancel(task.pipelineId);
    expect(outcome?.cancelled).toBe(true);
    expect(outcome?.status.status).toBe("CANCELLED");
    expect((await task.waitResult()).isErr).toBe(true);
    expect(ranSecond).toBe(false);

    const now = Date.now();
    await tracking.storage.saveStatus({
      pipelineId: "orphan",
      pipelineName: null,
      status: "RUNNING",
      pipelineType: "sequential",
      startedAt: new Date(now - 1000),
      completedAt: null,
      durationMs: null,
      result: null,
      error: null,
      steps: [
        {
          stepName: "x",
          status: "RUNNING",
          startedAt: new Date(now - 900),
          completedAt: null,
          durationMs: null,
          result: null,
          error: null,
          dependsOn: [],
          attempts: 1,
          workerId: "gone",
        },
        {
          stepName: "y",
          status: "PENDING",
          startedAt: null,
          completedAt: null,
          durationMs: null,
          result: null,
          error: null,
          dependsOn: [],
          attempts: 0,
          workerId: null,
        },
      ],
    });
    const orphan = await tracking.cancel("orphan");
    expect(orphan?.cancelled).toBe(true);
    const stored = (await tracking.getStatus("orphan"))!;
    expect(stored.status).toBe("CANCELLED");
    expect(stored.durationMs).toBeGreaterThanOrEqual(1000);
    expect(stored.steps.map((s) => s.status)).toEqual(["CANCELLED", "CANCELLED"]);
    expect(await tracking.cancel("never-was")).toBeNull();
  });
});

describe("a failing step", () => {
  it("fails the run with its error; downstream steps end CANCELLED, never PENDING; a running sibling is aborted", async () => {
    const { tracking } = memoryTracking();
    let chartSignal: AbortSignal | null = null;
    const chartStarted = deferred();
    const p = new Pipeline(new InMemoryBroker(), { name: "report" })
      .step("load", () => [1, 2])
      .step(
        "chart",
        (_x, ctx) => {
          chartSignal = ctx.signal;
          chartStarted.resolve();
          return new Promise((r) => ctx.signal.addEventListener("abort", () => r("late")));
        },
        { dependsOn: ["load"] },
      )
      .step(
        "stats",
        async () => {
          await chartStarted.promise;
          throw new Error("division by zero");
        },
        { dependsOn: ["load"] },
      )
      .step("publish", () => "never", { dependsOn: ["stats", "chart"] })
      .step("archive", () => "never", { dependsOn: ["publish"] })
      .withTracking(tracking);
    const res = await (await p.kiq()).waitResult();
    expect(res).toMatchObject({ isErr: true, error: "division by zero" });
    expect(chartSignal!.aborted).toBe(true);
    const status = (await tracking.getStatus(p.pipelineId))!;
    expect(status.status).toBe("FAILED");
    expect(status.error).toBe("division by zero");
    expect(Object.fromEntries(status.steps.map((s) => [s.stepName, s.status]))).toEqual({
      load: "COMPLETED",
      chart: "CANCELLED",
      stats: "FAILED",
      publish: "CANCELLED",
      archive: "CANCELLED",
    });
    expect(status.steps.some((s) => s.status === "PENDING" || s.status === "RUNNING")).toBe(false);
    await flush();
    // The aborted sibling's late answer does not change the record.
    expect((await tracking.getStatus(p.pipelineId))!.steps[1]!.status).toBe("CANCELLED");
  });
});

describe("retries and timeouts", () => {
  it("retries a failing step and records the attempts", async () => {
    const { tracking } = memoryTracking();
    const hooks = new HookManager({ logger: silentLogger() });
    const errors: HookEvents["step:error"][] = [];
    hooks.on("step:error", (e) => void errors.push(e));
    let calls = 0;
    const p = new Pipeline(new InMemoryBroker())
      .step(
        "flaky",
        () => {
          calls++;
          if (calls < 3) throw new Error(`attempt ${calls} failed`);
          return "third time lucky";
        },
        { retries: 3 },
      )
      .withTracking(tracking)
      .withHooks(hooks);
    const res = await (await p.kiq()).waitResult();
    expect(res.returnValue).toBe("third time lucky");
    const step = (await tracking.getStatus(p.pipelineId))!.steps[0]!;
    expect(step).toMatchObject({ status: "COMPLETED", attempts: 3, error: null });
    expect(errors.map((e) => [e.attempt, e.willRetry])).toEqual([
      [1, true],
      [2, true],
    ]);
  });

  it("fails after the last retry with the last error", async () => {
    const { tracking } = memoryTracking();
    let calls = 0;
    const p = new Pipeline(new InMemoryBroker())
      .step(
        "always",
        () => {
          throw new Error(`failure ${++calls}`);
        },
        { retries: 2 },
      )
      .withTracking(tracking);
    const res = await (await p.kiq()).waitResult();
    expect(res.error).toBe("failure 3");
    expect((await tracking.getStatus(p.pipelineId))!.steps[0]).toMatchObject({ status: "FAILED", attempts: 3, error: "failure 3" });
  });

  it("times out a step after timeoutMs, aborting its signal", async () => {
    const { tracking } = memoryTracking();
    let signal: AbortSignal | null = null;
    const p = new Pipeline(new InMemoryBroker())
      .step(
        "hang",
        (_x, ctx) => {
          signal = ctx.signal;
          return new Promise(() => undefined);
        },
        { timeoutMs: 30 },
      )
      .step("next", () => "never")
      .withTracking(tracking);
    const res = await (await p.kiq()).waitResult({ timeoutMs: 5000 });
    expect(res.isErr).toBe(true);
    expect(res.error).toBe('TimeoutError: Step "hang" timed out after 30 ms');
    expect(signal!.aborted).toBe(true);
    const status = (await tracking.getStatus(p.pipelineId))!;
    expect(status.steps.map((s) => s.status)).toEqual(["FAILED", "CANCELLED"]);
  });

  it("a retried attempt gets a fresh timeout", async () => {
    let calls = 0;
    const p = new Pipeline(new InMemoryBroker()).step("slow-then-fast", () => (++calls === 1 ? new Promise(() => undefined) : "ok"), {
      timeoutMs: 20,
      retries: 1,
    });
    expect((await (await p.kiq()).waitResult({ timeoutMs: 5000 })).returnValue).toBe("ok");
  });

  it("refuses bad retry and timeout options at definition", () => {
    const p = new Pipeline(new InMemoryBroker());
    expect(() => p.step("a", () => 1, { retries: -1 })).toThrow(PipelineDefinitionError);
    expect(() => p.step("b", () => 1, { retries: 1.5 })).toThrow(PipelineDefinitionError);
    expect(() => p.step("c", () => 1, { timeoutMs: 0 })).toThrow(PipelineDefinitionError);
  });
});

describe("invalid definitions are refused loudly, never as isErr", () => {
  it("throws at step() for a duplicate name, a self-dependency, a missing function or a bad name", () => {
    const p = new Pipeline(new InMemoryBroker()).step("a", () => 1);
    expect(() => p.step("a", () => 2)).toThrow(new PipelineDefinitionError('Duplicate step name "a"'));
    expect(() => p.step("b", () => 2, { dependsOn: ["b"] })).toThrow(PipelineDefinitionError);
    expect(() => p.step("c", null as never)).toThrow(PipelineDefinitionError);
    expect(() => p.step("", () => 1)).toThrow(PipelineDefinitionError);
    expect(() => new Pipeline(null as never)).toThrow(PipelineDefinitionError);
  });

  it.each([
    ["an empty pipeline", () => new Pipeline(new InMemoryBroker()), /at least one step/],
    [
      "an unknown dependency",
      () => new Pipeline(new InMemoryBroker()).step("a", () => 1).step("b", () => 1, { dependsOn: ["nope"] }),
      /unknown step "nope"/,
    ],
    [
      "a cycle",
      () =>
        new Pipeline(new InMemoryBroker())
          .step("root", () => 1)
          .step("x", () => 1, { dependsOn: ["root", "z"] })
          .step("y", () => 1, { dependsOn: ["x"] })
          .step("z", () => 1, { dependsOn: ["y"] }),
      /cycle/,
    ],
  ])("rejects kiq for %s and stores nothing", async (_what, build, message) => {
    const { tracking, storage } = memoryTracking();
    const p = build().withTracking(tracking);
    await expect(p.kiq()).rejects.toThrow(message);
    await expect(p.kiq()).rejects.toThrow(PipelineDefinitionError);
    expect(storage.size).toBe(0);
  });

  it.each(["", "has space", "x".repeat(201), "ünïcode", "a/b", 42])("rejects kiq for the pipeline id %j", async (id) => {
    const { tracking, storage } = memoryTracking();
    const p = new Pipeline(new InMemoryBroker()).step("a", () => 1).withTracking(tracking);
    await expect(p.kiq(undefined, { pipelineId: id as string })).rejects.toThrow(/Invalid pipelineId/);
    expect(storage.size).toBe(0);
    // The longest valid id is fine.
    const ok = await p.kiq(undefined, { pipelineId: `A-z_0.9:${"x".repeat(192)}` });
    expect((await ok.waitResult()).isErr).toBe(false);
  });
});
