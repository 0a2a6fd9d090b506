/**
 * The dashboard server (the production entry, spawned) started with REDIS_CLUSTER_NODES against a
 * Redis Cluster of this file's own, with the default "{pipewatch}:" prefix: it serves the list, a
 * run's detail, metrics and health, and its Socket.IO clients hear a run that a tracking manager in
 * this test process records on the same cluster. The CLI's `status --list` reads the same runs.
 */
import { spawn, type ChildProcess } from "node:child_process";
import type { Cluster } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_CLUSTER_KEY_PREFIX, InMemoryBroker, PipelineTrackingManager, RedisPipelineStorage } from "../../lib";
import type { PipelineSummary } from "../../lib/tracking/models";
import { startOwnCluster, type OwnCluster } from "../own-cluster";
import { buildServerEntry, startEntry, stopGracefully, type StartedEntry } from "../server/entry";
import { connectClient, runQuickPipeline, silentLogger, waitForEvent, type ClientSocket } from "../server/helpers";

let cluster: OwnCluster;
let server: StartedEntry;
let redis: Cluster;
let tracking: PipelineTrackingManager;
let socket: ClientSocket | undefined;
const children: ChildProcess[] = [];
const broker = new InMemoryBroker();
let recorded: string[] = [];

beforeAll(async () => {
  buildServerEntry();
  cluster = await startOwnCluster();
  server = await startEntry({ REDIS_CLUSTER_NODES: cluster.nodes }, children);
  redis = cluster.connect();
  tracking = new PipelineTrackingManager({ logger: silentLogger }).withStorage(
    new RedisPipelineStorage(redis, { keyPrefix: DEFAULT_CLUSTER_KEY_PREFIX, logger: silentLogger }),
  );
}, 60_000);

afterAll(async () => {
  socket?.close();
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
  await tracking?.close();
  redis?.disconnect();
  await cluster?.stop(); // its own servers: nothing to clean up
});

async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(`${server.url}${path}`);
  expect(res.status, path).toBe(200);
  return (await res.json()) as T;
}

function pipewatchCli(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", "lib/cli/pipewatch.ts", ...args], {
      env: { ...process.env, REDIS_PREFIX: "", REDIS_CLUSTER_NODES: cluster.nodes },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d));
    child.stderr.on("data", (d: Buffer) => (err += d));
    child.on("exit", (code) => resolve({ code, out, err }));
  });
}

describe("the dashboard on a Redis Cluster (REDIS_CLUSTER_NODES)", () => {
  it("starts healthy on Redis storage, with its change feed live", async () => {
    expect(server.logs.find((l) => l.msg === "using Redis storage")).toMatchObject({
      redis: `Redis Cluster ${cluster.nodes}`,
      keyPrefix: "{pipewatch}:",
    });
    expect(server.logs.find((l) => l.msg === "pipewatch server listening")).toMatchObject({
      storage: "redis",
      health: { status: "healthy", storage: "redis" },
    });
    let health: Record<string, unknown> = {};
    for (let i = 0; i < 100 && health.changeFeed !== "live"; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 50)); // polling for the subscription, bounded
      health = await getJson("/api/health");
    }
    expect(health).toMatchObject({ status: "healthy", storage: "redis", changeFeed: "live" });
  });

  it("pushes runs recorded by another manager to a Socket.IO client, and serves list, detail and metrics", async () => {
    socket = await connectClient(server.url);
    const completed = waitForEvent<PipelineSummary>(
      socket,
      "pipeline:update",
      (s) => s.pipelineName === "cluster-ok" && s.status === "COMPLETED",
      10_000,
    );
    const ok = await runQuickPipeline(broker, tracking, "cluster-ok");
    const failed = await runQuickPipeline(broker, tracking, "cluster-failing", true);
    recorded = [ok, failed];
    expect(await completed).toMatchObject({ pipelineId: ok, stepsTotal: 2, stepsCompleted: 2 });

    const list = await getJson<{ items: PipelineSummary[]; nextCursor: string | null }>("/api/pipelines?limit=1");
    expect(list.items.map((i) => i.pipelineId)).toEqual([failed]);
    const next = await getJson<{ items: PipelineSummary[] }>(`/api/pipelines?limit=1&cursor=${encodeURIComponent(list.nextCursor!)}`);
    expect(next.items.map((i) => i.pipelineId)).toEqual([ok]);
    const onlyFailed = await getJson<{ items: PipelineSummary[] }>("/api/pipelines?status=FAILED");
    expect(onlyFailed.items.map((i) => i.pipelineId)).toEqual([failed]);
    const search = await getJson<{ items: PipelineSummary[] }>("/api/pipelines?q=cluster-o");
    expect(search.items.map((i) => i.pipelineId)).toEqual([ok]);

    const detail = await getJson<{ status: string; steps: { stepName: string; status: string; result: unknown }[] }>(
      `/api/pipelines/${ok}`,
    );
    expect(detail.status).toBe("COMPLETED");
    expect(detail.steps.map((s) => [s.stepName, s.status])).toEqual([
      ["a", "COMPLETED"],
      ["b", "COMPLETED"],
    ]);
    expect(detail.steps[1]!.result).toEqual({ done: 1 });

    const metrics = await getJson<{ totalPipelines: number; successRate: number }>("/api/metrics?days=7");
    expect(metrics.totalPipelines).toBe(2);
  });

  it("the CLI's status --list reads the same runs (default prefix {pipewatch}:)", async () => {
    expect(recorded).toHaveLength(2);
    const { code, out, err } = await pipewatchCli(["status", "--list"]);
    expect(err).toBe("");
    expect(code).toBe(0);
    for (const id of recorded) expect(out).toContain(id);
    expect(out).toMatch(/cluster-failing\s+FAILED/);
  });

  it("stops cleanly on SIGTERM", async () => {
    await stopGracefully(server);
  });
});
