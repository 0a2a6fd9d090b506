/** Step retries and timeouts: attempts recorded, the last error kept, a fresh timeout per attempt. */
import { describe, expect, it } from "vitest";
import { HookManager, InMemoryBroker, Pipeline, PipelineDefinitionError, type HookEvents } from "../../lib";
import { memoryTracking, silentLogger } from "./helpers";

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
