/**
 * Load for the UI benchmark (bench/ui-live.ts), behind the harness's control endpoint: many stored
 * finished runs to page through, and a steady stream of live list updates. Each live update names
 * its running step `bench-u<seq>`, so the page can tell when exactly that update is on screen.
 */
import type { PipewatchIo } from "../server/realtime";
import type { PipelineStatus, PipelineSummary, StepStatus } from "../lib/tracking/models";
import type { InMemoryPipelineStorage } from "../lib/tracking/storage/memory";

const STEPS = 5;
/** Live runs updated in turn: the newest ones, so they sit at the top of the list, in view. */
const LIVE_RUNS = 8;

/** Finished runs one minute apart, ending an hour ago: all older than anything live. */
export async function insertBulkRuns(storage: InMemoryPipelineStorage, count: number, prefix: string): Promise<number> {
  const end = Date.now() - 3_600_000;
  for (let i = 0; i < count; i++) {
    const startedAt = new Date(end - (count - i) * 60_000);
    const failed = i % 7 === 0;
    const step = (n: number): StepStatus => ({
      stepName: `step-${n}`,
      status: failed && n === 2 ? "FAILED" : "COMPLETED",
      startedAt,
      completedAt: new Date(startedAt.getTime() + 1_000),
      durationMs: 1_000,
      result: null,
      error: failed && n === 2 ? "bench failure" : null,
      dependsOn: [],
      attempts: 1,
      workerId: "bench",
    });
    const status: PipelineStatus = {
      pipelineId: `${prefix}_${String(i).padStart(5, "0")}`,
      pipelineName: `bulk-${i % 40}`,
      status: failed ? "FAILED" : "COMPLETED",
      pipelineType: "sequential",
      startedAt,
      completedAt: new Date(startedAt.getTime() + 3_000),
      durationMs: 3_000,
      result: null,
      error: failed ? "bench failure" : null,
      steps: [0, 1, 2].map(step),
    };
    await storage.saveStatus(status);
  }
  return count;
}

/**
 * `perSecond` updates for `seconds`: one in five starts a new run (it slides in at the top), one in
 * five touches a bulk run far down the list (merged, never painted), the rest advance a live run.
 * A live run that reaches its last step completes and leaves the live set.
 */
export async function streamUpdates(
  io: PipewatchIo,
  {
    perSecond,
    seconds,
    prefix,
    bulkPrefix,
    bulkCount,
  }: { perSecond: number; seconds: number; prefix: string; bulkPrefix: string; bulkCount: number },
): Promise<{ sent: number; marked: number }> {
  const live: PipelineSummary[] = [];
  let seq = 0;
  let marked = 0;
  const total = Math.round(perSecond * seconds);
  const started = Date.now();
  const emitOne = () => {
    const n = seq++;
    const now = new Date().toISOString();
    let summary: PipelineSummary;
    if (n % 5 === 0 || live.length === 0) {
      summary = {
        pipelineId: `${prefix}_${n}`,
        pipelineName: "bench-live",
        status: "RUNNING",
        pipelineType: "sequential",
        startedAt: now,
        completedAt: null,
        durationMs: null,
        error: null,
        stepsTotal: STEPS,
        stepsCompleted: 0,
        stepsFailed: 0,
        currentStep: `bench-u${n}`,
      };
      live.unshift(summary);
      live.length = Math.min(live.length, LIVE_RUNS);
      marked++;
    } else if (n % 5 === 1) {
      const old = `${bulkPrefix}_${String((n * 7919) % Math.max(1, bulkCount)).padStart(5, "0")}`;
      summary = {
        pipelineId: old,
        pipelineName: "bulk-touched",
        status: "COMPLETED",
        pipelineType: "sequential",
        startedAt: new Date(Date.now() - 7_200_000).toISOString(),
        completedAt: now,
        durationMs: 3_000,
        error: null,
        stepsTotal: 3,
        stepsCompleted: 3,
        stepsFailed: 0,
        currentStep: null,
      };
    } else {
      const index = n % live.length;
      const run = live[index]!;
      const done = run.stepsCompleted + 1;
      summary =
        done >= STEPS
          ? {
              ...run,
              status: "COMPLETED",
              stepsCompleted: STEPS,
              currentStep: null,
              completedAt: now,
              durationMs: Date.now() - Date.parse(run.startedAt),
            }
          : { ...run, stepsCompleted: done, currentStep: `bench-u${n}` };
      if (done >= STEPS) live.splice(index, 1);
      else {
        live[index] = summary;
        marked++;
      }
    }
    io.emit("pipeline:update", summary);
  };
  await new Promise<void>((resolve) => {
    // Paced against the wall clock, so timer drift never lowers the rate.
    const timer = setInterval(() => {
      const due = Math.min(total, Math.floor(((Date.now() - started) / 1000) * perSecond));
      while (seq < due) emitOne();
      if (seq >= total) {
        clearInterval(timer);
        resolve();
      }
    }, 5);
  });
  return { sent: seq, marked };
}
