/** Listeners are isolated: one that throws, rejects or never settles changes nothing about a run. */
import { describe, expect, it } from "vitest";
import { InMemoryBroker, Pipeline, type PipelineStatus, type TrackingListener } from "../../lib";
import { captureLogger, memoryTracking } from "./helpers";

function buildPipeline(tracking: ReturnType<typeof memoryTracking>["tracking"]) {
  return new Pipeline<number>(new InMemoryBroker({ workerId: "w" }))
    .step("a", (n) => n + 1)
    .step("b", (n) => ({ value: n * 10 }))
    .step("c", () => {
      throw new Error("c broke");
    })
    .withTracking(tracking);
}

/** A run's outcome with the timing fields removed, to compare runs with and without listeners. */
function outcome(status: PipelineStatus) {
  return {
    status: status.status,
    error: status.error,
    result: status.result,
    steps: status.steps.map((s) => ({
      name: s.stepName,
      status: s.status,
      result: s.result,
      error: s.error,
      attempts: s.attempts,
      workerId: s.workerId,
    })),
  };
}

const throwing: TrackingListener = {
  onPipelineStart() {
    throw new Error("listener threw at start");
  },
  onStepStart() {
    throw new Error("listener threw at step start");
  },
  onStepComplete() {
    throw "listener threw a string";
  },
  onPipelineComplete() {
    throw new Error("listener threw at end");
  },
  onPipelineError() {
    throw new Error("listener threw on error");
  },
  onStatusUpdate() {
    throw new Error("listener threw on update");
  },
};
const rejecting: TrackingListener = async () => {
  throw new Error("listener rejected");
};
const hanging: TrackingListener = {
  onPipelineStart: () => new Promise(() => undefined),
  onStepComplete: () => new Promise(() => undefined),
  onPipelineComplete: () => new Promise(() => undefined),
};
const mutating: TrackingListener = (status) => {
  status.status = "CANCELLED";
  status.steps.length = 0;
};

describe("listener isolation", () => {
  it("a throwing, a rejecting, a never-settling and a mutating listener leave the run as it is without them", async () => {
    const plain = memoryTracking();
    const baseline = await (await buildPipeline(plain.tracking).kiq(1, { pipelineId: "run-1" })).waitResult();
    const baselineStatus = (await plain.tracking.getStatus("run-1"))!;

    const { logger, lines } = captureLogger();
    const noisy = memoryTracking({ logger });
    const heard: string[] = [];
    for (const l of [throwing, rejecting, hanging, mutating]) noisy.tracking.addListener(l);
    noisy.tracking.addListener({ onPipelineComplete: (id, s) => void heard.push(`${id} ${s.status}`) });
    const res = await (await buildPipeline(noisy.tracking).kiq(1, { pipelineId: "run-1" })).waitResult({ timeoutMs: 5000 });
    const status = (await noisy.tracking.getStatus("run-1"))!;

    expect({ ...res, executionTimeMs: 0 }).toEqual({ ...baseline, executionTimeMs: 0 });
    expect(res).toMatchObject({ isErr: true, error: "c broke" });
    expect(outcome(status)).toEqual(outcome(baselineStatus));
    // The well-behaved listener after the bad ones still heard the end.
    expect(heard).toEqual(["run-1 FAILED"]);

    await new Promise((r) => setImmediate(r));
    const messages = lines.filter((l) => l.level >= 50).map((l) => l.msg);
    expect(messages).toContain("tracking listener onPipelineStart threw");
    expect(messages).toContain("tracking listener onStepComplete threw");
    expect(messages).toContain("tracking listener status update rejected");
    expect(messages).toContain("tracking listener onPipelineError threw");
  });

  it("refuses a listener that is neither a function nor an object", () => {
    const { tracking } = memoryTracking();
    expect(() => tracking.addListener(42 as never)).toThrow(TypeError);
    expect(() => tracking.addListener(null as never)).toThrow(TypeError);
  });

  it("adds a listener once and removes it", async () => {
    const { tracking } = memoryTracking();
    let calls = 0;
    const listener = () => void calls++;
    tracking.addListener(listener);
    tracking.addListener(listener);
    const p = new Pipeline(new InMemoryBroker()).step("a", () => 1).withTracking(tracking);
    await (await p.kiq()).waitResult();
    // start, step running, step done, end
    expect(calls).toBe(4);
    expect(tracking.removeListener(listener)).toBe(true);
    expect(tracking.removeListener(listener)).toBe(false);
    await (await p.kiq()).waitResult();
    expect(calls).toBe(4);
  });

  it("function listeners hear runs recorded by another manager sharing the storage", async () => {
    const a = memoryTracking();
    const { PipelineTrackingManager } = await import("../../lib");
    const b = new PipelineTrackingManager({ logger: captureLogger().logger }).withStorage(a.storage);
    const heardByB: string[] = [];
    b.addListener((s) => void heardByB.push(s.status));
    const p = new Pipeline(new InMemoryBroker()).step("a", () => 1).withTracking(a.tracking);
    await (await p.kiq()).waitResult();
    await new Promise((r) => setImmediate(r));
    expect(heardByB[0]).toBe("RUNNING");
    expect(heardByB.at(-1)).toBe("COMPLETED");
  });
});
