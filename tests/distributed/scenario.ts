/**
 * Distributed execution with real processes, on whichever Redis a backend gives (a single server, a
 * Redis Cluster): `pipewatch worker` processes (BullMQ workers), producers (a separate process, or
 * this one), and two dashboards sharing the storage. Workers die (SIGKILL), stop (SIGTERM), and runs
 * are cancelled through a dashboard's API.
 */
import { randomBytes } from "node:crypto";
import { spawn, type ChildProcess } from "node:child_process";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { BullMQBroker, PipelineTrackingManager, type PipelineStatusJSON, type PipelineSummary, type StepStatusJSON } from "pipewatch";
import { connectClient, waitForEvent, type TestServer } from "../server/helpers";
import { silentLogger } from "../redis/helpers";
import { exited, startWorkerProcess, stepEvents, type WorkerProcess } from "./processes";

export const LEASE_MS = 4000;

export interface Dashboard {
  server: TestServer;
  stop(): Promise<void>;
}

export interface Backend {
  /** For worker and producer processes: REDIS_URL or REDIS_CLUSTER_NODES, REDIS_PREFIX, EVENTS_URL (one node). */
  env: Record<string, string>;
  /** A dashboard (in this process) sharing the storage. */
  dashboard(): Promise<Dashboard>;
  /** Removes what the backend made (keys, servers). */
  stop(): Promise<void>;
}

export function describeDistributed(title: string, makeBackend: () => Promise<Backend>): void {
  let backend: Backend;
  let env: Record<string, string>;
  let dashA: Dashboard;
  let dashB: Dashboard;
  let events: Awaited<ReturnType<typeof stepEvents>>;
  let producer: BullMQBroker;
  let tracking: PipelineTrackingManager;
  let pipelines: typeof import("./fixtures/pipelines");
  const children = new Set<ChildProcess>();

  async function worker(extra: Record<string, string> = {}): Promise<WorkerProcess> {
    const w = await startWorkerProcess({ ...env, ...extra });
    children.add(w.child);
    return w;
  }

  async function stop(w: WorkerProcess, signal: NodeJS.Signals): Promise<number | null> {
    const code = exited(w.child);
    w.child.kill(signal);
    const result = await code;
    children.delete(w.child);
    return result;
  }

  async function apiStatus(server: TestServer, id: string): Promise<PipelineStatusJSON> {
    const res = await fetch(`${server.url}/api/pipelines/${id}`);
    expect(res.status).toBe(200);
    return (await res.json()) as PipelineStatusJSON;
  }

  const newId = (name: string) => `${name}-${randomBytes(4).toString("hex")}`;

  beforeAll(async () => {
    backend = await makeBackend();
    env = { LEASE_MS: String(LEASE_MS), STEP_MS: "300", LONG_MS: "3000", ...backend.env };
    // The producer (this process) imports the same module the workers load, configured alike.
    Object.assign(process.env, env);
    pipelines = await import("./fixtures/pipelines");
    producer = pipelines.broker;
    tracking = new PipelineTrackingManager({ logger: silentLogger(), leaseMs: LEASE_MS }).withAutoStorage(producer);
    dashA = await backend.dashboard();
    dashB = await backend.dashboard();
    events = await stepEvents(env.EVENTS_URL!, producer.keyPrefix);
  }, 60_000);

  afterEach(async () => {
    await Promise.all(
      [...children].map(async (child) => {
        const done = exited(child);
        child.kill("SIGKILL");
        await done;
      }),
    );
    children.clear();
  });

  afterAll(async () => {
    await events?.close();
    await tracking?.close();
    await producer?.close();
    await dashA?.stop();
    await dashB?.stop();
    await backend?.stop();
  });

  describe(title, () => {
    it("runs a dataflow run's parallel steps on both workers; dashboard A's socket sees every transition of a run another process started", async () => {
      const [w1, w2] = await Promise.all([worker(), worker()]);
      const id = newId("fanout");
      const client = await connectClient(dashA.server.url);
      const steps: StepStatusJSON[] = [];
      client.on("step:update", ({ pipelineId, step }) => pipelineId === id && steps.push(step));
      await new Promise((resolve) => client.emit("subscribe", { pipelineId: id }, resolve));
      const completed = waitForEvent<PipelineSummary>(
        client,
        "pipeline:update",
        (s) => s.pipelineId === id && s.status === "COMPLETED",
        20_000,
      );

      // The producer is its own process and exits as soon as kiq resolved: the workers orchestrate the rest.
      const producerProcess = spawn(process.execPath, ["--import", "tsx", "tests/distributed/fixtures/produce.ts", "fanout", id], {
        env: { ...process.env, ...env },
        stdio: "ignore",
      });
      expect(await exited(producerProcess)).toBe(0);
      await completed;
      client.close();

      const status = await apiStatus(dashB.server, id);
      expect(status.status).toBe("COMPLETED");
      expect(status.result).toBe(14);
      const parallel = status.steps.filter((s) => ["a", "b", "c", "d"].includes(s.stepName));
      expect(new Set(parallel.map((s) => s.workerId))).toEqual(new Set([w1.workerId, w2.workerId]));
      for (const name of ["load", "a", "b", "c", "d", "sum"]) {
        const seen = steps.filter((s) => s.stepName === name).map((s) => s.status);
        // "sum" takes no time: the server may coalesce its RUNNING into its end (one frame).
        if (name !== "sum") expect(seen, name).toContain("RUNNING");
        expect(seen.at(-1), name).toBe("COMPLETED");
      }
      const workers = (await (await fetch(`${dashB.server.url}/api/workers`)).json()) as {
        items: { workerId: string; status: string; pid: number; processed: number; concurrency: number }[];
      };
      const listed = workers.items.filter((w) => [w1.workerId, w2.workerId].includes(w.workerId));
      expect(listed.map((w) => w.status)).toEqual(["online", "online"]);
      expect(listed.map((w) => w.pid).sort()).toEqual([w1.child.pid, w2.child.pid].sort());
      expect(listed.every((w) => w.concurrency === 1)).toBe(true);
      const definitions = (await (await fetch(`${dashA.server.url}/api/definitions`)).json()) as {
        items: { name: string; pipelineType: string; steps: { name: string; dependsOn: string[] }[]; workers: number }[];
      };
      expect(definitions.items.find((d) => d.name === "fanout")).toMatchObject({ pipelineType: "dataflow", workers: 2 });
      expect(definitions.items.find((d) => d.name === "fanout")!.steps.at(-1)).toEqual({ name: "sum", dependsOn: ["a", "b", "c", "d"] });

      expect(await stop(w1, "SIGTERM")).toBe(0);
      expect(await stop(w2, "SIGTERM")).toBe(0);
      const after = (await (await fetch(`${dashB.server.url}/api/workers`)).json()) as typeof workers;
      expect(after.items.filter((w) => [w1.workerId, w2.workerId].includes(w.workerId)).map((w) => w.status)).toEqual([
        "offline",
        "offline",
      ]);
    });

    it("a worker SIGKILLed mid-step: the step runs again on the other worker (attempt 2) and the run completes", async () => {
      const [w1, w2] = await Promise.all([worker(), worker()]);
      const task = await pipelines.slow.withTracking(tracking).kiq(undefined, { pipelineId: newId("slow") });
      const first = await events.next((e) => e.pipelineId === task.pipelineId && e.step === "long" && e.event === "start");
      const victim = first.workerId === w1.workerId ? w1 : w2;
      const survivor = victim === w1 ? w2 : w1;
      const killedAt = Date.now();
      await stop(victim, "SIGKILL");
      const again = await events.next(
        (e) => e.pipelineId === task.pipelineId && e.step === "long" && e.event === "start" && e.attempt === 2,
      );
      expect(again.workerId).toBe(survivor.workerId);
      expect(again.at - killedAt).toBeLessThan(LEASE_MS / 2 + 1000);
      const result = await task.waitResult({ timeoutMs: 15_000 });
      expect(result).toMatchObject({ isErr: false, returnValue: "after" });
      const status = await apiStatus(dashA.server, task.pipelineId);
      expect(status.steps[0]).toMatchObject({ stepName: "long", status: "COMPLETED", attempts: 2, workerId: survivor.workerId });
    });

    it("SIGTERM: a step still running after the grace period goes back to the queue, never CANCELLED, and another worker finishes it", async () => {
      const leaving = await worker({ WORKER_GRACE_MS: "200" });
      const task = await pipelines.slow.withTracking(tracking).kiq(undefined, { pipelineId: newId("slow") });
      await events.next((e) => e.pipelineId === task.pipelineId && e.step === "long" && e.event === "start");
      const staying = await worker();
      expect(await stop(leaving, "SIGTERM")).toBe(0);
      const again = await events.next(
        (e) => e.pipelineId === task.pipelineId && e.step === "long" && e.event === "start" && e.attempt === 2,
      );
      expect(again.workerId).toBe(staying.workerId);
      expect(await task.waitResult({ timeoutMs: 15_000 })).toMatchObject({ isErr: false });
      const status = await apiStatus(dashB.server, task.pipelineId);
      expect(status.status).toBe("COMPLETED");
      expect(status.steps.map((s) => s.status)).toEqual(["COMPLETED", "COMPLETED"]);
    });

    it("a cancel through dashboard B's API aborts the running step's signal on its worker within 1 s; no further step starts", async () => {
      await worker();
      const task = await pipelines.slow.withTracking(tracking).kiq(undefined, { pipelineId: newId("slow") });
      await events.next((e) => e.pipelineId === task.pipelineId && e.step === "long" && e.event === "start");
      const cancelledAt = Date.now();
      const res = await fetch(`${dashB.server.url}/api/pipelines/${task.pipelineId}/cancel`, { method: "POST" });
      expect(res.status).toBe(202);
      const aborted = await events.next((e) => e.pipelineId === task.pipelineId && e.event === "aborted");
      expect(aborted.at - cancelledAt).toBeLessThan(1000);
      expect(await task.waitResult({ timeoutMs: 5000 })).toMatchObject({ isErr: true, error: "Cancelled" });
      const status = await apiStatus(dashA.server, task.pipelineId);
      expect(status.status).toBe("CANCELLED");
      expect(status.steps[1]).toMatchObject({ stepName: "after", status: "CANCELLED", startedAt: null });
      expect(events.seen.some((e) => e.pipelineId === task.pipelineId && e.step === "after")).toBe(false);
    });

    it('with every worker killed, the run ends FAILED "worker lost" within the lease plus 5 s, heard by dashboard A\'s socket', async () => {
      const [w1, w2] = await Promise.all([worker(), worker()]);
      const task = await pipelines.slow.withTracking(tracking).kiq(undefined, { pipelineId: newId("slow") });
      const started = await events.next((e) => e.pipelineId === task.pipelineId && e.step === "long" && e.event === "start");
      const client = await connectClient(dashA.server.url);
      const lost = waitForEvent<PipelineSummary>(
        client,
        "pipeline:update",
        (s) => s.pipelineId === task.pipelineId && s.status === "FAILED",
        20_000,
      );
      const killedAt = Date.now();
      await Promise.all([stop(w1, "SIGKILL"), stop(w2, "SIGKILL")]);
      const summary = await lost;
      client.close();
      expect(Date.now() - killedAt).toBeLessThan(LEASE_MS + 5000 + 1000);
      expect(summary.error).toMatch(new RegExp(`^worker lost: ${started.workerId.replace(/[.]/g, "\\.")}`));
    }, 30_000);
  });
}
