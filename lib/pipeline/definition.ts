/**
 * A pipeline's declared steps and their validation. A definition is sequential until any step
 * names `dependsOn`; then it is a dataflow DAG and steps without dependencies are its roots.
 */
import type { StepFunction } from "./broker";

export interface StepOptions {
  /** Steps whose outputs this step needs; makes the pipeline a dataflow DAG. */
  dependsOn?: readonly string[];
  /** Extra attempts after a failure (default 0). */
  retries?: number;
  /** Fail the attempt (and abort its signal) after this long. */
  timeoutMs?: number;
  /** The wait before a retry: `delayMs` each time ("fixed") or doubling from it ("exponential"). Default: none. */
  backoff?: StepBackoff;
}

export interface StepBackoff {
  type: "fixed" | "exponential";
  delayMs: number;
}

export interface StepDefinition {
  name: string;
  fn: StepFunction<never, unknown>;
  dependsOn: string[];
  retries: number;
  timeoutMs: number | null;
  backoff: StepBackoff | null;
}

export class PipelineDefinitionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PipelineDefinitionError";
  }
}

const STEP_NAME_MAX = 200;

export function defineStep(existing: readonly StepDefinition[], name: string, fn: unknown, options: StepOptions = {}): StepDefinition {
  if (typeof name !== "string" || name.trim() === "" || name.length > STEP_NAME_MAX) {
    throw new PipelineDefinitionError(`Step name must be a non-empty string of at most ${STEP_NAME_MAX} characters`);
  }
  if (typeof fn !== "function") throw new PipelineDefinitionError(`Step "${name}" needs a function`);
  if (existing.some((s) => s.name === name)) throw new PipelineDefinitionError(`Duplicate step name "${name}"`);
  const dependsOn = options.dependsOn ?? [];
  if (!Array.isArray(dependsOn) || dependsOn.some((d) => typeof d !== "string")) {
    throw new PipelineDefinitionError(`Step "${name}": dependsOn must be an array of step names`);
  }
  if (dependsOn.includes(name)) throw new PipelineDefinitionError(`Step "${name}" cannot depend on itself`);
  const retries = options.retries ?? 0;
  if (!Number.isInteger(retries) || retries < 0)
    throw new PipelineDefinitionError(`Step "${name}": retries must be a non-negative integer`);
  const timeoutMs = options.timeoutMs ?? null;
  if (timeoutMs !== null && !(typeof timeoutMs === "number" && timeoutMs > 0)) {
    throw new PipelineDefinitionError(`Step "${name}": timeoutMs must be a positive number`);
  }
  const backoff = options.backoff ?? null;
  if (
    backoff !== null &&
    !(
      typeof backoff === "object" &&
      (backoff.type === "fixed" || backoff.type === "exponential") &&
      Number.isFinite(backoff.delayMs) &&
      backoff.delayMs >= 0
    )
  ) {
    throw new PipelineDefinitionError(`Step "${name}": backoff must be { type: "fixed" | "exponential", delayMs: a non-negative number }`);
  }
  return { name, fn: fn as StepFunction<never, unknown>, dependsOn: [...new Set(dependsOn)], retries, timeoutMs, backoff };
}

/** The wait before the retry that follows failed attempt `attempt` (1-based), as BullMQ computes it. */
export function backoffDelayMs(backoff: StepBackoff | null, attempt: number): number {
  if (!backoff) return 0;
  return backoff.type === "fixed" ? backoff.delayMs : backoff.delayMs * 2 ** (attempt - 1);
}

export function isDataflow(steps: readonly StepDefinition[]): boolean {
  return steps.some((s) => s.dependsOn.length > 0);
}

/** Throws unless the steps form a runnable pipeline: not empty, known dependencies, no cycle. */
export function validateDefinition(steps: readonly StepDefinition[]): void {
  if (steps.length === 0) throw new PipelineDefinitionError("A pipeline needs at least one step");
  const names = new Set(steps.map((s) => s.name));
  for (const step of steps) {
    for (const dep of step.dependsOn) {
      if (!names.has(dep)) throw new PipelineDefinitionError(`Step "${step.name}" depends on unknown step "${dep}"`);
    }
  }
  // Kahn's algorithm: whatever cannot be ordered sits on a cycle.
  const remaining = new Map(steps.map((s) => [s.name, s.dependsOn.length]));
  const dependents = dependentsOf(steps);
  const queue = steps.filter((s) => s.dependsOn.length === 0).map((s) => s.name);
  let ordered = 0;
  while (queue.length) {
    const name = queue.pop()!;
    ordered++;
    for (const next of dependents.get(name) ?? []) {
      const left = remaining.get(next)! - 1;
      remaining.set(next, left);
      if (left === 0) queue.push(next);
    }
  }
  if (ordered < steps.length) {
    const cyclic = [...remaining].filter(([, n]) => n > 0).map(([name]) => name);
    throw new PipelineDefinitionError(`Steps ${cyclic.map((n) => `"${n}"`).join(", ")} form a dependency cycle`);
  }
}

export function dependentsOf(steps: readonly StepDefinition[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const step of steps) {
    for (const dep of step.dependsOn) {
      const list = out.get(dep);
      if (list) list.push(step.name);
      else out.set(dep, [step.name]);
    }
  }
  return out;
}
