/**
 * A broker runs step functions. `InMemoryBroker` runs them in this process; a distributed broker
 * implements the same interface (and exposes its Redis connection, which `withAutoStorage` uses).
 */
import { hostname } from "node:os";
import type { Cluster, Redis } from "ioredis";

export interface StepContext {
  pipelineId: string;
  stepName: string;
  /** Aborted when the run is cancelled, fails elsewhere, or the step times out. */
  signal: AbortSignal;
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

export interface Broker {
  /** Recorded as `workerId` on the steps this broker runs. */
  readonly workerId: string;
  /** Present when the broker talks to Redis (a node or a Cluster); tracking then shares it. */
  readonly redis?: Redis | Cluster;
  /** The tracking storage's key prefix on that Redis (`withAutoStorage` uses it). Default "pipewatch:". */
  readonly keyPrefix?: string;
  /** Runs one step attempt and settles with its output or its error. */
  execute(invocation: StepInvocation): Promise<unknown>;
}

export interface InMemoryBrokerOptions {
  workerId?: string;
  /** Share this Redis connection with tracking (`withAutoStorage` then picks Redis). */
  redis?: Redis;
}

export class InMemoryBroker implements Broker {
  readonly workerId: string;
  readonly redis?: Redis;

  constructor(options: InMemoryBrokerOptions = {}) {
    this.workerId = options.workerId ?? `${hostname()}:${process.pid}`;
    if (options.redis) this.redis = options.redis;
  }

  async execute(invocation: StepInvocation): Promise<unknown> {
    const fn = invocation.fn as StepFunction<unknown, unknown>;
    return fn(invocation.input, {
      pipelineId: invocation.pipelineId,
      stepName: invocation.stepName,
      signal: invocation.signal,
    });
  }
}
