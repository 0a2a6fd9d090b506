/** Usage examples of the library, run as written: hooks, metrics, event listeners and console output. */
import { Counter, Histogram, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import {
  HookManager,
  InMemoryBroker,
  Pipeline,
  TrackingEventBroadcaster,
  renderStatus,
  type HookEvents,
  type PipelineStatus,
} from "../../lib";
import { memoryTracking, silentLogger } from "./helpers";

describe("real-time tracking with hooks", () => {
  it("re-emits every status change through the broadcaster's unbound onStatusUpdate", async () => {
    const broker = new InMemoryBroker();
    const { tracking } = memoryTracking();
    const hookManager = new HookManager({ logger: silentLogger() });
    const broadcaster = new TrackingEventBroadcaster(tracking, hookManager);
    tracking.addListener(broadcaster.onStatusUpdate);

    const updates: PipelineStatus[] = [];
    const events: (keyof HookEvents)[] = [];
    hookManager.on("status:update", (s) => void updates.push(s));
    for (const name of ["pipeline:start", "step:start", "step:complete", "pipeline:complete"] as const) {
      hookManager.on(name, () => void events.push(name));
    }
    const pipeline = new Pipeline(broker)
      .step("a", () => 1)
      .step("b", (n: number) => n + 1)
      .withHooks(hookManager)
      .withTracking(tracking);
    await (await pipeline.kiq()).waitResult();

    expect(events).toEqual(["pipeline:start", "step:start", "step:complete", "step:start", "step:complete", "pipeline:complete"]);
    // start, a running, a done, b running, b done, end
    expect(updates.map((s) => s.steps.map((x) => x.status[0]).join(""))).toEqual(["PP", "RP", "CP", "CR", "CC", "CC"]);
    expect(updates.at(-1)?.status).toBe("COMPLETED");
    expect(updates.every((s) => s.pipelineId === pipeline.pipelineId)).toBe(true);
  });
});

describe("metrics", () => {
  it("answers totals, success rate, average duration and failure reasons", async () => {
    const broker = new InMemoryBroker();
    const { tracking } = memoryTracking();
    const registry = new Registry();
    const PIPELINE_COUNT = new Counter({ name: "pipelines_total", help: "Total pipelines", labelNames: ["status"], registers: [registry] });
    const PIPELINE_DURATION = new Histogram({ name: "pipeline_duration_seconds", help: "Pipeline runtime", registers: [registry] });
    class PrometheusExporter {
      async onPipelineComplete(_pipelineId: string, status: PipelineStatus) {
        PIPELINE_COUNT.labels({ status: status.status }).inc();
        PIPELINE_DURATION.observe((status.durationMs ?? 0) / 1000);
      }
    }
    tracking.addListener(new PrometheusExporter());

    let n = 0;
    const flaky = new Pipeline(broker, { name: "flaky" })
      .step("work", () => {
        n++;
        if (n % 4 === 0) throw new Error(n % 8 === 0 ? "Connection refused" : "Timeout after 30s\n  at socket");
        return n;
      })
      .withTracking(tracking);
    for (let i = 0; i < 8; i++) await (await flaky.kiq()).waitResult();

    const stats = await tracking.getMetrics({ days: 7 });
    const report = [
      `Total executions: ${stats.totalPipelines}`,
      `Success rate: ${((stats.successRate ?? 0) * 100).toFixed(1)}%`,
      `Avg duration: ${(stats.avgDurationMs ?? 0).toFixed(0)}ms`,
      `Failure reasons: ${JSON.stringify(stats.failureReasons)}`,
    ];
    expect(report[0]).toBe("Total executions: 8");
    expect(report[1]).toBe("Success rate: 75.0%");
    expect(report[2]).toMatch(/^Avg duration: \d+ms$/);
    expect(stats.failureReasons).toEqual({ "Timeout after 30s": 1, "Connection refused": 1 });
    expect(stats.steps.map((s) => [s.stepName, s.count, s.failed])).toEqual([["work", 8, 2]]);
    expect(stats.busiestHours.reduce((sum, h) => sum + h.count, 0)).toBe(8);
    expect(stats.daily.at(-1)?.total).toBe(8);
    expect(stats.throughputPerMinute).toBeGreaterThan(0);

    // Listener calls are not awaited by the run; let the exporter's microtasks settle.
    await new Promise((r) => setImmediate(r));
    const counts = (await PIPELINE_COUNT.get()).values.map((v) => [v.labels.status, v.value]);
    expect(Object.fromEntries(counts)).toEqual({ COMPLETED: 6, FAILED: 2 });
    expect((await PIPELINE_DURATION.get()).values.find((v) => v.metricName === "pipeline_duration_seconds_count")?.value).toBe(8);
  });
});

describe("event listeners", () => {
  it("calls each optional listener method with its documented arguments", async () => {
    const broker = new InMemoryBroker();
    const { tracking } = memoryTracking();
    const calls: string[] = [];
    const alerts: string[] = [];
    class MyListener {
      async onPipelineStart(pipelineId: string) {
        calls.push(`start ${pipelineId}`);
      }
      async onStepComplete(pipelineId: string, stepName: string, result: unknown) {
        calls.push(`step ${stepName} ${JSON.stringify(result)}`);
      }
      async onPipelineComplete(pipelineId: string, status: PipelineStatus) {
        calls.push(`complete ${status.status}`);
        if (status.status === "FAILED") alerts.push(pipelineId);
      }
      async onPipelineError(pipelineId: string, error: string) {
        calls.push(`error ${error}`);
      }
    }
    const listener = new MyListener();
    tracking.addListener(listener);

    const good = new Pipeline(broker).step("a", () => ({ rows: 3 })).withTracking(tracking);
    await (await good.kiq(undefined, { pipelineId: "good" })).waitResult();
    const bad = new Pipeline(broker)
      .step("a", () => 1)
      .step("b", () => {
        throw new Error("bad input");
      })
      .withTracking(tracking);
    await (await bad.kiq(undefined, { pipelineId: "bad" })).waitResult();

    expect(calls).toEqual([
      "start good",
      'step a {"rows":3}',
      "complete COMPLETED",
      "start bad",
      "step a 1",
      "error bad input",
      "complete FAILED",
    ]);
    expect(alerts).toEqual(["bad"]);
    expect(tracking.removeListener(listener)).toBe(true);
    await (await good.kiq()).waitResult();
    expect(calls).toHaveLength(7);
  });
});

describe("console output", () => {
  const t0 = new Date("2026-11-28T10:00:00.000Z");
  const status: PipelineStatus = {
    pipelineId: "etl_2026_11_28",
    pipelineName: "etl",
    status: "COMPLETED",
    pipelineType: "sequential",
    startedAt: t0,
    completedAt: new Date(t0.getTime() + 700),
    durationMs: 700,
    result: null,
    error: null,
    steps: [
      ["extract", 400],
      ["transform_and_clean", 200],
      ["load", 100],
    ].map(([stepName, durationMs]) => ({
      stepName: stepName as string,
      status: "COMPLETED" as const,
      startedAt: t0,
      completedAt: t0,
      durationMs: durationMs as number,
      result: null,
      error: null,
      dependsOn: [],
      attempts: 1,
      workerId: null,
    })),
  };

  it("prints the console loop: one bar of duration/10 blocks per step", () => {
    const out = [
      `\n${"=".repeat(60)}`,
      `Pipeline: ${status.pipelineId}`,
      `Status: ${status.status}`,
      `Duration: ${(status.durationMs ?? 0).toFixed(0)}ms`,
      "Steps:",
    ];
    for (const step of status.steps) {
      const bar = "█".repeat(Math.floor((step.durationMs ?? 0) / 10));
      out.push(`  ${step.stepName.padEnd(30)} ${bar} ${(step.durationMs ?? 0).toFixed(0)}ms`);
    }
    expect(out[6]).toBe(`  ${"transform_and_clean".padEnd(30)} ${"█".repeat(20)} 200ms`);
  });

  it("renderStatus scales bars to the longest step and aligns names", () => {
    const text = renderStatus(status, { barWidth: 40 });
    const lines = text.split("\n");
    expect(lines).toContain("Pipeline: etl_2026_11_28 (etl)");
    expect(lines).toContain("Status:   COMPLETED");
    expect(lines).toContain("Duration: 700ms");
    const stepLines = lines.filter((l) => /^ {2}\S/.test(l));
    expect(stepLines).toHaveLength(3);
    const bars = stepLines.map((l) => (l.match(/█+/)?.[0] ?? "").length);
    expect(bars).toEqual([40, 20, 10]);
    // Names are padded to one width, so the bars start in one column.
    expect(new Set(stepLines.map((l) => l.indexOf("█"))).size).toBe(1);
    expect(lines).toContain("Total: 3/3 steps completed, 700ms");
    // A run still going: pending steps get no bar and no crash on null durations.
    const pending = renderStatus({
      ...status,
      status: "RUNNING",
      durationMs: null,
      completedAt: null,
      steps: status.steps.map((s, i) => (i ? { ...s, status: "PENDING" as const, durationMs: null } : s)),
    });
    expect(pending).toContain("Total: 1/3 steps completed, -");
  });
});
