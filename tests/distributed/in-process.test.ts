/**
 * BullMQBroker with real BullMQ workers on a real Redis, all in this process (two brokers stand for
 * two worker processes): dispatch, dataflow fan-out over both workers, results, failures, retries,
 * cancel, payload limits, and cleanup of every key.
 */
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { BullMQBroker, Pipeline, PipelineTrackingManager, type WorkerHandle } from "pipewatch";
import { connect, countKeys, deleteKeys, REDIS_URL, silentLogger, uniquePrefix } from "../redis/helpers";

const admin = connect();
const prefixes: string[] = [];
const closers: (() => Promise<unknown>)[] = [];

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});
afterAll(async () => {
  for (const p of prefixes) await deleteKeys(admin, p);
  await admin.quit();
});

function setup(options: { leaseMs?: number } = {}) {
  const prefix = uniquePrefix("bull");
  prefixes.push(prefix);
  const logger = silentLogger();
  const producer = new BullMQBroker({ connection: REDIS_URL, prefix, workerId: "producer", logger });
  const tracking = new PipelineTrackingManager({ logger, leaseMs: options.leaseMs ?? 4000 }).withAutoStorage(producer);
  closers.push(
    () => producer.close(),
    () => tracking.close(),
  );
  const workerBroker = (workerId: string) => {
    const b = new BullMQBroker({ connection: REDIS_URL, prefix, workerId, logger });
    closers.push(() => b.close());
    return b;
  };
  return { prefix, producer, tracking, workerBroker, logger };
}

/** The same module, imported by the producer and by each worker. */
function definePipelines(broker: BullMQBroker, seen: { step: string; worker: string }[] = []) {
  const gate =
    <T>(step: string, fn: (input: never) => T) =>
    async (input: never, ctx: { workerId: string }) => {
      seen.push({ step, worker: ctx.workerId });
      await new Promise((r) => setTimeout(r, 30));
      return fn(input);
    };
  const report = new Pipeline<number>(broker, { name: "report" })
    .step(
      "load",
      gate("load", (n: number) => n),
    )
    .step(
      "a",
      gate("a", ({ load }: { load: number }) => load + 1),
      { dependsOn: ["load"] },
    )
    .step(
      "b",
      gate("b", ({ load }: { load: number }) => load + 2),
      { dependsOn: ["load"] },
    )
    .step(
      "c",
      gate("c", ({ load }: { load: number }) => load + 3),
      { dependsOn: ["load"] },
    )
    .step(
      "d",
      gate("d", ({ load }: { load: number }) => load + 4),
      { dependsOn: ["load"] },
    )
    .step("sum", ({ a, b, c, d }: Record<string, number>) => a! + b! + c! + d!, { dependsOn: ["a", "b", "c", "d"] });
  const chain = new Pipeline<number>(broker, { name: "chain" }).step("one", (n: number) => n * 2).step("two", (n: number) => n + 1);
  return { report, chain };
}

describe("BullMQBroker, in one process", () => {
  it("runs a dataflow run's parallel steps on two workers and stores every step with its worker", async () => {
    const { producer, tracking, workerBroker } = setup();
    const seen: { step: string; worker: string }[] = [];
    for (const id of ["w1", "w2"]) {
      const b = workerBroker(id);
      const handle: WorkerHandle = await b.startWorker({
        pipelines: Object.values(definePipelines(b, seen)),
        concurrency: 2,
        leaseMs: 4000,
      });
      closers.push(() => handle.close());
    }
    const { report, chain } = definePipelines(producer);
    report.withTracking(tracking);
    chain.withTracking(tracking);
    const task = await report.kiq(10);
    const res = await task.waitResult({ timeoutMs: 20_000 });
    expect(res).toMatchObject({ isErr: false, returnValue: 11 + 12 + 13 + 14 });
    const status = (await tracking.getStatus(task.pipelineId))!;
    expect(status.status).toBe("COMPLETED");
    expect(status.steps.every((s) => s.status === "COMPLETED" && s.workerId?.startsWith("w"))).toBe(true);
    expect(status.steps.find((s) => s.stepName === "sum")!.result).toBe(50);
    expect(new Set(seen.filter((s) => "abcd".includes(s.step)).map((s) => s.worker)).size).toBe(2);

    const chained = await (await chain.kiq(5)).waitResult({ timeoutMs: 20_000 });
    expect(chained).toMatchObject({ isErr: false, returnValue: 11 });
  });

  it("retries a failing step with backoff, shows the attempts, and fails the run on the last one", async () => {
    const { producer, tracking, workerBroker } = setup();
    let calls = 0;
    const define = (broker: BullMQBroker) =>
      new Pipeline(broker, { name: "flaky" })
        .step(
          "try",
          (_: unknown, ctx) => {
            calls++;
            if (ctx.attempt < 3) throw new Error(`boom ${ctx.attempt}`);
            return ctx.attempt;
          },
          { retries: 2, backoff: { type: "fixed", delayMs: 10 } },
        )
        .step("never", () => {
          throw new Error("always");
        });
    const b = workerBroker("w1");
    const handle = await b.startWorker({ pipelines: [define(b)], leaseMs: 4000 });
    closers.push(() => handle.close());
    const task = await define(producer).withTracking(tracking).kiq();
    const res = await task.waitResult({ timeoutMs: 20_000 });
    expect(res).toMatchObject({ isErr: true, error: "always" });
    expect(calls).toBe(3);
    const status = (await tracking.getStatus(task.pipelineId))!;
    expect(status.status).toBe("FAILED");
    expect(status.steps.map((s) => [s.stepName, s.status, s.attempts])).toEqual([
      ["try", "COMPLETED", 3],
      ["never", "FAILED", 1],
    ]);
  });

  it("times an attempt out (its signal aborts), retries it, and fails the run with the timeout", async () => {
    const { producer, tracking, workerBroker } = setup();
    const aborts: string[] = [];
    const define = (broker: BullMQBroker) =>
      new Pipeline(broker, { name: "hangs" }).step(
        "hang",
        (_: unknown, ctx) =>
          new Promise((_, reject) =>
            ctx.signal.addEventListener("abort", () => {
              aborts.push(`${ctx.attempt}: ${(ctx.signal.reason as Error).message}`);
              reject(ctx.signal.reason);
            }),
          ),
        { timeoutMs: 150, retries: 1 },
      );
    const b = workerBroker("w1");
    const handle = await b.startWorker({ pipelines: [define(b)], leaseMs: 4000 });
    closers.push(() => handle.close());
    const task = await define(producer).withTracking(tracking).kiq();
    const res = await task.waitResult({ timeoutMs: 10_000 });
    expect(res).toMatchObject({ isErr: true, error: 'TimeoutError: Step "hang" timed out after 150 ms' });
    expect(aborts).toEqual(['1: Step "hang" timed out after 150 ms', '2: Step "hang" timed out after 150 ms']);
    const status = (await tracking.getStatus(task.pipelineId))!;
    expect(status.steps[0]).toMatchObject({ status: "FAILED", attempts: 2, error: 'TimeoutError: Step "hang" timed out after 150 ms' });
  });

  it("a cancel aborts the running step's signal and no further step starts", async () => {
    const { producer, tracking, workerBroker } = setup();
    let aborted: (reason: unknown) => void;
    const abortedP = new Promise((r) => (aborted = r));
    let started: () => void;
    const startedP = new Promise<void>((r) => (started = r));
    let afterRan = false;
    const define = (broker: BullMQBroker) =>
      new Pipeline(broker, { name: "slow" })
        .step("wait", (_: unknown, ctx) => {
          started();
          return new Promise((_, reject) =>
            ctx.signal.addEventListener("abort", () => {
              aborted(ctx.signal.reason);
              reject(ctx.signal.reason);
            }),
          );
        })
        .step("after", () => {
          afterRan = true;
        });
    const b = workerBroker("w1");
    const handle = await b.startWorker({ pipelines: [define(b)], leaseMs: 4000 });
    closers.push(() => handle.close());
    const task = await define(producer).withTracking(tracking).kiq();
    await startedP;
    const t0 = performance.now();
    expect(await task.cancel()).toBe(true);
    await abortedP;
    expect(performance.now() - t0).toBeLessThan(1000);
    const res = await task.waitResult({ timeoutMs: 5000 });
    expect(res.isErr).toBe(true);
    const status = (await tracking.getStatus(task.pipelineId))!;
    expect(status.status).toBe("CANCELLED");
    expect(status.steps.map((s) => s.status)).toEqual(["CANCELLED", "CANCELLED"]);
    expect(afterRan).toBe(false);
  });

  it("refuses an input over maxPayloadBytes and fails a step whose output is too large or not JSON", async () => {
    const { prefix, tracking, workerBroker, logger } = setup();
    const producer = new BullMQBroker({ connection: REDIS_URL, prefix, maxPayloadBytes: 1000, logger });
    closers.push(() => producer.close());
    const define = (broker: BullMQBroker) =>
      new Pipeline(broker, { name: "big" }).step("grow", (n: number) => (n > 0 ? "x".repeat(n) : { big: BigInt(1) })).step("next", () => 1);
    await expect(
      define(producer)
        .withTracking(tracking)
        .kiq("y".repeat(2000) as never),
    ).rejects.toThrow(/over maxPayloadBytes \(1000\)/);
    const b = new BullMQBroker({ connection: REDIS_URL, prefix, maxPayloadBytes: 1000, workerId: "w1", logger });
    closers.push(() => b.close());
    const handle = await b.startWorker({ pipelines: [define(b)], leaseMs: 4000 });
    closers.push(() => handle.close());
    const tooBig = await (await define(producer).withTracking(tracking).kiq(5000)).waitResult({ timeoutMs: 10_000 });
    expect(tooBig.error).toMatch(/output of step "grow" is \d+ bytes of JSON, over maxPayloadBytes/);
    const notJson = await (await define(producer).withTracking(tracking).kiq(0)).waitResult({ timeoutMs: 10_000 });
    expect(notJson.error).toMatch(/output of step "grow" cannot be serialised as JSON/);
    void workerBroker;
  });

  it("a worker whose Redis connections drop mid-run reconnects and the runs complete", async () => {
    const { producer, tracking, workerBroker } = setup();
    const b = workerBroker("w-hiccup");
    const handle = await b.startWorker({ pipelines: [definePipelines(b).chain], concurrency: 4, leaseMs: 4000 });
    closers.push(() => handle.close());
    const { chain } = definePipelines(producer);
    chain.withTracking(tracking);
    const tasks = await Promise.all(Array.from({ length: 30 }, (_, i) => chain.kiq(i)));
    // Every connection named by the worker's broker (its commands, BullMQ's blocking one) is killed once.
    const own = String(await b.redis.client("ID"));
    const ids = [own];
    for (const line of ((await admin.client("LIST")) as string).split("\n")) {
      const id = /^id=(\d+) .* name=(\S*)/.exec(line);
      if (id && id[2]!.includes("w-hiccup")) ids.push(id[1]!);
    }
    expect(ids.length).toBeGreaterThan(1); // its own and at least BullMQ's blocking connection
    for (const id of ids) await admin.client("KILL", "ID", id);
    const results = await Promise.all(tasks.map((t) => t.waitResult({ timeoutMs: 20_000 })));
    expect(results.map((r) => r.returnValue)).toEqual(Array.from({ length: 30 }, (_, i) => i * 2 + 1));
  });

  it("leaves no execution state, queue job or lease behind once runs end", async () => {
    const { prefix, producer, tracking, workerBroker } = setup();
    const b = workerBroker("w1");
    const handle = await b.startWorker({ pipelines: Object.values(definePipelines(b)), concurrency: 4, leaseMs: 4000 });
    closers.push(() => handle.close());
    const { chain } = definePipelines(producer);
    chain.withTracking(tracking);
    const tasks = await Promise.all(Array.from({ length: 20 }, (_, i) => chain.kiq(i)));
    await Promise.all(tasks.map((t) => t.waitResult({ timeoutMs: 20_000 })));
    expect(await countKeys(admin, `${prefix}x:`)).toBe(0);
    expect(await admin.zcard(`${prefix}leases`)).toBe(0);
    expect(await admin.llen(`${prefix}q:p.chain:wait`)).toBe(0);
    expect(await admin.zcard(`${prefix}q:p.chain:completed`)).toBe(0);
  });
});
