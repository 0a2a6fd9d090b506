/**
 * The worker side of BullMQBroker: one BullMQ Worker per registered pipeline's queue, each step job
 * run through the execution state (execution-state.ts), every transition recorded in the Redis
 * tracking storage, and the run ended by the worker that finishes its last (or a failing) step.
 *
 * - Cancel from anywhere: the runs with steps running here are read back four times a second; once one
 *   reads finished (cancelled, swept) or deleted, its steps' `ctx.signal` aborts and nothing more is
 *   recorded.
 * - Leases: every leaseMs / 3 the worker renews the runs with steps enqueued or running on its queues,
 *   so a backlog is never "lost"; it sweeps expired leases like any manager. BullMQ's lock and stalled
 *   check (leaseMs / 4 each) hand a dead worker's step to another worker within leaseMs / 2.
 * - close({ graceMs }): takes no new jobs, lets running steps finish within graceMs, then puts the
 *   unfinished ones back on their queue (never CANCELLED), records a last heartbeat and disconnects.
 */
import { hostname } from "node:os";
import type { Worker } from "bullmq";
import type { Logger } from "../../logger";
import type { Pipeline } from "../../pipeline/pipeline";
import { PipelineTrackingManager } from "../../tracking/manager";
import { isFinished } from "../../tracking/models";
import { RedisPipelineStorage } from "../../tracking/storage/redis/storage";
import { WorkerHeartbeat } from "../../workers/heartbeat";
import type { WorkerInfo } from "../../workers/types";
import type { ActiveStep } from "./attempt";
import type { BullMQBroker } from "./broker";
import { loadBullMQ } from "./load";
import type { RunPlan } from "./plan";
import { CoalescedChecks, readRunState } from "./run-waiter";
import { StepJobs } from "./step-jobs";

export interface StartWorkerOptions {
  /** The pipelines this worker runs (found by name); each must use this broker. */
  pipelines: readonly Pipeline<never, unknown>[];
  /** Steps run at once per queue. Default 1. */
  concurrency?: number;
  /** How long in-flight steps may finish at `close()` before going back to the queue. Default 10 000. */
  graceMs?: number;
  /** Lease length of the runs this worker holds; also sets BullMQ's stalled-job check. Default: the broker's. */
  leaseMs?: number;
  logger?: Logger;
}

export interface WorkerHandle {
  readonly workerId: string;
  /** Stops taking jobs, lets in-flight steps finish within `graceMs`, returns the rest to the queue. */
  close(options?: { graceMs?: number }): Promise<void>;
}

export const DEFAULT_WORKER_GRACE_MS = 10_000;
/** How often the runs with steps running here are checked for an end elsewhere (a cancel reaches a step within it). */
const RUN_WATCH_MS = 250;
/** The error a step's signal aborts with when its worker stops and the step goes back to the queue. */
export const WORKER_STOPPING_MESSAGE = "worker shutting down: the step goes back to the queue";

export class StepWorker implements WorkerHandle {
  readonly workerId: string;
  readonly closed: Promise<void>;
  private resolveClosed!: () => void;
  private readonly logger: Logger;
  private readonly plans = new Map<string, RunPlan>();
  private readonly concurrency: number;
  private readonly graceMs: number;
  private readonly leaseMs: number;
  private readonly storage: RedisPipelineStorage;
  private readonly tracking: PipelineTrackingManager;
  private readonly heartbeat: WorkerHeartbeat;
  private readonly jobs: StepJobs;
  private readonly runChecks = new CoalescedChecks((id) => this.checkRun(id));
  private readonly bullWorkers: Worker[] = [];
  private readonly active = new Map<string, ActiveStep>();
  private readonly startedAt = new Date();
  private watchTimer: NodeJS.Timeout | null = null;
  private leaseTimer: NodeJS.Timeout | null = null;
  private closing: Promise<void> | null = null;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly broker: BullMQBroker,
    options: StartWorkerOptions,
  ) {
    this.logger = (options.logger ?? broker.logger).child({ workerId: broker.workerId });
    this.workerId = broker.workerId;
    if (!options || !Array.isArray(options.pipelines) || options.pipelines.length === 0) {
      throw new TypeError("startWorker needs { pipelines }: at least one Pipeline of this broker");
    }
    for (const pipeline of options.pipelines) {
      if (pipeline.broker !== broker) throw new TypeError(`Pipeline "${pipeline.name ?? "(unnamed)"}" does not use this BullMQBroker`);
      const plan = broker.planFor(pipeline);
      if (this.plans.has(plan.queue)) throw new TypeError(`Two pipelines are named "${plan.name}": a worker finds pipelines by name`);
      this.plans.set(plan.queue, plan);
    }
    this.concurrency = positiveInteger(options.concurrency ?? 1, "concurrency");
    this.graceMs = nonNegative(options.graceMs ?? DEFAULT_WORKER_GRACE_MS, "graceMs");
    this.leaseMs = options.leaseMs ?? broker.leaseMs;
    if (!(Number.isFinite(this.leaseMs) && this.leaseMs >= 1000)) throw new RangeError("leaseMs must be a number of at least 1000");
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    this.storage = new RedisPipelineStorage(broker.redis as never, { keyPrefix: broker.keyPrefix, logger: this.logger });
    // A manager of its own: it sweeps expired leases like every manager sharing the storage.
    this.tracking = new PipelineTrackingManager({ logger: this.logger, leaseMs: this.leaseMs, workerId: this.workerId }).withStorage(
      this.storage,
    );
    this.heartbeat = new WorkerHeartbeat(this.storage, () => this.info(), { logger: this.logger });
    this.jobs = new StepJobs({
      broker,
      storage: this.storage,
      logger: this.logger,
      workerId: this.workerId,
      active: this.active,
      onActivity: () => {
        this.heartbeat.touch();
        if (this.active.size === 0) this.idleWaiters.splice(0).forEach((w) => w());
      },
    });
  }

  async start(): Promise<void> {
    const { Worker } = await loadBullMQ();
    // BullMQ's lock on an active job lasts leaseMs / 4 (renewed every leaseMs / 8) and the stalled check
    // runs every leaseMs / 4: a dead worker's step is back in the queue within leaseMs / 2.
    const quarter = Math.max(250, Math.floor(this.leaseMs / 4));
    for (const plan of this.plans.values()) {
      const worker = new Worker(plan.queue, (job, token) => this.jobs.processSafely(plan, job, token), {
        connection: this.broker.redis,
        prefix: this.broker.bullPrefix,
        concurrency: this.concurrency,
        lockDuration: quarter,
        stalledInterval: quarter,
        maxStalledCount: 3,
        name: this.workerId,
        autorun: false,
      });
      worker.on("error", (err) => this.logger.warn({ err, queue: plan.queue }, "BullMQ worker error"));
      worker.on("failed", (job, err) => {
        // BullMQ gives up on a job that stalled too often without our processor: end its run.
        if (job && /stalled more than allowable/.test(err.message)) void this.jobs.failStalled(plan, job);
      });
      this.bullWorkers.push(worker);
    }
    for (const worker of this.bullWorkers) void worker.run().catch((err: unknown) => this.logger.error({ err }, "BullMQ worker stopped"));
    await Promise.all(this.bullWorkers.map((w) => w.waitUntilReady()));
    this.leaseTimer = setInterval(() => void this.renewLeases(), this.leaseMs / 3);
    this.leaseTimer.unref();
    this.watchTimer = setInterval(() => this.watchRuns(), RUN_WATCH_MS);
    this.watchTimer.unref();
    await this.heartbeat.start();
    this.logger.info({ pipelines: [...this.plans.values()].map((p) => p.name), concurrency: this.concurrency }, "pipewatch worker started");
  }

  private info(): WorkerInfo {
    return {
      workerId: this.workerId,
      hostname: hostname(),
      pid: process.pid,
      startedAt: this.startedAt,
      concurrency: this.concurrency,
      active: [...this.active.values()].map((a) => ({ pipelineId: a.pipelineId, stepName: a.stepName, startedAt: a.startedAt })),
      processed: this.jobs.processed,
      failed: this.jobs.failed,
      pipelines: [...this.plans.values()].map((p) => ({
        name: p.name,
        pipelineType: p.dataflow ? "dataflow" : "sequential",
        steps: p.steps.map((s) => ({ name: s.def.name, dependsOn: s.def.dependsOn.slice() })),
      })),
    };
  }

  private runsHere(pipelineId: string): boolean {
    for (const a of this.active.values()) if (a.pipelineId === pipelineId) return true;
    return false;
  }

  /**
   * The runs with steps running here are read back every RUN_WATCH_MS (their status alone, one
   * pipelined read for all): a run that ended elsewhere (a cancel, a sweep) or was deleted stops its
   * steps here. Watching what runs here costs the same whatever the rest of the system writes, where
   * following the change feed would make every worker read every change of every run.
   */
  private watchRuns(): void {
    if (this.active.size === 0) return;
    for (const id of new Set([...this.active.values()].map((a) => a.pipelineId))) this.runChecks.request(id);
  }

  /** Once a run with steps here reads back finished or gone, its steps here stop. */
  private async checkRun(pipelineId: string): Promise<void> {
    if (!this.runsHere(pipelineId)) return;
    try {
      const state = await readRunState(this.storage, pipelineId);
      if (!state) this.stopRun(pipelineId, "Deleted");
      else if (isFinished(state.status)) this.stopRun(pipelineId, state.error ?? state.status);
    } catch (err) {
      this.logger.warn({ err, pipelineId }, "could not read a run to see whether it ended");
    }
  }

  private stopRun(pipelineId: string, reason: string): void {
    for (const a of this.active.values()) {
      if (a.pipelineId !== pipelineId || a.stop) continue;
      a.stop = "ended";
      a.controller.abort(new Error(reason));
    }
  }

  private async renewLeases(): Promise<void> {
    try {
      const ids = new Set<string>();
      for (const plan of this.plans.values()) {
        const open = (await this.broker.scripts.pwxOpen(
          this.broker.executionKeys.open(plan.queue),
          `${this.broker.keyPrefix}x:`,
          `${this.broker.keyPrefix}run:`,
        )) as string[];
        for (const id of open) ids.add(id);
      }
      if (ids.size > 0) await this.storage.renewLeases([...ids], this.leaseMs, this.workerId);
    } catch (err) {
      this.logger.warn({ err }, "could not renew the leases of this worker's runs");
    }
  }

  close(options: { graceMs?: number } = {}): Promise<void> {
    const graceMs = nonNegative(options.graceMs ?? this.graceMs, "graceMs");
    this.closing ??= this.shutDown(graceMs).finally(() => this.resolveClosed());
    return this.closing;
  }

  /**
   * Closes a BullMQ worker (no step of ours runs by now). A worker whose blocking connection was cut
   * and is reconnecting can wait on it for a long time: past BULL_CLOSE_MS its connections are closed.
   */
  private async closeBullWorker(worker: Worker): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const slow = new Promise<"slow">((resolve) => (timer = setTimeout(() => resolve("slow"), BULL_CLOSE_MS)));
    const outcome = await Promise.race([worker.close().then(() => "closed" as const), slow]);
    clearTimeout(timer);
    if (outcome === "slow") {
      this.logger.warn({ queue: worker.name }, "BullMQ worker slow to close; disconnecting it");
      // Not awaited: a connection stuck reconnecting must not hold the stop up either.
      worker.disconnect().catch(() => {});
    }
  }

  private async shutDown(graceMs: number): Promise<void> {
    await Promise.all(this.bullWorkers.map((w) => w.pause(true)));
    if (this.active.size > 0) {
      this.logger.info({ steps: this.active.size, graceMs }, "waiting for in-flight steps before stopping");
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, graceMs);
        this.idleWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    for (const a of this.active.values()) {
      if (a.stop) continue;
      a.stop = "requeue";
      a.controller.abort(new Error(WORKER_STOPPING_MESSAGE));
    }
    await Promise.allSettled(this.bullWorkers.map((w) => this.closeBullWorker(w)));
    if (this.leaseTimer) clearInterval(this.leaseTimer);
    if (this.watchTimer) clearInterval(this.watchTimer);
    await this.heartbeat.stop({ stopped: true });
    await this.tracking.close();
    this.logger.info({ processed: this.jobs.processed, failed: this.jobs.failed }, "pipewatch worker stopped");
  }
}

/** How long a BullMQ worker may take to close once no step runs here, before its connections are cut. */
const BULL_CLOSE_MS = 3_000;

function positiveInteger(n: number, name: string): number {
  if (!(Number.isInteger(n) && n > 0)) throw new RangeError(`${name} must be a positive integer`);
  return n;
}

function nonNegative(n: number, name: string): number {
  if (!(Number.isFinite(n) && n >= 0)) throw new RangeError(`${name} must be a non-negative number`);
  return n;
}
