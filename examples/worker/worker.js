// A worker of your own: every few seconds it runs the "daily-orders" dataflow pipeline and records
// it into Redis, where a Pipewatch dashboard started with the same REDIS_URL / REDIS_PREFIX shows
// it live. RUNS runs (default 5), STEP_MS per step (default 800), then it closes and exits.
import { Redis } from "ioredis";
import { InMemoryBroker, Pipeline, PipelineTrackingManager, RedisPipelineStorage, startProcessWorker } from "pipewatch";

const runs = Number(process.env.RUNS ?? 5);
const stepMs = Number(process.env.STEP_MS ?? 800);
const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const redis = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379");
const storage = new RedisPipelineStorage(redis, { keyPrefix: process.env.REDIS_PREFIX || "pipewatch:" });
const tracking = new PipelineTrackingManager().withStorage(storage);

// extract → (totals ∥ regions) → report: the two middle steps run at the same time.
const broker = new InMemoryBroker();
const orders = new Pipeline(broker, { name: "daily-orders" })
  .step("extract", async (day) => {
    await pause(stepMs);
    return [
      { day, region: "eu", amount: 120 },
      { day, region: "us", amount: 80 },
      { day, region: "eu", amount: 45 },
    ];
  })
  .step(
    "totals",
    async ({ extract }) => {
      await pause(stepMs);
      return extract.reduce((sum, order) => sum + order.amount, 0);
    },
    { dependsOn: ["extract"] },
  )
  .step(
    "regions",
    async ({ extract }) => {
      await pause(stepMs);
      const byRegion = {};
      for (const order of extract) byRegion[order.region] = (byRegion[order.region] ?? 0) + order.amount;
      return byRegion;
    },
    { dependsOn: ["extract"] },
  )
  .step(
    "report",
    async ({ totals, regions }) => {
      await pause(stepMs);
      return { total: totals, regions };
    },
    { dependsOn: ["totals", "regions"] },
  )
  .withTracking(tracking);

// Listed on the dashboard's /workers page while it runs (host, pid, its running steps, counts).
const worker = startProcessWorker({ broker, tracking, concurrency: 1, pipelines: () => [orders.describe()] });

for (let i = 0; i < runs; i++) {
  const task = await orders.kiq(new Date().toISOString().slice(0, 10));
  console.log(`started ${task.pipelineId}`);
  const result = await task.waitResult({ timeoutMs: 60_000 });
  console.log(`${task.pipelineId} ${result.isErr ? `FAILED: ${result.error}` : `COMPLETED ${JSON.stringify(result.returnValue)}`}`);
}

await worker.stop(); // listed offline at once
await tracking.close(); // flushes the last writes and closes the storage
await redis.quit();
