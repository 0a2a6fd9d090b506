/**
 * The change feed replays what it missed while its connection was down, on a redis-server this file
 * starts on a port the OS picked: a writer records runs (and deletes some) while the feed's
 * connection is killed five times (CLIENT KILL TYPE pubsub), and the subscriber still ends having
 * heard every run's final version and every delete. A Redis restarted empty, and a gap older than the
 * log's trimmed tail, call onReset.
 */
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { RedisPipelineStorage } from "../../lib";
import { eventually, makeRun, makeStep } from "../../lib/tracking/storage/contract/helpers";
import type { RedisChangeFeed } from "../../lib/tracking/storage/redis/feed/change-feed";
import type { StorageChange } from "../../lib/tracking/storage/types";
import { startOwnRedis, type OwnRedis } from "../own-redis";
import { silentLogger } from "./helpers";

let server: OwnRedis;
const cleanups: (() => Promise<void> | void)[] = [];

beforeAll(async () => {
  server = await startOwnRedis();
  await server.start();
});

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

afterAll(async () => {
  await server.kill();
});

function client(): Redis {
  const redis = new Redis(server.port, "127.0.0.1", { retryStrategy: (times) => Math.min(20 * times, 200) });
  redis.on("error", () => undefined);
  cleanups.push(() => redis.disconnect());
  return redis;
}

function storage(keyPrefix: string): RedisPipelineStorage {
  const s = new RedisPipelineStorage(client(), { keyPrefix, logger: silentLogger() });
  cleanups.push(() => s.close());
  return s;
}

const feedOf = (s: RedisPipelineStorage) => (s as unknown as { feed: RedisChangeFeed }).feed;
const prefix = () => `pwtest:replay:${randomBytes(4).toString("hex")}:`;

/** What a subscriber heard: the highest version per run, the runs it heard deleted, and the resets. */
function listen(s: RedisPipelineStorage) {
  const versions = new Map<string, number>();
  const deleted = new Set<string>();
  const heard: StorageChange[] = [];
  let resets = 0;
  let onReset: (() => void) | null = null;
  s.subscribe(
    (change) => {
      heard.push(change);
      if (change.deleted) deleted.add(change.pipelineId);
      else versions.set(change.pipelineId, Math.max(versions.get(change.pipelineId) ?? 0, change.version));
    },
    {
      onReset: () => {
        resets++;
        onReset?.();
      },
    },
  );
  return {
    versions,
    deleted,
    heard,
    get resets() {
      return resets;
    },
    nextReset: () => new Promise<void>((resolve) => (onReset = resolve)),
  };
}

describe("the Redis change feed after its connection drops", () => {
  it("replays the changes it missed: every run's final version and every delete arrive", async () => {
    const keyPrefix = prefix();
    const writer = storage(keyPrefix);
    const reader = storage(keyPrefix);
    const admin = client();
    const feed = feedOf(reader);
    const subscribed = feed.nextCatchUp();
    const sub = listen(reader);
    await subscribed;

    // The writer records runs (start, 3 steps, finish; every 5th deleted) until told to stop.
    const ids: string[] = [];
    let stop = false;
    let progress = 0;
    const progressWaiters: { at: number; resolve: () => void }[] = [];
    const untilProgress = (more: number) => new Promise<void>((resolve) => progressWaiters.push({ at: progress + more, resolve }));
    const writing = (async () => {
      for (let i = 0; !stop; i++) {
        const id = `replay-${i}`;
        ids.push(id);
        const steps = ["a", "b", "c"].map((n) => makeStep(n));
        await writer.saveStatus(makeRun(id, { status: "RUNNING", steps, completedAt: null, durationMs: null }), { origin: "writer" });
        for (const step of steps) {
          await writer.saveStep(id, { ...step, status: "RUNNING", startedAt: new Date() }, { origin: "writer" });
          await writer.saveStep(
            id,
            { ...step, status: "COMPLETED", startedAt: new Date(), completedAt: new Date(), durationMs: 1 },
            { origin: "writer" },
          );
        }
        await writer.finishStatus(makeRun(id, { status: "COMPLETED", steps: steps.map((s) => ({ ...s, status: "COMPLETED" as const })) }), {
          origin: "writer",
        });
        if (i % 5 === 4) await writer.deletePipeline(id, { origin: "writer" });
        progress++;
        for (const w of progressWaiters.filter((w) => w.at <= progress)) {
          progressWaiters.splice(progressWaiters.indexOf(w), 1);
          w.resolve();
        }
      }
    })();

    for (let kill = 0; kill < 5; kill++) {
      await untilProgress(10);
      const caughtUp = feed.nextCatchUp();
      expect(Number(await admin.call("CLIENT", "KILL", "TYPE", "pubsub"))).toBeGreaterThan(0);
      await caughtUp;
    }
    await untilProgress(10);
    stop = true;
    await writing;
    expect(await writer.flush()).toBe(true);

    const finals = new Map<string, number>();
    for (const id of ids) {
      const v = await admin.hget(writer.keys.run(id), "v");
      if (v !== null) finals.set(id, Number(v));
    }
    expect(ids.length - finals.size).toBe(Math.floor(ids.length / 5));
    await eventually(() => {
      for (const id of ids) {
        if (finals.has(id)) expect(sub.versions.get(id), id).toBe(finals.get(id));
        else expect(sub.deleted.has(id), id).toBe(true);
      }
    }, 10_000);
    // Some of that came from the replay (its changes carry no origin), and nothing called for a reset.
    expect(sub.heard.some((c) => c.origin === null)).toBe(true);
    expect(sub.resets).toBe(0);
  });

  it("calls onReset when Redis restarted empty, and hears the new dataset's changes", async () => {
    const keyPrefix = prefix();
    const writer = storage(keyPrefix);
    const reader = storage(keyPrefix);
    const subscribed = feedOf(reader).nextCatchUp();
    const sub = listen(reader);
    await subscribed;
    await writer.saveStatus(makeRun("before-restart"), { origin: "writer" });
    await eventually(() => expect(sub.versions.get("before-restart")).toBe(1));
    const epochBefore = sub.heard[0]?.epoch;

    const reset = sub.nextReset();
    await server.kill();
    await server.start();
    await reset;

    await writer.saveStatus(makeRun("after-restart"), { origin: "writer" });
    await eventually(() => expect(sub.versions.get("after-restart")).toBe(1), 10_000);
    const after = sub.heard.find((c) => c.pipelineId === "after-restart");
    expect(after?.epoch).toBeDefined();
    expect(after?.epoch).not.toBe(epochBefore);
  });

  it("calls onReset when the gap reaches past the log's trimmed tail, and still delivers what the log holds", async () => {
    const keyPrefix = prefix();
    const writer = storage(keyPrefix);
    const reader = storage(keyPrefix);
    const admin = client();
    const feed = feedOf(reader);
    const subscribed = feed.nextCatchUp();
    const sub = listen(reader);
    await subscribed;
    await writer.saveStatus(makeRun("kept"), { origin: "writer" });
    await eventually(() => expect(sub.versions.get("kept")).toBe(1));

    // While the feed is down: a change it misses, and a trim that (as far as the feed can tell) took its gap.
    const caughtUp = feed.nextCatchUp();
    const reset = sub.nextReset();
    const killed = await admin.pipeline().call("CLIENT", "KILL", "TYPE", "pubsub").set(writer.keys.changeFloor, "1000000").exec();
    expect(Number(killed?.[0]?.[1])).toBeGreaterThan(0);
    await writer.saveStatus(makeRun("kept", { status: "FAILED" }), { origin: "writer" });
    await reset;
    await caughtUp;
    await eventually(() => expect(sub.versions.get("kept")).toBe(2));
  });
});
