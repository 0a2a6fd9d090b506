/**
 * BullMQBroker: runs pipeline steps on worker processes through BullMQ, the Redis job queue.
 *
 *   export const broker = new BullMQBroker({ connection: process.env.REDIS_URL!, prefix: "pipewatch:" });
 *   export const report = new Pipeline(broker, { name: "report" }).step(...);
 *   // producer:  const task = await report.withTracking(tracking).kiq(input);
 *   // worker:    pipewatch worker ./pipelines.js --concurrency 8   (or broker.startWorker({ pipelines }))
 *
 * Each step is one BullMQ job on the pipeline's queue. `kiq` stores the run, writes its execution
 * state and enqueues the root steps; from then on the workers orchestrate: the worker that finishes a
 * step enqueues the dependents that became ready (execution-state.ts decides that atomically), and
 * the one that finishes the last step (or a failing one) ends the run. The producer may exit once
 * `kiq` resolves. docs/distributed.md tells the whole story.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { Redis, type Cluster } from "ioredis";
import type { Queue } from "bullmq";
import { defaultLogger, type Logger } from "../../logger";
import type { Broker, DispatchRequest, DispatchedRun, StepContext, StepFunction, StepInvocation } from "../../pipeline/broker";
import type { TaskResult } from "../../pipeline/execution";
import type { Pipeline } from "../../pipeline/pipeline";
import { DEFAULT_LEASE_MS } from "../../tracking/leases";
import { PipelineTrackingManager } from "../../tracking/manager";
import type { PipelineStatus } from "../../tracking/models";
import { DEFAULT_CLUSTER_KEY_PREFIX, redisFromEnv } from "../../connection/redis-env";
import { DEFAULT_KEY_PREFIX, RedisKeys } from "../../tracking/storage/redis/keys";
import { executionScripts, type ExecutionScripts } from "./execution-state";
import { loadBullMQ } from "./load";
import { BROKER_ORIGIN_HEAD, bullPrefix, ExecutionKeys, stepJobId } from "./names";
import { DEFAULT_MAX_PAYLOAD_BYTES, encodePayload } from "./payload";
import { jobOptions, planOf, type RunPlan } from "./plan";
import { RunWaiter } from "./run-waiter";
import { StepWorker, type StartWorkerOptions, type WorkerHandle } from "./worker";

export interface BullMQBrokerOptions {
  /**
   * A Redis URL (the broker opens and owns the connection), or an ioredis `Redis` / `Cluster` of yours.
   * Default: from the environment, REDIS_URL or REDIS_CLUSTER_NODES (and REDIS_PREFIX).
   */
  connection?: string | Redis | Cluster;
  /** The tracking storage's key prefix; BullMQ's keys go under `<prefix>q:`. Default "pipewatch:", "{pipewatch}:" on a Cluster. */
  prefix?: string;
  /** Largest JSON input or output a step may pass on. Default 1 MiB. */
  maxPayloadBytes?: number;
  /** This process's id in leases, step records and the workers list. Default `<hostname>:<pid>`. */
  workerId?: string;
  /**
   * Lease length of the runs this broker's workers hold (and of runs dispatched without a tracking
   * manager of their own); also sets BullMQ's stalled-job check to hand a dead worker's step to
   * another within leaseMs / 2. Default 30 000.
   */
  leaseMs?: number;
  logger?: Logger;
}

/** How long a run's execution state outlives a run nobody ends (a backstop; every end removes it). */
const EXECUTION_STATE_TTL_MS = 7 * 24 * 3_600_000;
/** BullMQ's workers block on their connection: commands must wait through a reconnect, not fail. */
const WORKER_REDIS_OPTIONS = { maxRetriesPerRequest: null };

export class BullMQBroker implements Broker {
  readonly workerId: string;
  readonly redis: Redis | Cluster;
  readonly keyPrefix: string;
  readonly maxPayloadBytes: number;
  readonly leaseMs: number;
  readonly logger: Logger;
  /** BullMQ's key prefix. */
  readonly bullPrefix: string;
  readonly executionKeys: ExecutionKeys;
  readonly runKeys: RedisKeys;
  /** The execution-state scripts, defined once on the connection (execution-state.ts). */
  readonly scripts: ExecutionScripts;
  /** Marks this broker's writes in the change feed (they are other processes' news to every manager). */
  readonly origin = `${BROKER_ORIGIN_HEAD}${randomUUID()}`;
  private readonly ownsConnection: boolean;
  private readonly queues = new Map<string, Promise<Queue>>();
  private readonly plans = new WeakMap<object, RunPlan>();
  private ownTracking: PipelineTrackingManager | null = null;
  private readonly waiters = new WeakMap<object, RunWaiter>();
  private readonly workers = new Set<StepWorker>();

  constructor(options: BullMQBrokerOptions = {}) {
    if (typeof options !== "object" || options === null) throw new TypeError("BullMQBroker takes an options object");
    this.logger = options.logger ?? defaultLogger();
    const { connection } = options;
    if (connection !== undefined && typeof connection !== "string" && typeof connection !== "object") {
      throw new TypeError("BullMQBroker's connection is a Redis URL or an ioredis client");
    }
    this.ownsConnection = typeof connection !== "object";
    let envPrefix: string | undefined;
    if (typeof connection === "object") {
      this.redis = connection;
    } else if (typeof connection === "string") {
      this.redis = new Redis(connection, WORKER_REDIS_OPTIONS);
    } else {
      // No connection given: REDIS_URL, or REDIS_CLUSTER_NODES for a Cluster, and REDIS_PREFIX.
      const fromEnv = redisFromEnv(process.env, {
        defaultUrl: "redis://127.0.0.1:6379",
        redisOptions: WORKER_REDIS_OPTIONS,
      })!;
      this.redis = fromEnv.redis;
      envPrefix = fromEnv.prefix;
    }
    const cluster = (this.redis as { isCluster?: boolean }).isCluster === true;
    this.keyPrefix = options.prefix ?? envPrefix ?? (cluster ? DEFAULT_CLUSTER_KEY_PREFIX : DEFAULT_KEY_PREFIX);
    this.bullPrefix = bullPrefix(this.keyPrefix);
    this.executionKeys = new ExecutionKeys(this.keyPrefix);
    this.runKeys = new RedisKeys(this.keyPrefix);
    this.scripts = executionScripts(this.redis);
    this.workerId = options.workerId ?? `${hostname()}:${process.pid}`;
    const max = options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
    if (!(Number.isInteger(max) && max > 0)) throw new RangeError("maxPayloadBytes must be a positive integer");
    this.maxPayloadBytes = max;
    this.leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    if (!(Number.isFinite(this.leaseMs) && this.leaseMs >= 1000)) throw new RangeError("leaseMs must be a number of at least 1000");
  }

  /** Runs a step in this process (a BullMQ broker's runs go through `dispatch`; this serves direct calls). */
  async execute(invocation: StepInvocation): Promise<unknown> {
    const fn = invocation.fn as StepFunction<unknown, unknown>;
    const ctx: StepContext = {
      pipelineId: invocation.pipelineId,
      stepName: invocation.stepName,
      signal: invocation.signal,
      attempt: invocation.attempt,
      workerId: this.workerId,
    };
    return fn(invocation.input, ctx);
  }

  /** A pipeline's plan, built once per pipeline (its definition is validated then). */
  planFor(pipeline: Pipeline<never, unknown>): RunPlan {
    let plan = this.plans.get(pipeline);
    if (!plan) {
      plan = planOf(pipeline);
      this.plans.set(pipeline, plan);
    }
    return plan;
  }

  /** The pipeline's BullMQ queue (producers add to it; workers also re-add duplicates to it). */
  private queue(name: string): Promise<Queue> {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = loadBullMQ().then(({ Queue }) => {
        const q = new Queue(name, { connection: this.redis, prefix: this.bullPrefix });
        q.on("error", (err) => this.logger.warn({ err, queue: name }, "BullMQ queue error"));
        return q;
      });
      this.queues.set(name, queue);
      queue.catch(() => this.queues.delete(name));
    }
    return queue;
  }

  /** Adds step jobs of one run to its queue. Ids are deterministic: adding one twice is a no-op. */
  async enqueue(plan: RunPlan, pipelineId: string, generation: string, stepNames: readonly string[]): Promise<void> {
    if (stepNames.length === 0) return;
    const queue = await this.queue(plan.queue);
    const jobs = stepNames.map((name) => {
      const step = plan.byName.get(name)!;
      return {
        name,
        data: { p: pipelineId, g: generation, s: step.index },
        opts: jobOptions(step, stepJobId(pipelineId, generation, step.index)),
      };
    });
    // One job (every step of a sequential run) is one script call; addBulk wraps its calls in a
    // MULTI, which costs the worker and Redis about as much again as the job itself.
    if (jobs.length === 1) await queue.add(jobs[0]!.name, jobs[0]!.data, jobs[0]!.opts);
    else await queue.addBulk(jobs);
  }

  /** `kiq` on a pipeline of this broker: store the run, write its execution state, enqueue its roots. */
  async dispatch(request: DispatchRequest): Promise<DispatchedRun> {
    const plan = this.planFor(request.pipeline);
    const tracking = request.tracking ?? this.trackingForProducers();
    const storage = tracking.storage;
    if (storage.kind !== "redis") {
      throw new Error(
        `Pipeline "${plan.name}" runs on a BullMQBroker: its tracking must use the broker's Redis (tracking.withAutoStorage(broker)), not ${storage.kind} storage`,
      );
    }
    tracking.assertAcceptingRuns();
    const { pipelineId } = request;
    const input = encodePayload(request.input, `The input of pipeline run "${pipelineId}"`, this.maxPayloadBytes);
    const generation = randomBytes(6).toString("hex");
    const status = request.pipeline.initialStatus(pipelineId);
    await storage.saveStatus(status, { origin: this.origin });
    // Until a worker claims a step, the queue holds the run: with no live worker serving it, the lease
    // runs out and any sweeper ends the run "worker lost: queue:<name>".
    await storage.renewLeases?.([pipelineId], tracking.leaseMs, `queue:${plan.name}`);
    const pairs = plan.steps.flatMap((s) => [s.def.name, s.deps.length]);
    await this.scripts.pwxInit(
      this.executionKeys.run(pipelineId),
      this.executionKeys.open(plan.queue),
      generation,
      pipelineId,
      input,
      EXECUTION_STATE_TTL_MS,
      ...pairs,
    );
    await this.enqueue(
      plan,
      pipelineId,
      generation,
      plan.steps.filter((s) => s.deps.length === 0).map((s) => s.def.name),
    );
    request.hooks?.emit("pipeline:start", { pipelineId, pipelineName: plan.name });
    return this.watch(tracking, pipelineId, performance.now());
  }

  /** The producer's handle on a dispatched run: its end read back from the storage, and a cancel. */
  private watch(tracking: PipelineTrackingManager, pipelineId: string, startedMs: number): DispatchedRun {
    let waiter = this.waiters.get(tracking);
    if (!waiter) {
      waiter = new RunWaiter(tracking.storage, this.logger);
      this.waiters.set(tracking, waiter);
    }
    let finished = false;
    const done = waiter.finished(pipelineId).then((status): TaskResult => {
      finished = true;
      return taskResult(status, performance.now() - startedMs);
    });
    return {
      done,
      control: {
        get finished() {
          return finished;
        },
        cancel: async () => {
          if (finished) return false;
          const outcome = await tracking.cancel(pipelineId);
          return outcome?.cancelled ?? false;
        },
      },
    };
  }

  /** Tracking for pipelines that were given none: the Redis storage under this broker's prefix. */
  private trackingForProducers(): PipelineTrackingManager {
    this.ownTracking ??= new PipelineTrackingManager({
      logger: this.logger,
      workerId: this.workerId,
      leaseMs: this.leaseMs,
    }).withAutoStorage(this);
    return this.ownTracking;
  }

  /**
   * Starts consuming the queues of `pipelines` in this process. Resolves once the workers listen;
   * `close()` on the handle stops them gracefully (in-flight steps get `graceMs`, then go back to
   * the queue).
   */
  async startWorker(options: StartWorkerOptions): Promise<WorkerHandle> {
    const worker = new StepWorker(this, options);
    this.workers.add(worker);
    worker.closed.then(() => this.workers.delete(worker));
    await worker.start();
    return worker;
  }

  /** Closes this broker's workers, queues, tracking and (when it opened it) its connection. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.workers].map((w) => w.close()));
    const queues = await Promise.allSettled([...this.queues.values()]);
    await Promise.allSettled(queues.map((q) => (q.status === "fulfilled" ? q.value.close() : null)));
    this.queues.clear();
    await this.ownTracking?.close();
    if (this.ownsConnection && this.redis.status !== "end") await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

function taskResult(status: PipelineStatus | null, executionTimeMs: number): TaskResult {
  if (!status) return { returnValue: null, isErr: true, error: "Deleted", executionTimeMs };
  if (status.status === "COMPLETED") return { returnValue: status.result, isErr: false, error: null, executionTimeMs };
  return { returnValue: null, isErr: true, error: status.error ?? status.status, executionTimeMs };
}
