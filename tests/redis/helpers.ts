/** Shared by the Redis tests: a real Redis (TEST_REDIS_URL, see tests/test-redis-url.ts), a unique key prefix per file, cleanup. */
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { pino, type Logger } from "pino";
import { TEST_REDIS_URL } from "../test-redis-url";

export const REDIS_URL = TEST_REDIS_URL;

/** "pwtest:rp2:<random>:<area>:", the Redis tests' own namespace. */
export function uniquePrefix(area: string): string {
  return `pwtest:rp2:${randomBytes(4).toString("hex")}:${area}:`;
}

export function connect(url = REDIS_URL): Redis {
  return new Redis(url, { maxRetriesPerRequest: 3 });
}

/** SCAN + UNLINK of everything under `prefix` (never FLUSH). */
export async function deleteKeys(redis: Redis, prefix: string): Promise<number> {
  let cursor = "0";
  let n = 0;
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
    cursor = next;
    if (keys.length) n += await redis.unlink(...keys);
  } while (cursor !== "0");
  return n;
}

export async function countKeys(redis: Redis, prefix: string): Promise<number> {
  let cursor = "0";
  let n = 0;
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
    cursor = next;
    n += keys.length;
  } while (cursor !== "0");
  return n;
}

/** How many connections subscribe to `channel` (a storage's change feed: `storage.keys.channel`). */
export async function subscriberCount(redis: Redis, channel: string): Promise<number> {
  const [, count] = (await redis.pubsub("NUMSUB", channel)) as [string, number | string];
  return Number(count);
}

export const silentLogger = (): Logger => pino({ level: "silent" });
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
