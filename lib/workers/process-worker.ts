/**
 * A process that runs pipelines itself (the in-memory broker: a script, a service, the dashboard's
 * demo) reporting as a worker: it heartbeats into the storage's registry like a BullMQ worker
 * (heartbeat.ts), so the dashboard's /workers page lists it, live. Its active steps and counts come
 * from the tracking manager's change stream: every local transition carries the run's steps, so the
 * steps RUNNING here under this broker's workerId are known without a read.
 *
 *   const worker = startProcessWorker({ broker, tracking, concurrency: 4, pipelines: () => [etl.describe()] });
 *   // … at exit: await worker.stop();
 */
import { hostname } from "node:os";
import { defaultLogger, type Logger } from "../logger";
import type { Broker } from "../pipeline/broker";
import type { PipelineTrackingManager, StatusChange } from "../tracking/manager";
import { isFinished } from "../tracking/models";
import { WorkerHeartbeat } from "./heartbeat";
import type { ActiveStep, PipelineDefinitionInfo } from "./types";

export interface ProcessWorkerOptions {
  broker: Broker;
  tracking: PipelineTrackingManager;
  /** How many runs this process takes on at once (reported, not enforced). */
  concurrency: number;
  /** What it can run, read at every heartbeat. */
  pipelines: () => PipelineDefinitionInfo[];
  /** Default: the tracking manager's. */
  logger?: Logger;
  /** Default WORKER_HEARTBEAT_MS. */
  heartbeatMs?: number;
}

export interface ProcessWorker {
  /** Writes the final heartbeat (`stopped`): the dashboard lists itself offline at once. */
  stop(): Promise<void>;
}

export function startProcessWorker(options: ProcessWorkerOptions): ProcessWorker {
  const { broker, tracking, concurrency, pipelines } = options;
  const logger = options.logger ?? tracking.logger ?? defaultLogger();
  const startedAt = new Date();
  /** Per run executing here: its steps RUNNING under this broker, by name. */
  const running = new Map<string, Map<string, ActiveStep>>();
  let processed = 0;
  let failed = 0;

  const heartbeat = new WorkerHeartbeat(
    tracking.storage,
    () => ({
      workerId: broker.workerId,
      hostname: hostname(),
      pid: process.pid,
      startedAt,
      concurrency,
      active: [...running.values()].flatMap((steps) => [...steps.values()]),
      processed,
      failed,
      pipelines: pipelines(),
    }),
    { logger, intervalMs: options.heartbeatMs },
  );

  const onStatus = ({ status, local }: StatusChange): void => {
    if (!local) return;
    const before = running.get(status.pipelineId) ?? new Map<string, ActiveStep>();
    const now = new Map<string, ActiveStep>();
    for (const step of status.steps) {
      if (step.workerId !== broker.workerId) continue;
      if (step.status === "RUNNING" && step.startedAt) {
        now.set(step.stepName, { pipelineId: status.pipelineId, stepName: step.stepName, startedAt: step.startedAt });
      } else if (before.has(step.stepName) && (step.status === "COMPLETED" || step.status === "FAILED")) {
        processed++;
        if (step.status === "FAILED") failed++;
      }
    }
    if (isFinished(status.status) || now.size === 0) running.delete(status.pipelineId);
    else running.set(status.pipelineId, now);
    if (now.size !== before.size || [...now.keys()].some((name) => !before.has(name))) heartbeat.touch();
  };
  const unsubscribe = tracking.onChange("status", onStatus);
  void heartbeat.start();

  return {
    async stop() {
      unsubscribe();
      running.clear();
      await heartbeat.stop({ stopped: true });
    },
  };
}
