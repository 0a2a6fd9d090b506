/**
 * How the memory storage holds a finished run. A finished run no longer changes, so it is kept
 * in the smallest form that still answers lists, paging, counts and metrics without parsing:
 *
 * - the fields those read (id, name, status, start, duration, error, completion) as plain fields;
 * - step names and `dependsOn`, identical for every run of a pipeline, held once (`StepShapes`);
 * - one letter per step status in a short (interned) string, and step durations in a double array;
 * - everything else (results, step times as offsets from the run's start, errors, attempts,
 *   workers) as one flat JSON string, which V8 keeps at one byte per character, parsed only when
 *   the whole run is read.
 *
 * This is about a third of the object form's memory (see bench/results/core.md). Reading a sealed
 * run builds fresh objects every time, so nothing a reader does reaches the store.
 */
import type { MetricsAccumulator } from "../metrics";
import { SUMMARY_ERROR_CHARS, type PipelineStatus, type PipelineSummary, type PipelineType, type Status } from "../models";
import { STATUS_LETTER, STATUS_OF_LETTER } from "../status";
import type { StoredRun, StoredStep } from "./compact";

/** The names and dependencies of a run's steps, in declaration order. */
export interface StepShape {
  readonly names: readonly string[];
  readonly dependsOn: readonly (readonly string[])[];
}

/** Per step in `packed`: start offset, end offset, result, error, attempts, worker. */
const FIELDS_PER_STEP = 6;
/** Interning tables stop growing here (a store of many distinct pipelines just shares less). */
const MAX_INTERNED = 10_000;

export class SealedRun {
  constructor(
    readonly pipelineId: string,
    readonly pipelineName: string | null,
    readonly status: Status,
    readonly pipelineType: PipelineType,
    readonly startedAt: number,
    /** completedAt − startedAt, in ms. */
    readonly completedOffset: number | null,
    readonly durationMs: number | null,
    readonly error: string | null,
    readonly shape: StepShape,
    /** One letter per step (see STATUS_LETTER). */
    readonly states: string,
    /** Per step; NaN for null. */
    readonly stepDurations: readonly number[],
    /** The items of a JSON array, without brackets: the run's result, then FIELDS_PER_STEP per step. */
    readonly packed: string,
  ) {}
}

/** Shares step shapes and state strings between the runs of one store. */
export class StepShapes {
  private last: StepShape | null = null;
  private readonly shapes = new Map<string, StepShape>();
  private readonly strings = new Map<string, string>();

  shapeOf(steps: readonly StoredStep[]): StepShape {
    // Runs of one pipeline come in streaks: comparing with the last shape skips building a key.
    if (this.last && sameShape(this.last, steps)) return this.last;
    const names = steps.map((s) => s.stepName);
    const dependsOn = steps.map((s) => s.dependsOn);
    const key = JSON.stringify([names, dependsOn]);
    let shape = this.shapes.get(key);
    if (!shape) {
      shape = Object.freeze({ names: Object.freeze(names), dependsOn: Object.freeze(dependsOn.map((d) => Object.freeze(d.slice()))) });
      if (this.shapes.size < MAX_INTERNED) this.shapes.set(key, shape);
    }
    this.last = shape;
    return shape;
  }

  intern(text: string): string {
    const known = this.strings.get(text);
    if (known !== undefined) return known;
    if (this.strings.size < MAX_INTERNED) this.strings.set(text, text);
    return text;
  }
}

function sameShape(shape: StepShape, steps: readonly StoredStep[]): boolean {
  if (shape.names.length !== steps.length) return false;
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i]!;
    const deps = shape.dependsOn[i]!;
    if (shape.names[i] !== step.stepName || deps.length !== step.dependsOn.length) return false;
    for (let j = 0; j < deps.length; j++) if (deps[j] !== step.dependsOn[j]) return false;
  }
  return true;
}

const offset = (t: number | null, from: number): number | null => (t === null ? null : t - from);

/** One item's JSON; the common primitives without a JSON.stringify call. */
function itemJson(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : "null";
  return JSON.stringify(value) ?? "null";
}

/**
 * Items joined into one flat string. JSON.stringify of a whole array past ~32 characters returns
 * a rope (a tree of cons strings), about 100 bytes more per run held; join() builds a flat one.
 */
function packItems(items: unknown[]): string {
  const json = new Array<string>(items.length);
  for (let i = 0; i < items.length; i++) json[i] = itemJson(items[i]);
  return json.join(",");
}

/** The sealed form of a run (any status; the memory storage seals only finished ones). */
export function sealRun(run: StoredRun, shapes: StepShapes): SealedRun {
  const n = run.steps.length;
  const t0 = run.startedAt;
  const packed: unknown[] = new Array<unknown>(1 + n * FIELDS_PER_STEP);
  const durations = new Array<number>(n);
  // Joined, not concatenated: `+=` past 12 characters makes a rope, not a flat string.
  const letters = new Array<string>(n);
  let previousWorker: string | null = null;
  packed[0] = run.result;
  for (let i = 0, k = 1; i < n; i++, k += FIELDS_PER_STEP) {
    const s = run.steps[i]!;
    letters[i] = STATUS_LETTER[s.status];
    durations[i] = s.durationMs ?? NaN;
    packed[k] = offset(s.startedAt, t0);
    packed[k + 1] = offset(s.completedAt, t0);
    packed[k + 2] = s.result;
    packed[k + 3] = s.error;
    packed[k + 4] = s.attempts;
    // 0 = the same worker as the step before (steps of a run mostly share one).
    packed[k + 5] = s.workerId !== null && s.workerId === previousWorker ? 0 : s.workerId;
    previousWorker = s.workerId;
  }
  return new SealedRun(
    run.pipelineId,
    run.pipelineName,
    run.status,
    run.pipelineType,
    t0,
    offset(run.completedAt, t0),
    run.durationMs,
    run.error,
    shapes.shapeOf(run.steps),
    shapes.intern(letters.join("")),
    durations,
    packItems(packed),
  );
}

/** Back to the object form (to apply a late step write, or to read the whole run). */
export function unsealRun(sealed: SealedRun): StoredRun {
  const t0 = sealed.startedAt;
  const at = (o: number | null): number | null => (o === null ? null : t0 + o);
  const packed = JSON.parse(`[${sealed.packed}]`) as unknown[];
  const { names, dependsOn } = sealed.shape;
  const steps: StoredStep[] = new Array<StoredStep>(names.length);
  let previousWorker: string | null = null;
  for (let i = 0, k = 1; i < names.length; i++, k += FIELDS_PER_STEP) {
    const worker = packed[k + 5] as string | null | 0;
    const workerId: string | null = worker === 0 ? previousWorker : worker;
    previousWorker = workerId;
    const duration = sealed.stepDurations[i]!;
    steps[i] = {
      stepName: names[i]!,
      status: STATUS_OF_LETTER[sealed.states[i]!]!,
      startedAt: at(packed[k] as number | null),
      completedAt: at(packed[k + 1] as number | null),
      durationMs: Number.isNaN(duration) ? null : duration,
      result: packed[k + 2],
      error: packed[k + 3] as string | null,
      dependsOn: dependsOn[i]!,
      attempts: packed[k + 4] as number,
      workerId,
    };
  }
  return {
    pipelineId: sealed.pipelineId,
    pipelineName: sealed.pipelineName,
    status: sealed.status,
    pipelineType: sealed.pipelineType,
    startedAt: t0,
    completedAt: at(sealed.completedOffset),
    durationMs: sealed.durationMs,
    steps,
    result: packed[0],
    error: sealed.error,
  };
}

/** `summarize(status)` of the run, read from the sealed fields alone. */
export function summarizeSealed(sealed: SealedRun): PipelineSummary {
  let stepsCompleted = 0;
  let stepsFailed = 0;
  let currentStep: string | null = null;
  for (let i = 0; i < sealed.states.length; i++) {
    const letter = sealed.states[i];
    if (letter === "C") stepsCompleted++;
    else if (letter === "F") stepsFailed++;
    else if (letter === "R" && currentStep === null) currentStep = sealed.shape.names[i]!;
  }
  return {
    pipelineId: sealed.pipelineId,
    pipelineName: sealed.pipelineName,
    status: sealed.status,
    pipelineType: sealed.pipelineType,
    startedAt: new Date(sealed.startedAt).toISOString(),
    completedAt: sealed.completedOffset === null ? null : new Date(sealed.startedAt + sealed.completedOffset).toISOString(),
    durationMs: sealed.durationMs,
    error: sealed.error === null ? null : sealed.error.slice(0, SUMMARY_ERROR_CHARS),
    stepsTotal: sealed.states.length,
    stepsCompleted,
    stepsFailed,
    currentStep,
  };
}

/** Feeds the run to metrics exactly as `computeMetrics` would read its `PipelineStatus`. */
export function addSealedToMetrics(acc: MetricsAccumulator, sealed: SealedRun): void {
  if (!acc.addRun(sealed.startedAt, sealed.status, sealed.error, sealed.durationMs)) return;
  const { names } = sealed.shape;
  for (let i = 0; i < names.length; i++) {
    const duration = sealed.stepDurations[i]!;
    acc.addStep(names[i]!, STATUS_OF_LETTER[sealed.states[i]!]!, Number.isNaN(duration) ? null : duration);
  }
}

/** The run as the storage interface returns it. */
export function expandSealed(sealed: SealedRun): PipelineStatus {
  const run = unsealRun(sealed);
  const date = (t: number | null): Date | null => (t === null ? null : new Date(t));
  return {
    ...run,
    startedAt: new Date(run.startedAt),
    completedAt: date(run.completedAt),
    steps: run.steps.map((s) => ({ ...s, startedAt: date(s.startedAt), completedAt: date(s.completedAt), dependsOn: s.dependsOn.slice() })),
  };
}
