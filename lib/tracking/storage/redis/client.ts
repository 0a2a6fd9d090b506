/**
 * The ioredis clients the Redis storage works with: a `Redis` (one server) or a `Cluster`. Both
 * have the commands, pipelines, scripts, events and `duplicate()` the storage uses; on a Cluster every
 * key must share one slot, which a hash-tagged prefix gives (keys.ts, options.ts).
 */
import type { Cluster, Redis } from "ioredis";

export type RedisClient = Redis | Cluster;

export function isCluster(redis: RedisClient): redis is Cluster {
  return (redis as { isCluster?: boolean }).isCluster === true;
}
