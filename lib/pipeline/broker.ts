/**
 * A broker runs step functions. `InMemoryBroker` runs them in this process; a distributed broker
 * implements the same interface (and exposes its Redis connection, which `withAutoStorage` uses).
 */
import { hostname } from "node:os";
import type { Cluster, Redis } from "ioredis";
import type { HookManager } from "../hooks/hook-manager";
import type { PipelineTrackingManager } from "../tracking/manager";
import type { TaskResult } from "./execution";
import type { Pipeline } from "./pipeline";

export interface StepContext {
  pipelineId: string;
  stepName: string;
  /** Aborted when the run is cancelled, fails elsewhere, or the step times out. */
  signal: AbortSignal;
  /** 1 for the first attempt; retries, and re-runs after a worker died, count up. */
  attempt: number;
  /** The worker running this attempt (`<hostname>:<pid>` unless configured). */
  workerId: string;
}

/**
 * Declared through a method so its parameter is checked bivariantly: a step written for a narrower
 * input (`(rows: Row[]) => ...`, `({ load }: { load: Row[] }) => ...`) fits where the pipeline
 * only knows `unknown` or `Record<string, unknown>`, as users write them.
 */
export type StepFunction<I = unknown, O = unknown> = {
  step(input: I, ctx: StepContext): O | Promise<O>;
}["step"];

export interface StepInvocation {
  pipelineId: string;
  stepName: string;
  attempt: number;
  input: unknown;
  signal: AbortSignal;
  fn: StepFunction<never, unknown>;
}

/** A run handed to a broker that executes it elsewhere (`dispatch`). */
export interface DispatchRequest {
  pipeline: Pipeline<never, unknown>;
  pipelineId: string;
  input: unknown;
  tracking: PipelineTrackingManager | null;
  hooks: HookManager | null;
}

/** The producer's side of a dispatched run: its end (stored, read back) and a cancel. */
export interface DispatchedRun {
  done: Promise<TaskResult>;
  control: RunControl;
}

export interface RunControl {
  /** True when this cancel ended the run; false when it had already ended. */
  cancel(): Promise<boolean>;
  readonly finished: boolean;
}

export interface Broker {
  /** Recorded as `workerId` on the steps this broker runs. */
  readonly workerId: string;
  /** Present when the broker talks to Redis (a node or a Cluster); tracking then shares it. */
  readonly redis?: Redis | Cluster;
  /** The tracking storage's key prefix on that Redis (`withAutoStorage` uses it). Default "pipewatch:". */
  readonly keyPrefix?: string;
  /** Runs one step attempt and settles with its output or its error. */
  execute(invocation: StepInvocation): Promise<unknown>;
  /**
   * Present on a broker that runs whole runs elsewhere (BullMQBroker): `kiq` hands it the run, once
   * the definition and id are checked, instead of executing the steps in this process.
   */
  dispatch?(request: DispatchRequest): Promise<DispatchedRun>;
}

export interface InMemoryBrokerOptions {
  workerId?: string;
  /** Share this Redis connection (a node or a Cluster) with tracking (`withAutoStorage` then picks Redis). */
  redis?: Redis | Cluster;
  /** The storage key prefix `withAutoStorage` uses on that Redis. Default "pipewatch:", "{pipewatch}:" on a Cluster. */
  keyPrefix?: string;
}

export class InMemoryBroker implements Broker {
  readonly workerId: string;
  readonly redis?: Redis | Cluster;
  readonly keyPrefix?: string;

  constructor(options: InMemoryBrokerOptions = {}) {
    this.workerId = options.workerId ?? `${hostname()}:${process.pid}`;
    if (options.redis) this.redis = options.redis;
    if (options.keyPrefix) this.keyPrefix = options.keyPrefix;
  }

  async execute(invocation: StepInvocation): Promise<unknown> {
    const fn = invocation.fn as StepFunction<unknown, unknown>;
    return fn(invocation.input, {
      pipelineId: invocation.pipelineId,
      stepName: invocation.stepName,
      signal: invocation.signal,
      attempt: invocation.attempt,
      workerId: this.workerId,
    });
  }
}
