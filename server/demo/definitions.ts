/**
 * The demo workload's pipelines: realistic shapes and timings, so a newcomer sees every state the
 * dashboard can show — a sequential ETL, a fan-out/fan-in report, a flaky sync that fails with
 * varied errors, and a slow training job long enough to cancel by hand.
 */
import { Pipeline, type Broker, type PipelineTrackingManager } from "pipewatch";
import { pick, randomBetween, randomInt, work } from "./work";

export interface DemoPipeline {
  pipeline: Pipeline<unknown, unknown>;
  /** Relative share of new runs. */
  weight: number;
  /** At most this many runs at once (the slow job). */
  maxConcurrent: number;
  /** Chance a back-filled run of it failed, and the errors it failed with. */
  failureRate: number;
  errors: readonly string[];
  /** Chance a back-filled run of it was cancelled by hand (the slow job). */
  cancelRate: number;
  /** Typical step durations [min, max] ms, for back-filled history. */
  stepDurations: Readonly<Record<string, readonly [number, number]>>;
  /** Each dataflow step's dependencies, as given to `.step()` (the pipeline does not expose them). */
  dependsOn: Readonly<Record<string, readonly string[]>>;
}

/** The daily report's DAG: one load, three independent analyses, one publish. */
const REPORT_DEPENDS_ON = {
  "compute-stats": ["load-sales"],
  "render-charts": ["load-sales"],
  "detect-anomalies": ["load-sales"],
  publish: ["compute-stats", "render-charts", "detect-anomalies"],
} as const satisfies Record<string, readonly string[]>;

export const PAYMENT_ERRORS = [
  "ECONNRESET: connection to payments.example.com reset by peer",
  "TimeoutError: provider did not answer within 5000 ms",
  "ValidationError: 3 transactions have a negative amount",
  "RateLimitError: 429 Too Many Requests (retry after 30 s)",
  "ReconcileError: ledger total differs from provider total by 12.40 EUR",
] as const;

export function defineDemoPipelines(broker: Broker, tracking: PipelineTrackingManager): DemoPipeline[] {
  const etl = new Pipeline(broker, { name: "orders-etl" })
    .step("extract", async (_input, { signal }) => {
      await work(300, 1_500, signal);
      return { rows: randomInt(800, 5_000), source: "postgres://orders" };
    })
    .step("validate", async (input: { rows: number }, { signal }) => {
      await work(100, 400, signal);
      return { rows: input.rows, rejected: randomInt(0, 12) };
    })
    .step("transform", async (input: { rows: number; rejected: number }, { signal }) => {
      await work(500, 2_500, signal);
      return { rows: input.rows - input.rejected };
    })
    .step("load", async (input: { rows: number }, { signal }) => {
      await work(300, 1_500, signal);
      return { inserted: input.rows, table: "warehouse.orders_daily" };
    })
    .withTracking(tracking);

  const report = new Pipeline(broker, { name: "daily-report" })
    .step("load-sales", async (_input, { signal }) => {
      await work(400, 1_200, signal);
      return { regions: 12, revenue: Math.round(randomBetween(80_000, 140_000)) };
    })
    .step(
      "compute-stats",
      async (_deps, { signal }) => {
        await work(600, 2_000, signal);
        return { growth: Number(randomBetween(-0.05, 0.12).toFixed(3)) };
      },
      { dependsOn: REPORT_DEPENDS_ON["compute-stats"] },
    )
    .step(
      "render-charts",
      async (_deps, { signal }) => {
        await work(800, 3_000, signal);
        return { charts: 6 };
      },
      { dependsOn: REPORT_DEPENDS_ON["render-charts"] },
    )
    .step(
      "detect-anomalies",
      async (_deps, { signal }) => {
        await work(300, 1_800, signal);
        return { anomalies: randomInt(0, 3) };
      },
      { dependsOn: REPORT_DEPENDS_ON["detect-anomalies"] },
    )
    .step(
      "publish",
      async (deps, { signal }) => {
        await work(200, 600, signal);
        return { url: "https://reports.example.com/daily", inputs: Object.keys(deps) };
      },
      { dependsOn: REPORT_DEPENDS_ON.publish },
    )
    .withTracking(tracking);

  const payments = new Pipeline(broker, { name: "payment-sync" })
    .step("fetch-transactions", async (_input, { signal }) => {
      await work(200, 1_500, signal);
      if (Math.random() < 0.1) throw new Error(pick(PAYMENT_ERRORS.slice(0, 2)));
      return { transactions: randomInt(50, 900) };
    })
    .step("reconcile", async (input: { transactions: number }, { signal }) => {
      await work(500, 2_500, signal);
      if (Math.random() < 0.12) throw new Error(pick(PAYMENT_ERRORS.slice(2)));
      return { matched: input.transactions, unmatched: 0 };
    })
    .step("notify", async (_input, { signal }) => {
      await work(100, 300, signal);
      return { notified: ["finance@example.com"] };
    })
    .withTracking(tracking);

  const training = new Pipeline(broker, { name: "model-training" })
    .step("prepare-data", async (_input, { signal }) => {
      await work(3_000, 6_000, signal);
      return { samples: randomInt(100_000, 400_000) };
    })
    .step("train", async (_input, { signal }) => {
      await work(20_000, 40_000, signal);
      return { epochs: 12, loss: Number(randomBetween(0.08, 0.2).toFixed(4)) };
    })
    .step("evaluate", async (_input, { signal }) => {
      await work(3_000, 8_000, signal);
      return { accuracy: Number(randomBetween(0.86, 0.95).toFixed(4)) };
    })
    .step("register", async (_input, { signal }) => {
      await work(500, 1_500, signal);
      return { version: `v${randomInt(100, 999)}` };
    })
    .withTracking(tracking);

  return [
    {
      pipeline: etl as Pipeline<unknown, unknown>,
      weight: 35,
      maxConcurrent: 10,
      failureRate: 0.03,
      cancelRate: 0,
      dependsOn: {},
      errors: ["PostgresError: canceling statement due to statement timeout"],
      stepDurations: { extract: [300, 1_500], validate: [100, 400], transform: [500, 2_500], load: [300, 1_500] },
    },
    {
      pipeline: report as Pipeline<unknown, unknown>,
      weight: 30,
      maxConcurrent: 10,
      failureRate: 0.05,
      cancelRate: 0,
      dependsOn: REPORT_DEPENDS_ON,
      errors: ["ChartRenderError: font 'Inter' not found", "S3Error: AccessDenied on reports bucket"],
      stepDurations: {
        "load-sales": [400, 1_200],
        "compute-stats": [600, 2_000],
        "render-charts": [800, 3_000],
        "detect-anomalies": [300, 1_800],
        publish: [200, 600],
      },
    },
    {
      pipeline: payments as Pipeline<unknown, unknown>,
      weight: 28,
      maxConcurrent: 10,
      failureRate: 0.2,
      cancelRate: 0,
      dependsOn: {},
      errors: PAYMENT_ERRORS,
      stepDurations: { "fetch-transactions": [200, 1_500], reconcile: [500, 2_500], notify: [100, 300] },
    },
    {
      pipeline: training as Pipeline<unknown, unknown>,
      weight: 7,
      maxConcurrent: 2,
      failureRate: 0.08,
      cancelRate: 0.12,
      dependsOn: {},
      errors: ["CUDA error: out of memory", "EvaluationError: accuracy 0.71 below threshold 0.85"],
      stepDurations: { "prepare-data": [3_000, 6_000], train: [20_000, 40_000], evaluate: [3_000, 8_000], register: [500, 1_500] },
    },
  ];
}
