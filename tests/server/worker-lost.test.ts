/**
 * A worker recording into Redis is SIGKILLed mid-step. While it lived, its lease kept its run
 * RUNNING; once killed, the dashboard's own manager sweeps the expired lease within leaseMs + 5 s
 * and the dashboard's socket clients hear the run FAILED "worker lost: …".
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { PipelineSummary } from "../../lib/tracking/models";
import { exited, startLeaseWorker } from "../redis/lease-worker-process";
import { connectClient, startRedisTestServer, waitForEvent, type ClientSocket, type TestServer } from "./helpers";

const PREFIX = `pwtest:server:lease:${randomBytes(4).toString("hex")}:`;
const LEASE_MS = 3000;
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

it("a SIGKILLed worker's run stays RUNNING while it lives, then ends FAILED 'worker lost' on the dashboard's clients", async () => {
  socket = await connectClient(server.url);
  const { child, started } = startLeaseWorker(PREFIX, "hang", LEASE_MS);
  const [pipelineId] = await started;
  const status = async () => ((await (await fetch(`${server.url}/api/pipelines/${pipelineId}`)).json()) as { status: string }).status;

  // Renewal: the subject is time passing, so this waits on purpose, two and a half lease periods,
  // while the dashboard keeps sweeping.
  await new Promise((r) => setTimeout(r, LEASE_MS * 2.5));
  expect(await status()).toBe("RUNNING");

  const lost = waitForEvent<PipelineSummary>(
    socket,
    "pipeline:update",
    (s) => s.pipelineId === pipelineId && s.status === "FAILED",
    LEASE_MS + 7000,
  );
  const killedAt = Date.now();
  child.kill("SIGKILL");
  await exited(child);
  const update = await lost;
  // The lease ran out at most LEASE_MS after the last renewal; the dashboard sweeps every 5 s.
  expect(Date.now() - killedAt).toBeLessThanOrEqual(LEASE_MS + 5000 + 500);
  expect(update.error).toMatch(/^worker lost: [^ ]+:\d+ \(lease expired\)/);
  const body = (await (await fetch(`${server.url}/api/pipelines/${pipelineId}`)).json()) as {
    status: string;
    error: string;
    steps: { status: string }[];
  };
  expect(body.status).toBe("FAILED");
  expect(body.error).toBe(update.error);
  expect(body.steps.map((s) => s.status)).toEqual(["FAILED", "CANCELLED"]);
}, 40_000);
