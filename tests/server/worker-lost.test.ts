/**
 * A worker recording into Redis is SIGKILLed mid-step. While it lived, its lease kept its run
 * RUNNING; once killed, the dashboard's own manager sweeps the expired lease within leaseMs + 5 s
 * and the dashboard's socket clients hear the run FAILED "worker lost: …".
 */
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, expect, it } from "vitest";
import { PipelineTrackingManager } from "../../lib/tracking/manager";
import type { PipelineSummary } from "../../lib/tracking/models";
import { RedisPipelineStorage } from "../../lib/tracking/storage/redis/storage";
import { TEST_REDIS_URL as REDIS_URL } from "../test-redis-url";
import { exited, startLeaseWorker } from "../redis/lease-worker-process";
import { deleteKeys } from "../redis/helpers";
import { connectClient, silentLogger, startTestServer, waitForEvent, type ClientSocket, type TestServer } from "./helpers";

const PREFIX = `pwtest:server:lease:${randomBytes(4).toString("hex")}:`;
const LEASE_MS = 3000;
let redis: Redis;
let server: TestServer;
let socket: ClientSocket | undefined;

beforeAll(async () => {
  redis = new Redis(REDIS_URL);
  // The dashboard's manager keeps the default lease (30 s), so it sweeps every 5 s.
  const tracking = new PipelineTrackingManager({ logger: silentLogger }).withStorage(
    new RedisPipelineStorage(redis, { keyPrefix: PREFIX }),
  );
  server = await startTestServer({ tracking });
});

afterAll(async () => {
  socket?.close();
  await server?.close();
  await server?.tracking.close();
  const cleaner = new Redis(REDIS_URL);
  await deleteKeys(cleaner, PREFIX);
  await cleaner.quit();
  if (redis && redis.status !== "end") redis.disconnect();
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
