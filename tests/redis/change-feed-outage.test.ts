/**
 * The change feed across Redis outages, on a redis-server this file starts on a port from the OS (no
 * persistence): a subscription made while Redis is down starts working once it is up (whatever the
 * client's retry options), an outage logs one warning (not one per reconnect attempt) and one
 * "reconnected", and a Redis that restarts empty mid-run (versions start over) does not silence
 * that run's updates to another process's listeners.
 */
import { ownRedis } from "../own-redis";
import { randomBytes } from "node:crypto";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { Redis } from "ioredis";
import { pino, type Logger } from "pino";
import { InMemoryBroker, Pipeline, PipelineTrackingManager, RedisPipelineStorage, type PipelineStatus } from "../../lib";
import type { StorageChange } from "../../lib/tracking/storage/types";
import { eventually } from "../../lib/tracking/storage/contract/helpers";
import { makeRun } from "../../lib/tracking/storage/contract/helpers";
import { silentLogger, sleep, subscriberCount } from "./helpers";

// Reserved, not started: clients are made before the server comes up.
const redisServer = await ownRedis();
const startServer = () => redisServer.start();
const stopServer = () => redisServer.kill();
const cleanups: (() => Promise<void> | void)[] = [];

/** A client like the server's: commands fail fast while disconnected, reconnects are quick. */
function client(): Redis {
  const redis = new Redis(redisServer.port, "127.0.0.1", { maxRetriesPerRequest: 1, retryStrategy: (times) => Math.min(50 * times, 200) });
  redis.on("error", () => undefined);
  cleanups.push(() => redis.disconnect());
  return redis;
}

interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

function capturingLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = pino({ level: "debug" }, { write: (s: string) => void lines.push(JSON.parse(s) as LogLine) });
  return { logger, lines };
}

const prefix = () => `pwtest:feed:${randomBytes(4).toString("hex")}:`;

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await stopServer();
});

afterAll(async () => {
  await stopServer();
});

describe("the Redis change feed across outages", () => {
  /** Subscribes while Redis is down, starts it, writes from another connection until the change arrives. */
  async function subscribeBeforeRedis(): Promise<{ seen: StorageChange[]; lines: LogLine[]; warnsWhileDown: number }> {
    const keyPrefix = prefix();
    const { logger, lines } = capturingLogger();
    const reader = new RedisPipelineStorage(client(), { keyPrefix, logger });
    cleanups.push(() => reader.close());
    const seen: StorageChange[] = [];
    reader.subscribe((c) => seen.push(c));
    // Long enough for a fail-fast client's SUBSCRIBE to be rejected and for many reconnect attempts.
    await sleep(1200);
    const warnsWhileDown = lines.filter((l) => l.level === 40).length;
    await startServer();
    const writer = new RedisPipelineStorage(client(), { keyPrefix, logger: silentLogger() });
    cleanups.push(() => writer.close());
    // The subscriber reconnects on its own schedule: write until a change arrives (or give up).
    for (let i = 0; i < 30 && seen.length === 0; i++) {
      await writer.saveStatus(makeRun(`late-${i}`), { origin: "writer" });
      await sleep(100);
    }
    return { seen, lines, warnsWhileDown };
  }

  it("a subscription made while Redis is down receives changes once it is up (fail-fast client)", async () => {
    const { seen } = await subscribeBeforeRedis();
    expect(seen.length).toBeGreaterThan(0);
    expect(seen[0]).toMatchObject({ origin: "writer", deleted: false });
  });

  it("an outage logs one warning, not one per reconnect attempt, and one 'reconnected' when it ends", async () => {
    const { lines, warnsWhileDown } = await subscribeBeforeRedis();
    expect(warnsWhileDown).toBe(1);
    const warns = lines.filter((l) => l.level === 40);
    expect(warns).toHaveLength(1);
    expect(warns[0]!.msg).toMatch(/change.feed/i);
    await eventually(() => expect(lines.filter((l) => l.level === 30 && /change feed reconnected/i.test(l.msg))).toHaveLength(1));
  });

  it("a Redis restarted empty mid-run: the run's later updates still reach another process's listener", async () => {
    const keyPrefix = prefix();
    await startServer();
    const writerRedis = client();
    const writer = new PipelineTrackingManager({ logger: silentLogger() }).withStorage(
      new RedisPipelineStorage(writerRedis, { keyPrefix, logger: silentLogger() }),
    );
    const watcherStorage = new RedisPipelineStorage(client(), { keyPrefix, logger: silentLogger() });
    const watcher = new PipelineTrackingManager({ logger: silentLogger() }).withStorage(watcherStorage);
    const probe = client();
    const feedSubscribers = () => subscriberCount(probe, watcherStorage.keys.channel);
    cleanups.push(
      () => writer.close(),
      () => watcher.close(),
    );
    const heard: PipelineStatus[] = [];
    watcher.addListener((status) => {
      if (status.pipelineId === "restart-run") heard.push(status);
    });
    // The watcher's change feed is subscribed (the writer's subscribes once it records).
    await vi.waitFor(async () => expect(await feedSubscribers()).toBe(1), { timeout: 5000, interval: 20 });

    const stepNames = Array.from({ length: 12 }, (_, i) => `s${i}`);
    let gateOpen!: () => void;
    const gate = new Promise<void>((r) => (gateOpen = r));
    let pipe = new Pipeline(new InMemoryBroker({ redis: writerRedis }), { name: "restarted" });
    stepNames.forEach((name, i) => {
      pipe = pipe.step(name, async (x: unknown) => {
        if (i === 9) await gate; // the restart happens while step s9 runs
        return (x as number) + 1;
      });
    });
    pipe.withTracking(writer);
    const task = await pipe.kiq(0, { pipelineId: "restart-run" });
    // Before the restart the watcher heard many versions (s0-s8 started and completed).
    await eventually(() => expect(heard.at(-1)?.steps[8]?.status).toBe("COMPLETED"), 5000);

    const subscribed = 2; // the watcher's and the writer's feeds
    await vi.waitFor(async () => expect(await feedSubscribers()).toBe(subscribed), { timeout: 5000, interval: 20 });
    await stopServer();
    await startServer();
    // The watcher's subscriber needs to be back before the run's last writes are announced.
    await vi.waitFor(async () => expect(await feedSubscribers()).toBe(subscribed), { timeout: 5000, interval: 20 });
    gateOpen();
    expect(await task.waitResult({ timeoutMs: 10_000 })).toMatchObject({ isErr: false, returnValue: 12 });
    await eventually(() => expect(heard.at(-1)?.status).toBe("COMPLETED"), 5000);
    expect(heard.at(-1)?.steps.every((s) => s.status === "COMPLETED")).toBe(true);
  });
});
