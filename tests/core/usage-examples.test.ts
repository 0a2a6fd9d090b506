/**
 * Usage examples of the library, one per capability (quick start, queries, storages, hooks,
 * metrics, listeners, console output, production practices), run as written.
 */
import { Redis } from "ioredis";
import { Counter, Histogram, Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import {
  HookManager,
  InMemoryBroker,
  InMemoryPipelineStorage,
  Pipeline,
  PipelineScheduler,
  PipelineTrackingManager,
  RedisPipelineStorage,
  TrackingEventBroadcaster,
  renderStatus,
  type HookEvents,
  type PipelineStatus,
} from "../../lib";
import { TEST_REDIS_URL } from "../test-redis-url";
import { deferred, memoryTracking, silentLogger } from "./helpers";

const DAY_MS = 86_400_000;

function importedRun(pipelineId: string, startedAt: Date, status: PipelineStatus["status"] = "COMPLETED"): PipelineStatus {
  return {
    pipelineId,
    pipelineName: "import",
    status,
    pipelineType: "sequential",
    startedAt,
    completedAt: status === "RUNNING" ? null : new Date(startedAt.getTime() + 1000),
    durationMs: status === "RUNNING" ? null : 1000,
    result: null,
    error: status === "FAILED" ? "old failure" : null,
    steps: [
      {
        stepName: "only",
        status: status === "RUNNING" ? "RUNNING" : "COMPLETED",
        startedAt,
        completedAt: null,
        durationMs: null,
        result: null,
        error: null,
        dependsOn: [],
        attempts: 1,
        workerId: null,
      },
    ],
  };
}

describe("quick start", () => {
  it("tracks a run and answers its status", async () => {
    const broker = new InMemoryBroker();
    const tracking = new PipelineTrackingManager({ logger: silentLogger() }).withAutoStorage(broker);
    const pipeline = new Pipeline(broker)
      .step("double", async (n: number) => n * 2)
      .step("describe", async (n) => `got ${n}`)
      .withTracking(tracking);

    const task = await pipeline.kiq(21);
    const result = await task.waitResult();

    const status = await tracking.getStatus(pipeline.pipelineId);
    expect(result.returnValue).toBe("got 42");
    expect(status?.status).toBe("COMPLETED");
    expect(status?.steps).toHaveLength(2);
    expect(typeof status?.durationMs).toBe("number");
    expect(status?.pipelineId).toBe(task.pipelineId);
  });
});

describe("initialization", () => {
  it("picks memory for a plain broker and Redis for a broker with a Redis connection", async () => {
    const broker = new InMemoryBroker();
    expect(new PipelineTrackingManager().withAutoStorage(broker).storage).toBeInstanceOf(InMemoryPipelineStorage);

    const redisClient = new Redis(TEST_REDIS_URL, { lazyConnect: true });
    try {
      const redisBroker = new InMemoryBroker({ redis: redisClient });
      const auto = new PipelineTrackingManager().withAutoStorage(redisBroker);
      expect(auto.storage).toBeInstanceOf(RedisPipelineStorage);
      expect(auto.storage.kind).toBe("redis");
      // Options 2 and 3: explicit storages.
      expect(new PipelineTrackingManager().withStorage(new InMemoryPipelineStorage()).storage.kind).toBe("memory");
      expect(new PipelineTrackingManager().withStorage(new RedisPipelineStorage(redisClient)).storage).toBeInstanceOf(RedisPipelineStorage);
    } finally {
      redisClient.disconnect();
    }
  });

  it("refuses something that is not a storage", () => {
    expect(() => new PipelineTrackingManager().withStorage({} as never)).toThrow(TypeError);
  });
});

describe("querying status", () => {
  it("answers a completed run's duration and result, a failed run's error", async () => {
    const broker = new InMemoryBroker();
    const { tracking } = memoryTracking();
    const ok = new Pipeline(broker, { name: "ok" }).step("answer", () => 42).withTracking(tracking);
    const bad = new Pipeline(broker, { name: "bad" })
      .step("explode", () => {
        throw new Error("disk full");
      })
      .withTracking(tracking);
    await (await ok.kiq()).waitResult();
    await (await bad.kiq()).waitResult();

    const lines: string[] = [];
    for (const pipelineId of [ok.pipelineId, bad.pipelineId]) {
      const status = await tracking.getStatus(pipelineId);
      if (status?.status === "COMPLETED") {
        lines.push(`Pipeline finished in ${status.durationMs}ms`, `Result: ${String(status.result)}`);
      } else if (status?.status === "FAILED") {
        lines.push(`Failed: ${status.error}`);
      }
    }
    expect(lines[0]).toMatch(/^Pipeline finished in [\d.]+ms$/);
    expect(lines.slice(1)).toEqual(["Result: 42", "Failed: disk full"]);
  });

  it("lists all runs newest first and filters by status", async () => {
    const broker = new InMemoryBroker();
    const { tracking } = memoryTracking();
    const release = deferred();
    const slow = new Pipeline(broker, { name: "slow" }).step("wait", () => release.promise).withTracking(tracking);
    const fine = new Pipeline(broker, { name: "fine" }).step("noop", () => null).withTracking(tracking);
    const broken = new Pipeline(broker, { name: "broken" })
      .step("fail", () => {
        throw new Error("nope");
      })
      .withTracking(tracking);
    await (await fine.kiq(undefined, { pipelineId: "fine-1" })).waitResult();
    await (await broken.kiq(undefined, { pipelineId: "broken-1" })).waitResult();
    const slowTask = await slow.kiq(undefined, { pipelineId: "slow-1" });

    const printed: string[] = [];
    const allStatuses = await tracking.listPipelines();
    for (const status of allStatuses) printed.push(`${status.pipelineId}: ${status.status}`);
    expect(printed.sort()).toEqual(["broken-1: FAILED", "fine-1: COMPLETED", "slow-1: RUNNING"]);

    const running = await tracking.listPipelines({ status: "RUNNING" });
    const failed = await tracking.listPipelines({ status: "FAILED" });
    const completed = await tracking.listPipelines({ status: "COMPLETED" });
    expect(running.map((s) => s.pipelineId)).toEqual(["slow-1"]);
    expect(failed.map((s) => s.pipelineId)).toEqual(["broken-1"]);
    expect(completed.map((s) => s.pipelineId)).toEqual(["fine-1"]);
    release.resolve();
    await slowTask.waitResult();
    expect(await tracking.listPipelines({ status: "RUNNING" })).toEqual([]);
  });

  it("answers the last N runs and runs since a date", async () => {
    const { tracking } = memoryTracking();
    const now = Date.now();
    for (let i = 0; i < 15; i++) await tracking.storage.saveStatus(importedRun(`hist-${i}`, new Date(now - i * DAY_MS - 3_600_000)));

    const history = await tracking.getHistory({ limit: 10 });
    expect(history.map((s) => s.pipelineId)).toEqual(Array.from({ length: 10 }, (_, i) => `hist-${i}`));

    const weekAgo = new Date(Date.now() - 7 * DAY_MS);
    const recent = await tracking.getHistory({ since: weekAgo });
    expect(recent.map((s) => s.pipelineId)).toEqual(Array.from({ length: 7 }, (_, i) => `hist-${i}`));
    await expect(tracking.getHistory({ since: new Date("nope") })).rejects.toThrow(TypeError);
  });

  it("deletes records older than 30 days and a specific run", async () => {
    const broker = new InMemoryBroker();
    const { tracking } = memoryTracking();
    const now = Date.now();
    await tracking.storage.saveStatus(importedRun("ancient-1", new Date(now - 40 * DAY_MS)));
    await tracking.storage.saveStatus(importedRun("ancient-2", new Date(now - 31 * DAY_MS), "FAILED"));
    await tracking.storage.saveStatus(importedRun("ancient-stuck", new Date(now - 60 * DAY_MS), "RUNNING"));
    await tracking.storage.saveStatus(importedRun("recent", new Date(now - 29 * DAY_MS)));
    const pipeline = new Pipeline(broker).step("x", () => 1).withTracking(tracking);
    await (await pipeline.kiq()).waitResult();

    const deleted = await tracking.cleanupOlderThan({ days: 30 });
    expect(`Deleted ${deleted} old pipeline records`).toBe("Deleted 2 old pipeline records");
    expect((await tracking.listPipelines()).map((s) => s.pipelineId).sort()).toEqual(
      ["ancient-stuck", pipeline.pipelineId, "recent"].sort(),
    );

    expect(await tracking.deletePipeline(pipeline.pipelineId)).toBe(true);
    expect(await tracking.getStatus(pipeline.pipelineId)).toBeNull();
    expect(await tracking.deletePipeline(pipeline.pipelineId)).toBe(false);
    await expect(tracking.cleanupOlderThan({ days: -1 })).rejects.toThrow(RangeError);
  });
});

describe("InMemoryPipelineStorage", () => {
  it("keeps data in this process only: a new storage starts empty", async () => {
    const broker = new InMemoryBroker();
    const storage = new InMemoryPipelineStorage();
    const tracking = new PipelineTrackingManager({ logger: silentLogger() }).withStorage(storage);
    const pipeline = new Pipeline(broker).step("x", () => "kept").withTracking(tracking);
    await (await pipeline.kiq()).waitResult();
    expect(storage.size).toBe(1);
    expect((await tracking.getStatus(pipeline.pipelineId))?.result).toBe("kept");
    // "On restart, all history is lost": another storage knows nothing of it.
    const restarted = new PipelineTrackingManager({ logger: silentLogger() }).withStorage(new InMemoryPipelineStorage());
    expect(await restarted.getStatus(pipeline.pipelineId)).toBeNull();
  });
});

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

describe("production practices", () => {
  let scheduler: PipelineScheduler | null = null;
  afterEach(() => scheduler?.stopAll());

  it("schedules a daily cleanup at 3 AM", async () => {
    const broker = new InMemoryBroker();
    const { tracking } = memoryTracking();
    await tracking.storage.saveStatus(importedRun("very-old", new Date(Date.now() - 10 * DAY_MS)));
    const printed: string[] = [];
    async function cleanupOldTrackings() {
      const deleted = await tracking.cleanupOlderThan({ days: 7 });
      printed.push(`Cleaned up ${deleted} old pipeline records`);
    }
    scheduler = new PipelineScheduler(broker, { logger: silentLogger() });
    const handle = scheduler.scheduleAt(cleanupOldTrackings, { runAt: "0 3 * * *" });
    const next = handle.nextRun();
    expect(next).toBeInstanceOf(Date);
    expect(next!.getUTCHours()).toBe(3);
    expect(next!.getUTCMinutes()).toBe(0);
    expect(next!.getTime() - Date.now()).toBeLessThanOrEqual(DAY_MS);
    expect(next!.getTime()).toBeGreaterThan(Date.now());
    await cleanupOldTrackings();
    expect(printed).toEqual(["Cleaned up 1 old pipeline records"]);
    handle.stop();
    expect(handle.nextRun()).toBeNull();
  });

  async function trackingHealth(broker: InMemoryBroker, tracking: PipelineTrackingManager) {
    try {
      const testPipeline = new Pipeline(broker).step("ping", (x) => x).withTracking(tracking);
      await testPipeline.kiq("health_check");
      return { status: "healthy" };
    } catch (e) {
      return { status: "unhealthy", error: e instanceof Error ? e.message : String(e) };
    }
  }

  it("reports healthy with a storage and unhealthy without one", async () => {
    const broker = new InMemoryBroker();
    expect(await trackingHealth(broker, memoryTracking().tracking)).toEqual({ status: "healthy" });
    expect(await trackingHealth(broker, new PipelineTrackingManager({ logger: silentLogger() }))).toEqual({
      status: "unhealthy",
      error: "No tracking storage configured",
    });
  });

  it("keeps only the newest 100 runs per id pattern", async () => {
    const { tracking } = memoryTracking();
    const now = Date.now();
    for (let i = 0; i < 130; i++) await tracking.storage.saveStatus(importedRun(`etl_${i}`, new Date(now - i * 60_000)));
    for (let i = 0; i < 40; i++) await tracking.storage.saveStatus(importedRun(`batch_job_${i}`, new Date(now - i * 60_000)));
    for (let i = 0; i < 120; i++) await tracking.storage.saveStatus(importedRun(`other_${i}`, new Date(now - i * 60_000)));
    // fnmatch-style patterns; "*" is any run of characters.
    const fnmatch = (id: string, pattern: string) =>
      new RegExp(
        `^${pattern
          .split("*")
          .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
          .join(".*")}$`,
      ).test(id);

    const patterns = ["batch_job_*", "etl_*"];
    for (const pattern of patterns) {
      const old = await tracking.listPipelines();
      const matching = old.filter((p) => fnmatch(p.pipelineId, pattern));
      if (matching.length > 100) {
        // Newest first: everything past the first 100 is the oldest, so it goes.
        for (const oldPipeline of matching.slice(100)) await tracking.deletePipeline(oldPipeline.pipelineId);
      }
    }
    const left = (await tracking.listPipelines()).map((s) => s.pipelineId);
    expect(left.filter((id) => id.startsWith("etl_"))).toEqual(Array.from({ length: 100 }, (_, i) => `etl_${i}`));
    expect(left.filter((id) => id.startsWith("batch_job_"))).toHaveLength(40);
    expect(left.filter((id) => id.startsWith("other_"))).toHaveLength(120);
  });
});

describe("no tracking storage configured", () => {
  it("every manager method fails with the exact error before a storage is set", async () => {
    const tracking = new PipelineTrackingManager({ logger: silentLogger() });
    const message = "No tracking storage configured";
    const calls: [string, () => Promise<unknown>][] = [
      ["getStatus", () => tracking.getStatus("x")],
      ["listPipelines", () => tracking.listPipelines()],
      ["listPage", () => tracking.listPage()],
      ["countByStatus", () => tracking.countByStatus()],
      ["getHistory", () => tracking.getHistory({ limit: 10 })],
      ["cleanupOlderThan", () => tracking.cleanupOlderThan({ days: 30 })],
      ["deletePipeline", () => tracking.deletePipeline("x")],
      ["getMetrics", () => tracking.getMetrics({ days: 7 })],
      ["cancel", () => tracking.cancel("x")],
    ];
    for (const [name, call] of calls) {
      const error = await call().then(
        () => null,
        (e: unknown) => e,
      );
      expect(error, name).toBeInstanceOf(Error);
      expect((error as Error).message, name).toBe(message);
    }
    expect(() => tracking.addListener(() => undefined)).toThrow(new Error(message));
    expect(() => tracking.removeListener(() => undefined)).toThrow(new Error(message));
    expect(() => tracking.storage).toThrow(new Error(message));

    // A tracked pipeline cannot start either, and the failed kiq leaves nothing behind.
    const pipeline = new Pipeline(new InMemoryBroker()).step("x", () => 1).withTracking(tracking);
    await expect(pipeline.kiq(undefined, { pipelineId: "no-storage" })).rejects.toThrow(message);
    tracking.withStorage(new InMemoryPipelineStorage());
    const task = await pipeline.kiq(undefined, { pipelineId: "no-storage" });
    expect((await task.waitResult()).returnValue).toBe(1);
  });
});
