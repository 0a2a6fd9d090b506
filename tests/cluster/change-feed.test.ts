/**
 * The change feed on a Redis Cluster started for this file: a second process's storage (its own
 * cluster client) hears every write, and after its subscriber connection is killed on every node
 * (three times, while a writer keeps recording) it replays what it missed from the change log; when
 * the node its subscriber connection is on dies, it moves to another node and replays the gap.
 */
import type { Cluster } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedisPipelineStorage } from "../../lib";
import { eventually, makeRun, makeStep } from "../../lib/tracking/storage/contract/helpers";
import type { RedisChangeFeed } from "../../lib/tracking/storage/redis/feed/change-feed";
import type { StorageChange } from "../../lib/tracking/storage/types";
import { silentLogger } from "../redis/helpers";
import { startOwnCluster, type OwnCluster } from "../own-cluster";

let cluster: OwnCluster;
const clients: Cluster[] = [];
const storages: RedisPipelineStorage[] = [];

beforeAll(async () => {
  cluster = await startOwnCluster();
});
afterAll(async () => {
  for (const s of storages) await s.close();
  for (const c of clients) c.disconnect();
  await cluster?.stop();
});

function client(): Cluster {
  const c = cluster.connect();
  c.on("error", () => undefined);
  clients.push(c);
  return c;
}

function storage(keyPrefix: string): RedisPipelineStorage {
  const s = new RedisPipelineStorage(client(), { keyPrefix, logger: silentLogger() });
  storages.push(s);
  return s;
}

const feedOf = (s: RedisPipelineStorage) => (s as unknown as { feed: RedisChangeFeed }).feed;

describe("the change feed on Redis Cluster", () => {
  it("replays what it missed while its connection was down: every run's final version and every delete arrive", async () => {
    const writer = storage("{pwfeed}:");
    const reader = storage("{pwfeed}:");
    const admin = client();
    const feed = feedOf(reader);
    const subscribed = feed.nextCatchUp();
    const versions = new Map<string, number>();
    const deleted = new Set<string>();
    const heard: StorageChange[] = [];
    let resets = 0;
    reader.subscribe(
      (change) => {
        heard.push(change);
        if (change.deleted) deleted.add(change.pipelineId);
        else versions.set(change.pipelineId, Math.max(versions.get(change.pipelineId) ?? 0, change.version));
      },
      { onReset: () => resets++ },
    );
    await subscribed;
    expect(reader.changeFeedState).toBe("live");

    const ids: string[] = [];
    let stop = false;
    let progress = 0;
    const writing = (async () => {
      for (let i = 0; !stop; i++) {
        const id = `feed-${i}`;
        ids.push(id);
        const steps = [makeStep("a"), makeStep("b")];
        await writer.saveStatus(makeRun(id, { status: "RUNNING", steps, completedAt: null, durationMs: null }), { origin: "writer" });
        await writer.saveStep(id, { ...steps[0]!, status: "RUNNING", startedAt: new Date() }, { origin: "writer" });
        await writer.finishStatus(makeRun(id, { status: "COMPLETED" }), { origin: "writer" });
        if (i % 4 === 3) await writer.deletePipeline(id, { origin: "writer" });
        progress++;
      }
    })();
    const untilProgress = async (more: number) => {
      const target = progress + more;
      await eventually(() => expect(progress).toBeGreaterThanOrEqual(target), 10_000);
    };

    for (let kill = 0; kill < 3; kill++) {
      await untilProgress(5);
      const caughtUp = feed.nextCatchUp();
      let killed = 0;
      for (const node of admin.nodes("master")) killed += Number(await node.call("CLIENT", "KILL", "TYPE", "pubsub"));
      expect(killed).toBeGreaterThan(0);
      await caughtUp;
    }
    await untilProgress(5);
    stop = true;
    await writing;
    expect(await writer.flush()).toBe(true);

    const finals = new Map<string, number>();
    for (const id of ids) {
      const v = await admin.hget(writer.keys.run(id), "v");
      if (v !== null) finals.set(id, Number(v));
    }
    expect(ids.length - finals.size).toBe(Math.floor(ids.length / 4));
    await eventually(() => {
      for (const id of ids) {
        if (finals.has(id)) expect(versions.get(id), id).toBe(finals.get(id));
        else expect(deleted.has(id), id).toBe(true);
      }
    }, 10_000);
    // Some of it came from a replay (replayed changes carry no origin); nothing called for a reset.
    expect(heard.some((c) => c.origin === null)).toBe(true);
    expect(resets).toBe(0);
  });

  it("moves to another node when the node it listens on dies, and replays what it missed", async () => {
    const own = client();
    await own.ping();
    const feedPort = Number(own.nodes("all")[0]!.options.port);
    // A prefix whose slot another master serves, so the writes go on while the feed's node is dead.
    const slots = await own.cluster("SLOTS");
    const masterOf = (slot: number) => slots.find(([from, to]) => slot >= from && slot <= to)?.[2]?.[1];
    let keyPrefix = "";
    for (let i = 0; !keyPrefix; i++) {
      const slot = Number(await own.cluster("KEYSLOT", `{pwmove${i}}:`));
      if (masterOf(slot) !== feedPort) keyPrefix = `{pwmove${i}}:`;
    }
    const reader = new RedisPipelineStorage(own, { keyPrefix, logger: silentLogger() });
    storages.push(reader);
    const writer = storage(keyPrefix);
    const feed = feedOf(reader);
    const subscribed = feed.nextCatchUp();
    const heard: StorageChange[] = [];
    reader.subscribe((change) => heard.push(change));
    await subscribed;
    const listening = () => (feed as unknown as { sub: { options: { port: number } } | null }).sub?.options.port;
    expect(listening()).toBe(feedPort);
    await writer.saveStatus(makeRun("before-kill"), { origin: "writer" });
    await eventually(() => expect(heard.some((c) => c.pipelineId === "before-kill" && c.origin === "writer")).toBe(true));

    const caughtUp = feed.nextCatchUp();
    await cluster.kill(feedPort);
    await writer.saveStatus(makeRun("while-moving"), { origin: "writer" });
    await caughtUp;
    expect(listening()).not.toBe(feedPort);
    expect(reader.changeFeedState).toBe("live");
    // Replayed from the change log (a replayed change carries no origin): no live message reached it.
    await eventually(() => expect(heard.filter((c) => c.pipelineId === "while-moving").map((c) => c.origin)).toEqual([null]));
    await writer.saveStatus(makeRun("after-move"), { origin: "writer" });
    await eventually(() => expect(heard.some((c) => c.pipelineId === "after-move" && c.origin === "writer")).toBe(true));
  });
});
