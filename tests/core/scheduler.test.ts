/** PipelineScheduler: cron with 5 fields or 6 (seconds first), invalid expressions refused, stop() works. */
import { afterEach, describe, expect, it } from "vitest";
import { InMemoryBroker, Pipeline, PipelineScheduler } from "../../lib";
import { memoryTracking, silentLogger, sleep } from "./helpers";

describe("PipelineScheduler", () => {
  const scheduler = new PipelineScheduler(new InMemoryBroker(), { logger: silentLogger() });
  afterEach(() => scheduler.stopAll());

  it.each(["not a cron", "* * * *", "* * * * * * *", "61 * * * *", "* 25 * * *", ""])("throws for %j", (expr) => {
    expect(() => scheduler.scheduleAt(() => undefined, { runAt: expr })).toThrow(/Invalid cron expression/);
  });

  it("computes the next 5-field run in UTC", () => {
    const handle = scheduler.scheduleAt(() => undefined, { runAt: "30 4 * * 1" });
    const next = handle.nextRun()!;
    expect([next.getUTCDay(), next.getUTCHours(), next.getUTCMinutes(), next.getUTCSeconds()]).toEqual([1, 4, 30, 0]);
    handle.stop();
  });

  it("fires a 6-field seconds schedule, keeps going after a failing job, and stops", async () => {
    let fired = 0;
    const handle = scheduler.scheduleAt(
      () => {
        fired++;
        throw new Error("a failing job is logged, not fatal");
      },
      { runAt: "* * * * * *" },
    );
    const next = handle.nextRun()!;
    expect(next.getTime() - Date.now()).toBeLessThanOrEqual(1000);
    const deadline = Date.now() + 2500;
    while (fired < 2 && Date.now() < deadline) await sleep(20);
    expect(fired).toBeGreaterThanOrEqual(2);
    handle.stop();
    const stoppedAt = fired;
    await sleep(1100); // on purpose: longer than the one-second schedule, and nothing may fire
    expect(fired).toBe(stoppedAt);
    expect(handle.nextRun()).toBeNull();
  });

  it("kiqs a pipeline on schedule", async () => {
    const { tracking } = memoryTracking();
    const pipeline = new Pipeline(new InMemoryBroker(), { name: "scheduled" }).step("tick", () => "tock").withTracking(tracking);
    const handle = scheduler.scheduleAt(pipeline as Pipeline, { runAt: "*/1 * * * * *" });
    const deadline = Date.now() + 2500;
    while ((await tracking.listPipelines()).length === 0 && Date.now() < deadline) await sleep(20);
    handle.stop();
    const runs = await tracking.listPipelines();
    expect(runs.length).toBeGreaterThanOrEqual(1);
    expect(runs[0]!.pipelineName).toBe("scheduled");
  });
});
