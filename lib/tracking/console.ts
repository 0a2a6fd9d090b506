/**
 * A run for the terminal: header, then one line per step with a bar scaled to its
 * duration, names aligned, and totals.
 */
import type { PipelineStatus } from "./models";

export interface RenderOptions {
  /** Width of the longest bar in characters (default 40). */
  barWidth?: number;
}

const formatMs = (ms: number | null): string => (ms === null ? "-" : ms >= 10_000 ? `${(ms / 1000).toFixed(1)}s` : `${Math.round(ms)}ms`);

export function renderStatus(status: PipelineStatus, options: RenderOptions = {}): string {
  const barWidth = options.barWidth ?? 40;
  const rule = "=".repeat(60);
  const longest = Math.max(0, ...status.steps.map((s) => s.durationMs ?? 0));
  const nameWidth = Math.min(40, Math.max(4, ...status.steps.map((s) => s.stepName.length)));
  const lines = [
    rule,
    `Pipeline: ${status.pipelineId}${status.pipelineName ? ` (${status.pipelineName})` : ""}`,
    `Status:   ${status.status}`,
    `Type:     ${status.pipelineType}`,
    `Started:  ${status.startedAt.toISOString()}`,
    `Duration: ${formatMs(status.durationMs)}`,
  ];
  if (status.error) lines.push(`Error:    ${status.error.split("\n", 1)[0]}`);
  lines.push("Steps:");
  let done = 0;
  for (const step of status.steps) {
    if (step.status === "COMPLETED") done++;
    const cells = longest > 0 && step.durationMs ? Math.max(1, Math.round((step.durationMs / longest) * barWidth)) : 0;
    const name = step.stepName.length > nameWidth ? `${step.stepName.slice(0, nameWidth - 1)}…` : step.stepName.padEnd(nameWidth);
    lines.push(`  ${name} ${"█".repeat(cells).padEnd(barWidth)} ${formatMs(step.durationMs).padStart(7)}  ${step.status}`);
  }
  lines.push(`Total: ${done}/${status.steps.length} steps completed, ${formatMs(status.durationMs)}`);
  lines.push(rule);
  return lines.join("\n");
}
