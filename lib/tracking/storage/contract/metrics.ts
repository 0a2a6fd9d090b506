/** Storage contract: metrics against computeMetrics. */
import { beforeEach, describe, expect, it } from "vitest";
import { computeMetrics } from "../../metrics";
import type { PipelineMetrics } from "../../metrics-types";
import { type PipelineStatus, type Status } from "../../models";
import type { TrackingStorage } from "../types";
import { DAY_MS, FINISHED, expectMetricsMatch, makeRun, makeStep, seeded, uniqueId } from "./helpers";

export function describeMetricsContract(current: () => TrackingStorage): void {
  let storage: TrackingStorage;
  beforeEach(() => {
    storage = current();
  });

  describe("getMetrics", () => {
    it("matches computeMetrics over the same runs (pinned now)", async () => {
      const now = new Date();
      const random = seeded(20261128);
      const runs: PipelineStatus[] = [];
      const reasons = ["Timeout talking to db", "KeyError: 'id'\ntraceback...", "", "x".repeat(300)];
      for (let i = 0; i < 160; i++) {
        // Mostly inside a 7-day window, some before it.
        const ageMs = random() * 9 * DAY_MS;
        const startedAt = new Date(now.getTime() - ageMs);
        const roll = random();
        const status: Status =
          roll < 0.55 ? "COMPLETED" : roll < 0.8 ? "FAILED" : roll < 0.9 ? "CANCELLED" : roll < 0.95 ? "RUNNING" : "PENDING";
        const finished = FINISHED.includes(status);
        const stepNames = ["extract", "transform", "load"].slice(0, 1 + (i % 3));
        const steps = stepNames.map((stepName, k) => {
          const failedHere = status === "FAILED" && k === stepNames.length - 1;
          const durationMs = Math.round(random() * (k + 1) * 400) + (i % 7 === 0 ? 0.25 : 0);
          const stepStatus: Status =
            !finished && k === stepNames.length - 1
              ? "RUNNING"
              : status === "CANCELLED" && k === stepNames.length - 1
                ? "CANCELLED"
                : failedHere
                  ? "FAILED"
                  : "COMPLETED";
          const done = stepStatus === "COMPLETED" || stepStatus === "FAILED";
          return makeStep(stepName, {
            status: stepStatus,
            startedAt,
            completedAt: done ? new Date(startedAt.getTime() + durationMs) : null,
            durationMs: done ? durationMs : null,
            error: failedHere ? "step failed" : null,
            attempts: 1,
          });
        });
        runs.push(
          makeRun(uniqueId(`m${i}`), {
            status,
            startedAt,
            steps,
            durationMs: finished ? Math.round(random() * 5000) + (i % 5 === 0 ? 0.5 : 0) : null,
            error: status === "FAILED" ? reasons[i % reasons.length]! : null,
            pipelineType: i % 2 ? "dataflow" : "sequential",
          }),
        );
      }
      // Some runs arrive the way the manager writes them: RUNNING first, steps, then the end.
      for (const [i, run] of runs.entries()) {
        if (i % 4 === 0 && FINISHED.includes(run.status)) {
          await storage.saveStatus({
            ...run,
            status: "RUNNING",
            completedAt: null,
            durationMs: null,
            error: null,
            steps: run.steps.map((s) => makeStep(s.stepName)),
          });
          for (const step of run.steps) await storage.saveStep(run.pipelineId, step);
        }
        await storage.saveStatus(run);
      }
      for (const days of [1, 7, 30]) {
        const actual = await storage.getMetrics({ days, now });
        expectMetricsMatch(actual, computeMetrics(runs, { days, now }));
      }
      const week = await storage.getMetrics({ days: 7, now });
      expect(week.totalPipelines).toBeGreaterThan(50);
      expect(Object.keys(week.failureReasons).length).toBeGreaterThan(1);
    });

    it("answers zero-filled UTC days and a null success rate on an empty store", async () => {
      const now = new Date("2026-03-04T05:06:07.000Z");
      const m = await storage.getMetrics({ days: 7, now });
      expect(m).toEqual({
        days: 7,
        from: "2026-02-26T00:00:00.000Z",
        to: now.toISOString(),
        totalPipelines: 0,
        completed: 0,
        failed: 0,
        cancelled: 0,
        running: 0,
        successRate: null,
        avgDurationMs: null,
        p50DurationMs: null,
        p95DurationMs: null,
        throughputPerMinute: 0,
        failureReasons: {},
        daily: ["02-26", "02-27", "02-28", "03-01", "03-02", "03-03", "03-04"].map((d) => ({
          date: `2026-${d}`,
          total: 0,
          completed: 0,
          failed: 0,
          cancelled: 0,
          successRate: null,
          avgDurationMs: null,
        })),
        busiestHours: Array.from({ length: 24 }, (_, hour) => ({ hour, count: 0 })),
        steps: [],
      } satisfies PipelineMetrics);
    });
  });
}
