/**
 * Shared setup for the server tests: the real server (startServer, Next in production mode over
 * the committed build) on a random port, with a fresh in-memory tracking manager unless given one.
 */
import { Redis } from "ioredis";
import { RedisPipelineStorage } from "../../lib/tracking/storage/redis/storage";
import { deleteKeys } from "../redis/helpers";
import { TEST_REDIS_URL } from "../test-redis-url";
import { pino } from "pino";
import { io as connect, type Socket } from "socket.io-client";
import { Pipeline } from "../../lib/pipeline/pipeline";
import { InMemoryBroker } from "../../lib/pipeline/broker";
import { PipelineTrackingManager } from "../../lib/tracking/manager";
import { InMemoryPipelineStorage } from "../../lib/tracking/storage/memory";
import type { ClientToServerEvents, ServerToClientEvents } from "../../lib/events";
import { startServer, type RunningServer, type StartServerOptions } from "../../server/app-server";

export const silentLogger = pino({ level: "silent" });

export interface TestServer extends RunningServer {
  tracking: PipelineTrackingManager;
  broker: InMemoryBroker;
}

export async function startTestServer(options: Partial<StartServerOptions> = {}): Promise<TestServer> {
  const tracking = options.tracking ?? new PipelineTrackingManager({ logger: silentLogger }).withStorage(new InMemoryPipelineStorage());
  const server = await startServer({ port: 0, dev: false, logger: silentLogger, processMetrics: false, ...options, tracking });
  return { ...server, tracking, broker: new InMemoryBroker() };
}

export type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** A socket.io client; resolves once connected, rejects with the server's refusal. */
export function connectClient(url: string, options: { token?: string; headers?: Record<string, string> } = {}): Promise<ClientSocket> {
  const socket: ClientSocket = connect(url, {
    path: "/socket.io",
    transports: ["websocket"],
    reconnection: false,
    forceNew: true,
    auth: options.token === undefined ? {} : { token: options.token },
    extraHeaders: options.headers,
  });
  return new Promise((resolve, reject) => {
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", (err) => {
      socket.close();
      reject(err);
    });
  });
}

/** A controllable pipeline: each step waits until `release()` is called for it. */
export function gatedPipeline(broker: InMemoryBroker, tracking: PipelineTrackingManager, name = "gated") {
  const gates = new Map<string, () => void>();
  const waitFor = (step: string) => new Promise<void>((resolve) => gates.set(step, resolve));
  const pipeline = new Pipeline(broker, { name })
    .step("first", async () => {
      await waitFor("first");
      return { n: 1 };
    })
    .step("second", async () => {
      await waitFor("second");
      return { n: 2 };
    })
    .withTracking(tracking);
  const release = async (step: string) => {
    for (let i = 0; i < 200 && !gates.has(step); i++) await new Promise((r) => setTimeout(r, 5));
    gates.get(step)?.();
  };
  return { pipeline, release };
}

/** Runs a small pipeline to completion and returns its id. */
export async function runQuickPipeline(
  broker: InMemoryBroker,
  tracking: PipelineTrackingManager,
  name = "quick",
  fail = false,
): Promise<string> {
  const pipeline = new Pipeline(broker, { name })
    .step("a", async () => ({ ok: true }))
    .step("b", async () => {
      if (fail) throw new Error("boom: step b failed");
      return { done: 1 };
    })
    .withTracking(tracking);
  const task = await pipeline.kiq();
  await task.waitResult({ timeoutMs: 5_000 });
  return task.pipelineId;
}

export function waitForEvent<T>(
  socket: ClientSocket,
  event: keyof ServerToClientEvents,
  predicate: (payload: T) => boolean,
  timeoutMs = 5_000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off(event, handler as never);
      reject(new Error(`timed out waiting for ${event}`));
    }, timeoutMs);
    const handler = (payload: T) => {
      if (!predicate(payload)) return;
      clearTimeout(timer);
      socket.off(event, handler as never);
      resolve(payload);
    };
    socket.on(event, handler as never);
  });
}

/**
 * The server over a Redis storage under `keyPrefix` (on TEST_REDIS_URL); `stop` closes it and
 * deletes the prefix's keys.
 */
export async function startRedisTestServer(keyPrefix: string): Promise<{ server: TestServer; stop: () => Promise<void> }> {
  const redis = new Redis(TEST_REDIS_URL);
  const tracking = new PipelineTrackingManager({ logger: silentLogger }).withStorage(new RedisPipelineStorage(redis, { keyPrefix }));
  const server = await startTestServer({ tracking });
  return {
    server,
    async stop() {
      await server.close();
      await server.tracking.close();
      const cleaner = new Redis(TEST_REDIS_URL);
      await deleteKeys(cleaner, keyPrefix);
      await cleaner.quit();
      if (redis.status !== "end") redis.disconnect();
    },
  };
}
