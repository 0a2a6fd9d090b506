/** lib/connection/redis-env.ts: what REDIS_URL / REDIS_CLUSTER_NODES / REDIS_PREFIX ask for, checked before connecting. */
import { Cluster, Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { PipelineTrackingManager, RedisEnvError, RedisPipelineStorage, readRedisEnv, redisFromEnv } from "../../lib";
import { runCliCommand } from "../../lib/cli/run";
import { freePort } from "../free-port";

describe("readRedisEnv", () => {
  it("answers null when no Redis is named, unless a default URL is given", () => {
    expect(readRedisEnv({})).toBeNull();
    expect(readRedisEnv({ REDIS_URL: "" })).toBeNull();
    expect(readRedisEnv({}, "redis://127.0.0.1:6379")).toMatchObject({
      cluster: false,
      url: "redis://127.0.0.1:6379",
      prefix: "pipewatch:",
    });
  });

  it("parses cluster nodes: names, IPv4, [IPv6], spaces and a trailing comma", () => {
    expect(readRedisEnv({ REDIS_CLUSTER_NODES: " a.example:7000 ,10.0.0.2:7001,[::1]:7002," })).toEqual({
      cluster: true,
      nodes: [
        { host: "a.example", port: 7000 },
        { host: "10.0.0.2", port: 7001 },
        { host: "::1", port: 7002 },
      ],
      prefix: "{pipewatch}:",
      describe: "Redis Cluster a.example:7000,10.0.0.2:7001,[::1]:7002",
    });
  });

  it("names the variable in every refusal", () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ REDIS_CLUSTER_NODES: "," }, /^REDIS_CLUSTER_NODES names no node/],
      [{ REDIS_CLUSTER_NODES: "a:7000,b" }, /^REDIS_CLUSTER_NODES: "b" is not host:port/],
      [{ REDIS_CLUSTER_NODES: "a:0" }, /^REDIS_CLUSTER_NODES: "a:0"/],
      [{ REDIS_CLUSTER_NODES: "redis://a:7000" }, /^REDIS_CLUSTER_NODES: "redis:\/\/a:7000"/],
      [{ REDIS_CLUSTER_NODES: "a:7000", REDIS_PREFIX: "pw:" }, /^REDIS_PREFIX "pw:" has no hash tag/],
      // Redis hashes the first {…} only, and an empty one means no tag at all
      [{ REDIS_CLUSTER_NODES: "a:7000", REDIS_PREFIX: "pw{}:{x}:" }, /^REDIS_PREFIX .* has no hash tag/],
      [{ REDIS_URL: "http://a" }, /^REDIS_URL must start with redis:\/\//],
      [{ REDIS_URL: "redis://a", REDIS_PREFIX: "has space" }, /^REDIS_PREFIX must be/],
    ];
    for (const [env, message] of cases) expect(() => readRedisEnv(env), JSON.stringify(env)).toThrow(message);
    expect(() => readRedisEnv({ REDIS_CLUSTER_NODES: "b" })).toThrow(RedisEnvError);
  });

  it("never shows a password", () => {
    expect(readRedisEnv({ REDIS_URL: "redis://:s3cret@db:6379/2" })?.describe).toBe("redis://:***@db:6379/2");
    expect(readRedisEnv({ REDIS_URL: "rediss://app:s3cret@db:6380" })?.describe).toBe("rediss://app:***@db:6380");
  });
});

describe("redisFromEnv", () => {
  it("builds a lazy Redis or Cluster with the options given, and the storage takes either", async () => {
    const single = redisFromEnv({ REDIS_URL: "redis://127.0.0.1:1/3" }, { redisOptions: { lazyConnect: true } })!;
    expect(single.redis).toBeInstanceOf(Redis);
    expect(single).toMatchObject({ cluster: false, prefix: "pipewatch:" });
    expect((single.redis as Redis).options.db).toBe(3);
    const cluster = redisFromEnv(
      { REDIS_CLUSTER_NODES: "127.0.0.1:1,127.0.0.1:2" },
      { redisOptions: { connectTimeout: 1234 }, clusterOptions: { lazyConnect: true } },
    )!;
    expect(cluster.redis).toBeInstanceOf(Cluster);
    expect((cluster.redis as Cluster).options.redisOptions?.connectTimeout).toBe(1234);
    const storage = new RedisPipelineStorage(cluster.redis, { keyPrefix: cluster.prefix });
    expect(storage.keys.allIndex).toBe("{pipewatch}:idx:all");
    await storage.close();
    expect(() => new RedisPipelineStorage(cluster.redis, { keyPrefix: "pipewatch:" })).toThrow(/needs a hash tag/);
    // A broker holding a Cluster without a prefix of its own: tracking takes the tagged default.
    const tracking = new PipelineTrackingManager().withAutoStorage({ workerId: "w", redis: cluster.redis, execute: async () => null });
    expect((tracking.storage as RedisPipelineStorage).keys.prefix).toBe("{pipewatch}:");
    await tracking.close();
    single.redis.disconnect();
    cluster.redis.disconnect();
  });
});

describe("the CLI's Redis", () => {
  async function list(env: Record<string, string>): Promise<{ code: number; err: string }> {
    let err = "";
    const code = await runCliCommand(
      { kind: "list", limit: 5 },
      { env: { ...process.env, REDIS_PREFIX: "", ...env }, stdout: () => undefined, stderr: (t) => (err += t) },
    );
    return { code, err };
  }

  it("refuses a malformed REDIS_CLUSTER_NODES, naming it, and fails fast on an unreachable cluster", async () => {
    expect(await list({ REDIS_CLUSTER_NODES: "localhost" })).toEqual({
      code: 1,
      err: 'error: REDIS_CLUSTER_NODES: "localhost" is not host:port (e.g. 10.0.0.5:6379 or [::1]:7000)\n',
    });
    const deadPort = await freePort(); // nothing listens there: just handed out by the OS and closed
    const started = performance.now();
    const down = await list({ REDIS_CLUSTER_NODES: `127.0.0.1:${deadPort}` });
    expect(down.code).toBe(1);
    expect(down.err).toMatch(new RegExp(`^error: cannot reach Redis at Redis Cluster 127\\.0\\.0\\.1:${deadPort}: `));
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});
