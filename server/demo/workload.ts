/**
 * The live demo workload (DEMO=1): a new run every 1-2 s, picked by weight among the demo
 * pipelines. `stop()` ends the loop; the runs still going are the tracking manager's to end: its
 * `shutdown` gives them a grace period and cancels the rest, so no demo run is left RUNNING.
 */
import type { Logger } from "pino";
import type { Broker, PipelineTask, PipelineTrackingManager } from "pipewatch";
import { defineDemoPipelines, type DemoPipeline } from "./definitions";
import { randomBetween } from "./work";

export interface DemoWorkload {
  readonly pipelines: DemoPipeline[];
  /** Starts no more runs. */
  stop(): void;
}

export function startDemoWorkload(
  broker: Broker,
  tracking: PipelineTrackingManager,
  logger: Logger,
  options: { minIntervalMs?: number; maxIntervalMs?: number } = {},
): DemoWorkload {
  const { minIntervalMs = 1_000, maxIntervalMs = 2_000 } = options;
  const pipelines = defineDemoPipelines(broker, tracking);
  const running = new Map<DemoPipeline, Set<PipelineTask<unknown>>>(pipelines.map((p) => [p, new Set()]));
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;

  const choose = (): DemoPipeline | null => {
    const open = pipelines.filter((p) => running.get(p)!.size < p.maxConcurrent);
    let roll = Math.random() * open.reduce((sum, p) => sum + p.weight, 0);
    for (const p of open) {
      roll -= p.weight;
      if (roll <= 0) return p;
    }
    return open[0] ?? null;
  };

  const launch = async (): Promise<void> => {
    const demo = choose();
    if (!demo) return;
    const task = await demo.pipeline.kiq({ requestedAt: new Date().toISOString() });
    const tasks = running.get(demo)!;
    tasks.add(task);
    void task.waitResult().finally(() => tasks.delete(task));
  };

  const tick = (): void => {
    if (stopped) return;
    launch().catch((err: unknown) => logger.warn({ err }, "demo run could not start"));
    timer = setTimeout(tick, randomBetween(minIntervalMs, maxIntervalMs));
    timer.unref();
  };
  tick();

  return {
    pipelines,
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
