/**
 * The Redis connection a Pipewatch process takes from its environment (docs/environment.md):
 *   REDIS_CLUSTER_NODES  "host:port,host:port,…" → an ioredis Cluster (wins over REDIS_URL)
 *   REDIS_URL            redis:// or rediss:// URL → one ioredis Redis
 *   REDIS_PREFIX         the storage's key prefix: "pipewatch:" by default, "{pipewatch}:" on a Cluster
 * Read in two steps so a process can refuse a bad environment before it connects anywhere
 * (`readRedisEnv`), then connect (`connectRedis`); `redisFromEnv` does both.
 */
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from "ioredis";
import { DEFAULT_CLUSTER_KEY_PREFIX, DEFAULT_KEY_PREFIX } from "../tracking/storage/redis/keys";
import { hasHashTag } from "../tracking/storage/redis/options";

export { DEFAULT_CLUSTER_KEY_PREFIX };

/** A variable that cannot be used; the message names it. */
export class RedisEnvError extends Error {}

export interface ClusterNodeAddress {
  host: string;
  port: number;
}

/** What the environment asks for, checked, before any connection. */
export type RedisEnvSettings =
  | { cluster: false; url: string; prefix: string; describe: string }
  | { cluster: true; nodes: ClusterNodeAddress[]; prefix: string; describe: string };

export interface RedisFromEnv {
  redis: Redis | Cluster;
  /** The storage's key prefix (REDIS_PREFIX or the default for the kind of Redis). */
  prefix: string;
  cluster: boolean;
  /** Where it connects, for logs and error messages: never a password. */
  describe: string;
}

export interface RedisEnvOptions {
  /** ioredis options of the connection: the one server's, or each Cluster node's (`redisOptions`). */
  redisOptions?: RedisOptions;
  /** Options of the Cluster client itself (its retry strategy, offline queue…). */
  clusterOptions?: Omit<ClusterOptions, "redisOptions">;
  /** The URL to use when neither REDIS_URL nor REDIS_CLUSTER_NODES is set (else the answer is null). */
  defaultUrl?: string;
}

type Env = Record<string, string | undefined>;

/** The environment's Redis settings, or null when it names none; throws RedisEnvError naming a bad variable. */
export function readRedisEnv(env: Env, defaultUrl?: string): RedisEnvSettings | null {
  const nodesText = env.REDIS_CLUSTER_NODES?.trim();
  const url = env.REDIS_URL?.trim() || defaultUrl;
  const prefixText = env.REDIS_PREFIX?.trim() || undefined;
  if (prefixText !== undefined) checkPrefix(prefixText);
  if (nodesText) {
    const nodes = parseClusterNodes(nodesText);
    const prefix = prefixText ?? DEFAULT_CLUSTER_KEY_PREFIX;
    if (!hasHashTag(prefix)) {
      throw new RedisEnvError(
        `REDIS_PREFIX ${JSON.stringify(prefix)} has no hash tag: on a Redis Cluster every key of the storage must live in one slot, ` +
          `so the prefix must start with a tag such as "{pipewatch}:" (the default when REDIS_PREFIX is unset)`,
      );
    }
    const describe = `Redis Cluster ${nodes.map(formatNode).join(",")}`;
    return { cluster: true, nodes, prefix, describe };
  }
  if (!url) return null;
  if (!/^rediss?:\/\//.test(url)) throw new RedisEnvError("REDIS_URL must start with redis:// or rediss://");
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new RedisEnvError("REDIS_URL is not a valid URL");
  }
  if (!parsed.hostname) throw new RedisEnvError("REDIS_URL names no host");
  return { cluster: false, url, prefix: prefixText ?? DEFAULT_KEY_PREFIX, describe: redactUrl(url) };
}

/** A client for the settings (not connected yet with `lazyConnect`; ioredis connects at once otherwise). */
export function connectRedis(settings: RedisEnvSettings, options: RedisEnvOptions = {}): RedisFromEnv {
  const redis = settings.cluster
    ? new Cluster(settings.nodes, { ...options.clusterOptions, redisOptions: options.redisOptions })
    : new Redis(settings.url, options.redisOptions ?? {});
  return { redis, prefix: settings.prefix, cluster: settings.cluster, describe: settings.describe };
}

/**
 * The Redis the environment names, with its prefix; null when it names none (and no `defaultUrl`).
 * Throws RedisEnvError for a variable that cannot be used.
 */
export function redisFromEnv(env: Env = process.env, options: RedisEnvOptions = {}): RedisFromEnv | null {
  const settings = readRedisEnv(env, options.defaultUrl);
  return settings && connectRedis(settings, options);
}

/** "host:port,host:port": hosts by name, IPv4 or [IPv6]; at least one node. */
export function parseClusterNodes(text: string): ClusterNodeAddress[] {
  const entries = text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  if (entries.length === 0) throw new RedisEnvError("REDIS_CLUSTER_NODES names no node (expected host:port,host:port,…)");
  return entries.map((entry) => {
    const match = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(entry);
    const port = Number(match?.[3]);
    if (!match || !Number.isInteger(port) || port < 1 || port > 65_535) {
      throw new RedisEnvError(`REDIS_CLUSTER_NODES: ${JSON.stringify(entry)} is not host:port (e.g. 10.0.0.5:6379 or [::1]:7000)`);
    }
    return { host: match[1] ?? match[2]!, port };
  });
}

function checkPrefix(prefix: string): void {
  if (!/^[\x21-\x7e]{1,100}$/.test(prefix) || /["\\]/.test(prefix)) {
    throw new RedisEnvError("REDIS_PREFIX must be 1-100 printable ASCII characters without spaces, quotes or backslashes");
  }
}

function formatNode({ host, port }: ClusterNodeAddress): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The URL without its password (user names stay: they help find the right account). */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^@/]*)@/, (_m, auth: string) => `//${auth.includes(":") ? `${auth.split(":")[0]}:***` : "***"}@`);
}
