/**
 * With Redis: the server serves what another process records, and its clients hear it live
 * through the storage's change feed. Own key prefix; keys deleted afterwards.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PipelineSummary } from "../../lib/tracking/models";
import { TEST_REDIS_URL as REDIS_URL } from "../test-redis-url";
import { connectClient, startRedisTestServer, waitForEvent, type ClientSocket, type TestServer } from "./helpers";

const PREFIX = `pwtest:server:${randomBytes(4).toString("hex")}:`;
let server: TestServer;
let socket: ClientSocket | undefined;

let stopServer: (() => Promise<void>) | undefined;

beforeAll(async () => {
  ({ server, stop: stopServer } = await startRedisTestServer(PREFIX));
});

afterAll(async () => {
  socket?.close();
  await stopServer?.();
});

function runRemoteWriter(pipelineId: string): Promise<number> {
  const child = spawn("npx", ["tsx", "tests/server/fixtures/remote-writer.ts", REDIS_URL, PREFIX, pipelineId, "200"], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve(0) : reject(new Error(`remote writer exited ${code}: ${stderr.slice(0, 500)}`))));
  });
}

describe("with Redis storage", () => {
  it("reports redis in health", async () => {
    const res = await fetch(`${server.url}/api/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: "healthy", storage: "redis" });
  });

  it("pushes a run recorded by another process to a connected client, and serves it", async () => {
    socket = await connectClient(server.url);
    const pipelineId = `remote_${randomBytes(4).toString("hex")}`;
    const running = waitForEvent<PipelineSummary>(
      socket,
      "pipeline:update",
      (s) => s.pipelineId === pipelineId && s.status === "RUNNING",
      20_000,
    );
    const completed = waitForEvent<PipelineSummary>(
      socket,
      "pipeline:update",
      (s) => s.pipelineId === pipelineId && s.status === "COMPLETED",
      20_000,
    );
    const exited = runRemoteWriter(pipelineId);
    expect((await running).pipelineName).toBe("remote");
    expect(await completed).toMatchObject({ stepsTotal: 2, stepsCompleted: 2 });
    await exited;
    const res = await fetch(`${server.url}/api/pipelines/${pipelineId}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string; steps: { result: unknown; workerId: string }[] };
    expect(body.status).toBe("COMPLETED");
    expect(body.steps[1]!.result).toEqual({ stored: 3 });
    expect(body.steps[0]!.workerId).toBe("remote-writer");
    const list = (await (await fetch(`${server.url}/api/pipelines?q=remote_`)).json()) as { items: { pipelineId: string }[] };
    expect(list.items.map((i) => i.pipelineId)).toContain(pipelineId);
  }, 30_000);

  it("reports the Redis storage healthy, with its change feed live once subscribed", async () => {
    let body: Record<string, unknown> = {};
    for (let i = 0; i < 100 && body.changeFeed !== "live"; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 50)); // polling for the subscription, bounded
      const res = await fetch(`${server.url}/api/health`);
      expect(res.status).toBe(200);
      body = (await res.json()) as Record<string, unknown>;
    }
    expect(body).toMatchObject({ status: "healthy", storage: "redis", changeFeed: "live", latencyMs: expect.any(Number) });
  });
});
