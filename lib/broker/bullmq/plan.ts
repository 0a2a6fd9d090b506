/**
 * What a distributed run needs to know about a pipeline's steps: each step's effective dependencies
 * (a sequential pipeline is the chain where each step waits for the one declared before it), its
 * dependents, the sinks whose outputs make the run's result, and the BullMQ options its retries map to.
 */
import type { Pipeline } from "../../pipeline/pipeline";
import { PipelineDefinitionError, dependentsOf, type StepDefinition } from "../../pipeline/definition";
import { queueName } from "./names";

export interface PlannedStep {
  index: number;
  def: StepDefinition;
  /** Effective dependencies, declaration order. */
  deps: string[];
  dependents: string[];
}

export interface RunPlan {
  name: string;
  queue: string;
  dataflow: boolean;
  steps: PlannedStep[];
  byName: Map<string, PlannedStep>;
  sinks: string[];
}

export function planOf(pipeline: Pipeline<never, unknown>): RunPlan {
  if (pipeline.name === null) throw new PipelineDefinitionError("A pipeline on a BullMQBroker needs a name: workers find it by name");
  const defs = pipeline.definition;
  const dataflow = pipeline.pipelineType === "dataflow";
  const effective = dataflow ? defs : defs.map((s, i) => ({ ...s, dependsOn: i === 0 ? [] : [defs[i - 1]!.name] }));
  const dependents = dependentsOf(effective);
  const steps = effective.map((def, index) => ({ index, def, deps: def.dependsOn.slice(), dependents: dependents.get(def.name) ?? [] }));
  return {
    name: pipeline.name,
    queue: queueName(pipeline.name),
    dataflow,
    steps,
    byName: new Map(steps.map((s) => [s.def.name, s])),
    sinks: steps.filter((s) => s.dependents.length === 0).map((s) => s.def.name),
  };
}

/** A step's input from what its claim read: the run's input for a root, else its dependencies' outputs. */
export function stepInput(plan: RunPlan, step: PlannedStep, values: unknown[]): unknown {
  if (step.deps.length === 0) return values[0];
  if (!plan.dataflow) return values[0];
  return Object.fromEntries(step.deps.map((d, i) => [d, values[i]]));
}

/** Sequential: the last step's output. Dataflow: the sink's output, or `{ sink: output }` for several. */
export function runResult(plan: RunPlan, sinkOutputs: unknown[]): unknown {
  if (sinkOutputs.length === 1) return sinkOutputs[0];
  return Object.fromEntries(plan.sinks.map((name, i) => [name, sinkOutputs[i]]));
}

/** BullMQ job options of a step: attempts and backoff from its retries, removed once done. */
export function jobOptions(step: PlannedStep, jobId: string) {
  const { retries, backoff } = step.def;
  return {
    jobId,
    attempts: retries + 1,
    ...(backoff ? { backoff: { type: backoff.type, delay: backoff.delayMs } } : {}),
    removeOnComplete: true,
    removeOnFail: true,
  };
}
