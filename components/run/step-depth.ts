/**
 * Stage of each step for the timeline: a sequential run's steps follow each other (stage = index);
 * a dataflow step sits one stage after its deepest dependency, so parallel steps share a stage.
 */
import type { PipelineStatusJSON } from "@/lib/tracking/models";

export function stepStages(run: Pick<PipelineStatusJSON, "pipelineType" | "steps">): Map<string, number> {
  const stages = new Map<string, number>();
  if (run.pipelineType !== "dataflow") {
    run.steps.forEach((s, i) => stages.set(s.stepName, i));
    return stages;
  }
  const byName = new Map(run.steps.map((s) => [s.stepName, s]));
  const visit = (name: string, trail: Set<string>): number => {
    const known = stages.get(name);
    if (known !== undefined) return known;
    const step = byName.get(name);
    if (!step || trail.has(name)) return 0; // unknown or cyclic data: never loop
    trail.add(name);
    const stage = step.dependsOn.length === 0 ? 0 : 1 + Math.max(...step.dependsOn.map((d) => visit(d, trail)));
    trail.delete(name);
    stages.set(name, stage);
    return stage;
  };
  for (const s of run.steps) visit(s.stepName, new Set());
  return stages;
}
