/**
 * The memory storage holds finished runs sealed (lib/tracking/storage/sealed-run.ts): what it
 * answers from that form — whole runs, list summaries, metrics — must be exactly what the runs
 * themselves give.
 */
import { describe, expect, it } from "vitest";
import { InMemoryPipelineStorage, computeMetrics, summarize, type PipelineStatus, type Status, type StepStatus } from "../../lib";
import { makeStep, seeded } from "../../lib/tracking/storage/contract/helpers";

const NOW = new Date("2026-06-10T15:30:00.000Z");
const DAY_MS = 86_400_000;
const SHAPES: { names: string[]; dependsOn: string[][] }[] = [
  { names: ["load", "clean", "save"], dependsOn: [[], [], []] },
  { names: ["load", "stats", "chart", "publish"], dependsOn: [[], ["load"], ["load"], ["stats", "chart"]] },
  // Same names as the first, other dependencies: must not be mistaken for it.
  { names: ["load", "clean", "save"], dependsOn: [[], ["load"], ["clean"]] },
  { names: Array.from({ length: 15 }, (_, i) => `s${i}`), dependsOn: Array.from({ length: 15 }, () => []) },
];
const STEP_STATUSES: Status[] = ["PENDING", "RUNNING", "COMPLETED", "FAILED", "CANCELLED"];

function randomRun(rnd: () => number, i: number): PipelineStatus {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const shape = pick(SHAPES);
  const startedMs = NOW.getTime() - Math.floor(rnd() * 9 * DAY_MS);
  const status = pick<Status>(["COMPLETED", "COMPLETED", "COMPLETED", "FAILED", "CANCELLED", "RUNNING", "PENDING"]);
  const finished = status !== "RUNNING" && status !== "PENDING";
  const worker = pick(["host-a:1", "host-b:2", null]);
  const steps: StepStatus[] = shape.names.map((stepName, k) => {
    const s = pick(STEP_STATUSES);
    const started = s === "PENDING" || rnd() < 0.1 ? null : new Date(startedMs + Math.floor(rnd() * 2000) - 100);
    const done =
      started && (s === "COMPLETED" || s === "FAILED" || s === "CANCELLED") ? new Date(started.getTime() + Math.floor(rnd() * 3000)) : null;
    return {
      stepName,
      status: s,
      startedAt: started,
      completedAt: done,
      durationMs: done ? rnd() * 3000 : s === "COMPLETED" && rnd() < 0.5 ? 0 : null,
      result:
        s === "COMPLETED"
          ? pick([null, 7, -0.5, "text ✓", 'comma, "quote" ]\\', { rows: [1, 2.5, null], nested: { ok: true } }, [k, "x"]])
          : null,
      error: s === "FAILED" ? pick(["boom", "multi\nline", "é".repeat(5)]) : null,
      dependsOn: shape.dependsOn[k]!.slice(),
      attempts: s === "PENDING" ? 0 : 1 + Math.floor(rnd() * 3),
      // Mostly one worker per run, sometimes another, sometimes none.
      workerId: rnd() < 0.8 ? worker : pick(["host-c:3", null]),
    };
  });
  const durationMs = finished ? (rnd() < 0.1 ? null : Math.floor(rnd() * 60_000) + rnd()) : null;
  return {
    pipelineId: `run-${String(i).padStart(4, "0")}`,
    pipelineName: pick(["etl", "report", null]),
    status,
    pipelineType: pick(["sequential", "dataflow"]),
    startedAt: new Date(startedMs),
    completedAt: finished ? new Date(startedMs + Math.floor(rnd() * 60_000)) : null,
    durationMs,
    steps,
    result: status === "COMPLETED" ? pick([42, "done", { total: 3, items: ["a"] }, null]) : null,
    error:
      status === "FAILED" ? pick(["stats: division by zero\nat line 3", "x".repeat(300), ""]) : status === "CANCELLED" ? "Cancelled" : null,
  };
}

/** The order the storage keeps runs in (oldest first), so floating-point sums add up alike. */
const oldestFirst = (a: PipelineStatus, b: PipelineStatus) =>
  a.startedAt.getTime() - b.startedAt.getTime() || (a.pipelineId < b.pipelineId ? -1 : a.pipelineId > b.pipelineId ? 1 : 0);

async function filled(count: number, seed: number) {
  const rnd = seeded(seed);
  const runs = Array.from({ length: count }, (_, i) => randomRun(rnd, i));
  const storage = new InMemoryPipelineStorage({ maxPipelines: count });
  for (const run of runs) await storage.saveStatus(run);
  return { storage, runs: runs.sort(oldestFirst) };
}

describe("InMemoryPipelineStorage sealed runs", () => {
  it("reads back every run exactly as saved", async () => {
    const { storage, runs } = await filled(400, 1);
    for (const run of runs) expect(await storage.getStatus(run.pipelineId)).toEqual(run);
    expect(await storage.getHistory({ limit: 1000 })).toEqual(runs.slice().reverse());
  });

  it("answers list summaries as summarize() of the run", async () => {
    const { storage, runs } = await filled(300, 2);
    const page = await storage.listPage({ limit: 500 });
    expect(page.items).toEqual(runs.slice().reverse().map(summarize));
  });

  it("computes metrics exactly as computeMetrics over the same runs", async () => {
    const { storage, runs } = await filled(600, 3);
    for (const days of [1, 7, 30]) {
      expect(await storage.getMetrics({ days, now: NOW })).toEqual(computeMetrics(runs, { days, now: NOW }));
    }
  });

  it("applies a late step write to a finished run, never moving a step backwards", async () => {
    const storage = new InMemoryPipelineStorage();
    const t0 = new Date("2026-01-01T00:00:00.000Z");
    const step = makeStep;
    await storage.saveStatus({
      pipelineId: "late",
      pipelineName: "p",
      status: "CANCELLED",
      pipelineType: "sequential",
      startedAt: t0,
      completedAt: new Date(t0.getTime() + 10),
      durationMs: 10,
      result: null,
      error: "Cancelled",
      steps: [
        step("a", { status: "RUNNING", startedAt: t0, attempts: 1, workerId: "w" }),
        step("b", { status: "COMPLETED", startedAt: t0, completedAt: t0, durationMs: 0, result: 1, attempts: 1 }),
      ],
    });
    const done = new Date(t0.getTime() + 5);
    await storage.saveStep(
      "late",
      step("a", { status: "COMPLETED", startedAt: t0, completedAt: done, durationMs: 5, result: { v: 1 }, attempts: 1, workerId: "w" }),
    );
    await storage.saveStep("late", step("b", { status: "RUNNING", startedAt: t0, attempts: 1 }));
    const got = (await storage.getStatus("late"))!;
    expect(got.status).toBe("CANCELLED");
    expect(got.steps[0]).toEqual(
      step("a", { status: "COMPLETED", startedAt: t0, completedAt: done, durationMs: 5, result: { v: 1 }, attempts: 1, workerId: "w" }),
    );
    expect(got.steps[1]!.status).toBe("COMPLETED");
    expect((await storage.getMetrics({ days: 1, now: t0 })).steps.map((s) => [s.stepName, s.count])).toEqual([
      ["a", 1],
      ["b", 1],
    ]);
  });
});
