/** How a run stops early: cancel before, during and after a run, and a failing step stopping the rest. */
import { describe, expect, it } from "vitest";
import { InMemoryBroker, Pipeline, type Broker, type StepInvocation } from "../../lib";
import { deferred, flush, memoryTracking, sleep } from "./helpers";
import { makeStep } from "../../lib/tracking/storage/contract/builders";

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
      steps: [makeStep("x", { status: "RUNNING", startedAt: new Date(now - 900), attempts: 1, workerId: "gone" }), makeStep("y")],
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
