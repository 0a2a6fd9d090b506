/**
 * Pipeline: declare steps, attach tracking and hooks, `kiq` a run.
 *
 *   const etl = new Pipeline(broker, { name: "etl" })
 *     .step("extract", async (input) => fetchRows(input))
 *     .step("transform", async (rows) => clean(rows))
 *     .withTracking(tracking);
 *   const task = await etl.kiq(data);
 *
 * Sequential by default (each step gets the previous output); any `dependsOn` makes it a dataflow
 * DAG where a step gets `{ [dependency]: output }` and a root step gets the pipeline input.
 */
import { randomBytes } from "node:crypto";
import type { HookManager } from "../hooks/hook-manager";
import { defaultLogger } from "../logger";
import type { PipelineTrackingManager } from "../tracking/manager";
import { assertPipelineId, type PipelineStatus, type PipelineType } from "../tracking/models";
import type { Broker, StepFunction } from "./broker";
import { defineStep, isDataflow, PipelineDefinitionError, validateDefinition, type StepDefinition, type StepOptions } from "./definition";
import { Execution, type TaskResult } from "./execution";
import { PipelineTask } from "./task";
import type { PipelineDefinitionInfo } from "../workers/types";

export interface PipelineOptions {
  /** Shown in the dashboard and used to prefix generated run ids. */
  name?: string;
}

export interface KiqOptions {
  /** The run's id; 1-200 chars of [A-Za-z0-9._:-]. Generated when absent. */
  pipelineId?: string;
}

/** `In` is the run's input (`new Pipeline<number>(broker)`); the first step receives it. */
export class Pipeline<In = unknown, Out = In> {
  readonly name: string | null;
  private readonly steps: StepDefinition[] = [];
  private tracking: PipelineTrackingManager | null = null;
  private hooks: HookManager | null = null;
  private validated = false;
  private nextId: string;
  private lastId: string | null = null;
  private readonly ownRuns = new Map<string, Execution>();

  constructor(
    readonly broker: Broker,
    options: PipelineOptions = {},
  ) {
    if (!broker || typeof broker.execute !== "function") throw new PipelineDefinitionError("Pipeline needs a broker");
    if (options.name !== undefined && (typeof options.name !== "string" || !options.name.trim() || options.name.length > 200)) {
      throw new PipelineDefinitionError("Pipeline name must be a non-empty string of at most 200 characters");
    }
    this.name = options.name ?? null;
    this.nextId = this.generateId();
  }

  /** Adds a step that gets the previous step's output (sequential) or the pipeline input (a dataflow root). */
  step<R>(name: string, fn: StepFunction<Out, R>, options?: StepOptions & { dependsOn?: undefined }): Pipeline<In, Awaited<R>>;
  /** Adds a dataflow step that gets `{ [dependency]: output }`. */
  step<R>(
    name: string,
    fn: StepFunction<Record<string, unknown>, R>,
    options: StepOptions & { dependsOn: readonly string[] },
  ): Pipeline<In, Awaited<R>>;
  step(name: string, fn: StepFunction<never, unknown>, options?: StepOptions): Pipeline<In, unknown> {
    this.steps.push(defineStep(this.steps, name, fn, options));
    this.validated = false;
    return this as Pipeline<In, unknown>;
  }

  withTracking(tracking: PipelineTrackingManager): this {
    this.tracking = tracking;
    return this;
  }

  withHooks(hooks: HookManager): this {
    this.hooks = hooks;
    return this;
  }

  get pipelineType(): PipelineType {
    return isDataflow(this.steps) ? "dataflow" : "sequential";
  }

  get stepNames(): string[] {
    return this.steps.map((s) => s.name);
  }

  /** The declared steps, validated (a bad definition throws here as in `kiq`). */
  get definition(): readonly StepDefinition[] {
    if (!this.validated) {
      validateDefinition(this.steps);
      this.validated = true;
    }
    return this.steps.slice();
  }

  /** What a worker reports it can run (the workers page, /api/definitions). */
  describe(): PipelineDefinitionInfo {
    return {
      name: this.name ?? "pipeline",
      pipelineType: this.pipelineType,
      steps: this.definition.map((s) => ({ name: s.name, dependsOn: s.dependsOn.slice() })),
    };
  }

  /** The latest run's id; before the first run, the id the next run will get. */
  get pipelineId(): string {
    return this.lastId ?? this.nextId;
  }

  /** Starts a run. Resolves once it is stored (when tracked); rejects on a bad definition or id. */
  async kiq(input?: In, options: KiqOptions = {}): Promise<PipelineTask<Out>> {
    if (!this.validated) {
      validateDefinition(this.steps);
      this.validated = true;
    }
    const pipelineId = options.pipelineId ?? this.nextId;
    assertPipelineId(pipelineId);
    // Fails now (No tracking storage configured) rather than after the run is half set up.
    void this.tracking?.storage;
    this.tracking?.assertAcceptingRuns();
    if (this.ownRuns.has(pipelineId) || this.tracking?.isActive(pipelineId)) {
      throw new Error(`Pipeline run "${pipelineId}" is already running`);
    }
    if (pipelineId === this.nextId) this.nextId = this.generateId();
    this.lastId = pipelineId;

    if (this.broker.dispatch) {
      const request = { pipeline: this as Pipeline<never, unknown>, pipelineId, input, tracking: this.tracking, hooks: this.hooks };
      const run = await this.broker.dispatch(request);
      return new PipelineTask<Out>(pipelineId, run.control, run.done as Promise<TaskResult<Out>>);
    }

    const dataflow = isDataflow(this.steps);
    const execution = new Execution({
      pipelineId,
      steps: this.steps.slice(),
      dataflow,
      input,
      broker: this.broker,
      tracking: this.tracking,
      hooks: this.hooks,
      logger: this.tracking?.logger ?? defaultLogger(),
    });
    this.ownRuns.set(pipelineId, execution);
    void execution.done.then(() => this.ownRuns.delete(pipelineId));
    if (this.tracking) await this.tracking.recordPipelineStart(this.initialStatus(pipelineId), execution);
    this.hooks?.emit("pipeline:start", { pipelineId, pipelineName: this.name });
    execution.start();
    return new PipelineTask<Out>(pipelineId, execution, execution.done as Promise<TaskResult<Out>>);
  }

  /** A new run of this pipeline as `kiq` stores it: RUNNING, every declared step PENDING. */
  initialStatus(pipelineId: string): PipelineStatus {
    return {
      pipelineId,
      pipelineName: this.name,
      status: "RUNNING",
      pipelineType: this.pipelineType,
      startedAt: new Date(),
      completedAt: null,
      durationMs: null,
      result: null,
      error: null,
      steps: this.steps.map((s) => ({
        stepName: s.name,
        status: "PENDING",
        startedAt: null,
        completedAt: null,
        durationMs: null,
        result: null,
        error: null,
        dependsOn: s.dependsOn.slice(),
        attempts: 1,
        workerId: null,
      })),
    };
  }

  private generateId(): string {
    const prefix = (this.name ?? "pipeline").replace(/[^A-Za-z0-9._-]+/g, "-").slice(0, 100) || "pipeline";
    // Joined, not a template: a template makes a rope that costs ~30 more bytes for every run held.
    return [prefix, Date.now().toString(36), randomBytes(4).toString("hex")].join("_");
  }
}
