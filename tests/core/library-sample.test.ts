/** The library sample (a sequential and a dataflow pipeline, tracked), with its free functions filled in, executed as written. */
import { describe, expect, it } from "vitest";
import {
  Pipeline,
  InMemoryBroker,
  PipelineTrackingManager,
  InMemoryPipelineStorage,
  HookManager,
  type PipelineStatus,
  type StepContext,
} from "../../lib";
import { silentLogger } from "./helpers";

type Row = { id: number; amount: number | null };
const fetchRows = async (input: { day: string }): Promise<Row[]> => [
  { id: 1, amount: 10 },
  { id: 2, amount: null },
  { id: 3, amount: 5 },
  { id: input.day.length, amount: 1 },
];
const clean = (rows: Row[]) => rows.filter((r) => r.amount !== null);
const load = async (input: { day: string }) => fetchRows(input);
const stats = ({ load: rows }: { load: Row[] }) => ({ total: rows.reduce((s, r) => s + (r.amount ?? 0), 0) });
const chart = ({ load: rows }: { load: Row[] }) => `chart:${rows.length}`;
const publish = (inputs: { stats: { total: number }; chart: string }) => `${inputs.chart} total=${inputs.stats.total}`;

describe("the library sample", () => {
  it("runs as written", async () => {
    const broker = new InMemoryBroker();
    const tracking = new PipelineTrackingManager({ logger: silentLogger() }).withAutoStorage(broker);
    expect(tracking.storage).toBeInstanceOf(InMemoryPipelineStorage);
    const hookManager = new HookManager({ logger: silentLogger() });
    const data = { day: "2026-11-28" };

    // sequential: each step gets the previous step's output (the first gets the input)
    const etl = new Pipeline(broker, { name: "etl" })
      .step("extract", async (input: { day: string }, ctx: StepContext) => {
        expect(ctx.stepName).toBe("extract");
        return fetchRows(input);
      })
      .step("transform", async (rows) => clean(rows))
      .withTracking(tracking);

    // dataflow: any step with dependsOn makes it a DAG
    const report = new Pipeline(broker, { name: "report" })
      .step("load", load)
      .step("stats", stats, { dependsOn: ["load"] })
      .step("chart", chart, { dependsOn: ["load"] })
      .step("publish", publish, { dependsOn: ["stats", "chart"] })
      .withTracking(tracking)
      .withHooks(hookManager);

    const task = await etl.kiq(data);
    const res = await task.waitResult({ timeoutMs: 30_000 });
    expect(res).toMatchObject({ isErr: false, error: null });
    expect(res.returnValue).toEqual([
      { id: 1, amount: 10 },
      { id: 3, amount: 5 },
      { id: 10, amount: 1 },
    ]);
    expect(typeof res.executionTimeMs).toBe("number");
    const status: PipelineStatus | null = await tracking.getStatus(etl.pipelineId);
    expect(etl.pipelineId).toBe(task.pipelineId);
    expect(status?.status).toBe("COMPLETED");

    const named = await etl.kiq(data, { pipelineId: "etl_2026_11_28" });
    expect(named.pipelineId).toBe("etl_2026_11_28");
    await named.waitResult();

    const hookEvents: string[] = [];
    hookManager.on("pipeline:complete", (e) => void hookEvents.push(`complete ${String(e.result)}`));
    const reportTask = await report.kiq(data);
    expect((await reportTask.waitResult()).returnValue).toBe("chart:4 total=16");
    expect(hookEvents).toEqual(["complete chart:4 total=16"]);
    expect((await tracking.getStatus(report.pipelineId))?.pipelineType).toBe("dataflow");

    const slow = await new Pipeline(broker)
      .step("wait", (_x, ctx) => new Promise((r) => ctx.signal.addEventListener("abort", r)))
      .step("never", () => "ran")
      .withTracking(tracking)
      .kiq();
    await slow.cancel(); // → CANCELLED; steps not yet started never run
    const cancelled = (await tracking.getStatus(slow.pipelineId))!;
    expect(cancelled.status).toBe("CANCELLED");
    expect(cancelled.steps.map((s) => s.status)).toEqual(["CANCELLED", "CANCELLED"]);
  });
});
