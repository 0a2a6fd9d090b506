/** 200 dataflow runs at once: every step recorded exactly once, no status lost. */
import { describe, expect, it } from "vitest";
import { InMemoryBroker, Pipeline, type PipelineStatus } from "../../lib";
import { memoryTracking, sleep } from "./helpers";

describe("concurrency", () => {
  it("records 200 concurrent dataflow runs completely", async () => {
    const { tracking, storage } = memoryTracking();
    const starts = new Map<string, number>();
    const completes = new Map<string, number>();
    const pipelineStarts = new Set<string>();
    const ends: string[] = [];
    const finalUpdates = new Map<string, PipelineStatus>();
    const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
    tracking.addListener({
      onPipelineStart: (id) => void pipelineStarts.add(id),
      onStepStart: (id, step) => void bump(starts, `${id}/${step}`),
      onStepComplete: (id, step) => void bump(completes, `${id}/${step}`),
      onPipelineComplete: (id) => void ends.push(id),
    });
    tracking.addListener((status) => {
      if (status.status !== "RUNNING") finalUpdates.set(status.pipelineId, status);
    });

    // Random small delays interleave the runs' transitions.
    const jitter = () => sleep(Math.floor(Math.random() * 4));
    const p = new Pipeline<number>(new InMemoryBroker(), { name: "fan" })
      .step("load", async (n) => {
        await jitter();
        return n;
      })
      .step(
        "left",
        async ({ load }) => {
          await jitter();
          return (load as number) * 2;
        },
        { dependsOn: ["load"] },
      )
      .step(
        "right",
        async ({ load }) => {
          await jitter();
          return (load as number) + 1;
        },
        { dependsOn: ["load"] },
      )
      .step("middle", async ({ load }) => (load as number) - 1, { dependsOn: ["load"] })
      .step(
        "join",
        async (x) => {
          await jitter();
          return x;
        },
        { dependsOn: ["left", "right", "middle"] },
      )
      .withTracking(tracking);

    const tasks = await Promise.all(Array.from({ length: 200 }, (_, i) => p.kiq(i, { pipelineId: `run-${i}` })));
    const results = await Promise.all(tasks.map((t) => t.waitResult({ timeoutMs: 15_000 })));

    results.forEach((r, i) => expect(r.returnValue).toEqual({ left: i * 2, right: i + 1, middle: i - 1 }));
    const steps = ["load", "left", "right", "middle", "join"];
    expect(starts.size).toBe(200 * steps.length);
    expect(completes.size).toBe(200 * steps.length);
    expect([...starts.values()].every((n) => n === 1)).toBe(true);
    expect([...completes.values()].every((n) => n === 1)).toBe(true);
    expect(pipelineStarts.size).toBe(200);
    expect(ends).toHaveLength(200);
    expect(new Set(ends).size).toBe(200);
    expect(finalUpdates.size).toBe(200);

    expect(storage.size).toBe(200);
    expect(await tracking.countByStatus()).toEqual({ PENDING: 0, RUNNING: 0, COMPLETED: 200, FAILED: 0, CANCELLED: 0 });
    const all = await tracking.listPipelines({ limit: 1000 });
    expect(all).toHaveLength(200);
    for (const status of all) {
      const i = Number(status.pipelineId.slice(4));
      expect(status.status).toBe("COMPLETED");
      expect(status.steps.map((s) => s.stepName)).toEqual(steps);
      expect(status.steps.every((s) => s.status === "COMPLETED" && s.attempts === 1 && s.durationMs !== null)).toBe(true);
      expect(status.steps.map((s) => s.result)).toEqual([i, i * 2, i + 1, i - 1, { left: i * 2, right: i + 1, middle: i - 1 }]);
      expect(finalUpdates.get(status.pipelineId)).toEqual(status);
    }
  });
});
