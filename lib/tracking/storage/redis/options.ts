/** The Redis storage's options, checked once when it is built: a bad one throws, never half-works. */
import { isCluster, type RedisClient } from "./client";
import type { Logger } from "../../../logger";
import { DEFAULT_KEY_PREFIX } from "./keys";

export interface RedisStorageOptions {
  /** Default "pipewatch:". Printable ASCII without quotes or backslashes. */
  keyPrefix?: string;
  /** Finished runs (and their index entries) expire this long after they finish. Default: never. */
  ttlSeconds?: number;
  /** How long the per-day metrics rollups are kept. Default 90. */
  metricsRetentionDays?: number;
  /** Writes held while Redis is unreachable; past this the oldest are dropped (logged). Default 100 000. */
  maxBufferedWrites?: number;
  logger?: Logger;
}

export function checkStorageOptions(
  redis: RedisClient,
  options: RedisStorageOptions,
): { prefix: string; ttlSeconds: number | null; metricsRetentionDays: number } {
  const prefix = options.keyPrefix ?? DEFAULT_KEY_PREFIX;
  if (!/^[\x21-\x7e]{1,100}$/.test(prefix) || /["\\]/.test(prefix)) {
    throw new TypeError("keyPrefix must be 1-100 printable ASCII characters without quotes or backslashes");
  }
  if (isCluster(redis) && !hasHashTag(prefix)) {
    // Every script touches the shared indexes and rollups: on Cluster they must share one slot.
    throw new TypeError(
      `On Redis Cluster the keyPrefix needs a hash tag so that all of its keys share one slot, e.g. "{pipewatch}:"; got ${JSON.stringify(prefix)}`,
    );
  }
  const ttl = options.ttlSeconds;
  if (ttl !== undefined && !(Number.isFinite(ttl) && ttl > 0)) throw new RangeError("ttlSeconds must be a positive number");
  return { prefix, ttlSeconds: ttl ?? null, metricsRetentionDays: options.metricsRetentionDays ?? 90 };
}

/**
 * Whether every key under `prefix` hashes by a tag inside the prefix: Redis hashes the part between
 * the first "{" and the first "}" after it, when that part is not empty ("a{}b{c}" has no tag).
 */
export function hasHashTag(prefix: string): boolean {
  return /^[^{]*\{[^}]+\}/.test(prefix);
}
