/**
 * The server's Redis connection. ioredis's defaults suit a worker (hold a command through an
 * outage, up to 20 reconnects with back-off to 5 s), not a dashboard: a request made while Redis
 * is down waited 6–15 s and then failed anyway. Here a command issued while disconnected fails at
 * the second failed reconnect (≤ ~1 s), so the API answers 503 and a page shows its error state at
 * once. Recording is not affected: the storage's write queue buffers writes itself while the
 * connection is not ready. The offline queue stays on, so commands issued while the first
 * connection is still opening (startup) simply wait for it. The storage's change feed opens its
 * own subscriber connection that waits out any outage and resubscribes (redis-change-feed.ts).
 */
import { Redis, type Cluster, type RedisOptions } from "ioredis";
import type { Logger } from "pino";
import { connectRedis, type RedisEnvSettings } from "pipewatch";

/** Reconnect attempts back off from 100 ms to this; a restarted Redis is found within it. */
const MAX_RECONNECT_DELAY_MS = 500;
/** Connection errors are logged at most this often while Redis stays down. */
const ERROR_LOG_INTERVAL_MS = 30_000;

export const SERVER_REDIS_OPTIONS = {
  connectionName: "pipewatch-server",
  // Commands queued while disconnected are rejected every (1 + 1) failed reconnects.
  maxRetriesPerRequest: 1,
  retryStrategy: (times: number) => Math.min(100 * times, MAX_RECONNECT_DELAY_MS),
  // A host that drops packets (no RST) costs this per attempt instead of ioredis's 10 s.
  connectTimeout: 2_000,
} satisfies RedisOptions;

export function createServerRedis(url: string, logger: Logger): Redis {
  const redis = new Redis(url, SERVER_REDIS_OPTIONS);
  logConnectionErrors(redis, logger);
  return redis;
}

/**
 * The server's connection to the Redis the environment names. On a Cluster the same choices apply
 * where they can: each node's connection connects within 2 s and retries a command once, and the
 * cluster client reconnects with the same short back-off (ioredis never reconnects one node's
 * connection of a Cluster: it fetches the slot map again). Reads still fail fast while the cluster
 * client is not ready, by the storage's own check of its status.
 */
export function createServerRedisFromEnv(settings: RedisEnvSettings, logger: Logger): Redis | Cluster {
  if (!settings.cluster) return createServerRedis(settings.url, logger);
  const { retryStrategy, ...nodeOptions } = SERVER_REDIS_OPTIONS;
  const { redis } = connectRedis(settings, { redisOptions: nodeOptions, clusterOptions: { clusterRetryStrategy: retryStrategy } });
  logConnectionErrors(redis, logger);
  return redis;
}

function logConnectionErrors(redis: Redis | Cluster, logger: Logger): void {
  let lastLogged = 0;
  let suppressed = 0;
  redis.on("error", (err: Error) => {
    const now = Date.now();
    if (now - lastLogged < ERROR_LOG_INTERVAL_MS) return void suppressed++;
    logger.warn({ err: err.message, suppressed }, "redis connection error");
    lastLogged = now;
    suppressed = 0;
  });
  redis.on("ready", () => {
    if (lastLogged) logger.info("redis connection ready");
    lastLogged = 0;
  });
}
