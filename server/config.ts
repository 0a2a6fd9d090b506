/** The server's environment (docs/environment.md), read and checked once at startup. */
import { resolve } from "node:path";
import { z } from "zod";
import { RedisEnvError, readRedisEnv, type RedisEnvSettings } from "pipewatch";
import { DEFAULT_LIMITS, type ServerLimits } from "./limits";

/** The shortest DASHBOARD_TOKEN accepted (after trimming) when the bind is not loopback. */
export const MIN_TOKEN_LENGTH = 16;

/** Where the SQLite storage lives when PIPEWATCH_DB is unset, relative to the working directory. */
export const DEFAULT_PIPEWATCH_DB = "./data/pipewatch.db";
/** The PIPEWATCH_DB value that selects the in-memory storage instead of a file. */
export const MEMORY_DB = ":memory:";

/** Which storage the server builds: Redis when a Redis variable is set, else SQLite (or memory, on request). */
export type StorageChoice = { kind: "redis" } | { kind: "sqlite"; path: string } | { kind: "memory" };

export interface ServerConfig {
  port: number;
  host: string;
  /** REDIS_CLUSTER_NODES or REDIS_URL, with the key prefix (REDIS_PREFIX or its default); null: no Redis (see `storage`). */
  redis: RedisEnvSettings | null;
  /** `sqlite` carries an absolute path (PIPEWATCH_DB resolved against the working directory). */
  storage: StorageChoice;
  dashboardToken: string | null;
  authDisabled: boolean;
  demo: boolean;
  retentionDays: number;
  dev: boolean;
  allowedOrigins: string[];
  limits: ServerLimits;
}

export class ConfigError extends Error {}

const flag = z.enum(["0", "1", "true", "false", "yes", "no", "on", "off"]).transform((v) => ["1", "true", "yes", "on"].includes(v));

const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
  HOST: z.string().min(1).default("127.0.0.1"),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, "must start with redis:// or rediss://")
    .optional(),
  REDIS_CLUSTER_NODES: z.string().optional(),
  REDIS_PREFIX: z.string().min(1).max(100).optional(),
  PIPEWATCH_DB: z
    .string()
    .trim()
    .min(1)
    .max(4_096)
    .refine((v) => !v.includes("\0"), "must not contain a NUL byte")
    .refine((v) => v === MEMORY_DB || !/[/\\]$/.test(v), "names a folder: give a file such as ./data/pipewatch.db")
    .refine((v) => v === MEMORY_DB || !v.startsWith("file:"), "must be a plain file path (not a file: URI) or :memory:")
    .optional(),
  DASHBOARD_TOKEN: z.string().min(1).optional(),
  DASHBOARD_AUTH: z.enum(["none", "token"]).optional(),
  DEMO: flag.optional(),
  RETENTION_DAYS: z.coerce.number().min(0).max(36_500).default(30),
  MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .min(1_024)
    .max(2 ** 31)
    .default(DEFAULT_LIMITS.maxBodyBytes),
  MAX_SOCKETS: z.coerce.number().int().min(1).max(1_000_000).default(DEFAULT_LIMITS.maxSockets),
  MAX_SOCKETS_PER_IP: z.coerce.number().int().min(1).max(1_000_000).default(DEFAULT_LIMITS.maxSocketsPerIp),
  SESSION_MAX_AGE_S: z.coerce.number().int().min(60).max(31_536_000).default(DEFAULT_LIMITS.sessionMaxAgeS),
  NODE_ENV: z.string().optional(),
  ALLOWED_ORIGINS: z.string().optional(),
});

export function readConfig(env: Record<string, string | undefined> = process.env): ServerConfig {
  const blanksRemoved = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = envSchema.safeParse(blanksRemoved);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(`Invalid environment: ${String(issue?.path[0] ?? "")} ${issue?.message ?? ""}`.trim());
  }
  const e = parsed.data;
  let redis: RedisEnvSettings | null;
  try {
    redis = readRedisEnv({ REDIS_URL: e.REDIS_URL, REDIS_CLUSTER_NODES: e.REDIS_CLUSTER_NODES, REDIS_PREFIX: e.REDIS_PREFIX });
  } catch (err) {
    if (err instanceof RedisEnvError) throw new ConfigError(`Invalid environment: ${err.message}`);
    throw err;
  }
  const config: ServerConfig = {
    port: e.PORT,
    host: e.HOST,
    redis,
    storage: chooseStorage(redis, e.PIPEWATCH_DB),
    // Surrounding whitespace (a token read from a file ends with a newline) is not part of the token.
    dashboardToken: e.DASHBOARD_TOKEN?.trim() ?? null,
    authDisabled: e.DASHBOARD_AUTH === "none",
    demo: e.DEMO ?? !redis,
    retentionDays: e.RETENTION_DAYS,
    dev: e.NODE_ENV !== "production",
    allowedOrigins: (e.ALLOWED_ORIGINS ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
    limits: {
      maxBodyBytes: e.MAX_BODY_BYTES,
      maxSockets: e.MAX_SOCKETS,
      maxSocketsPerIp: e.MAX_SOCKETS_PER_IP,
      sessionMaxAgeS: e.SESSION_MAX_AGE_S,
    },
  };
  if (config.dashboardToken === "") {
    throw new ConfigError("DASHBOARD_TOKEN is only whitespace: it would be guessed at once. Set a random token of at least 16 characters.");
  }
  if (config.dashboardToken && config.dashboardToken.length < MIN_TOKEN_LENGTH && !isLoopback(config.host)) {
    throw new ConfigError(
      `Refusing to listen on ${config.host} with a DASHBOARD_TOKEN of ${config.dashboardToken.length} characters: ` +
        `a token reachable from the network must have at least ${MIN_TOKEN_LENGTH} (e.g. \`openssl rand -hex 16\`).`,
    );
  }
  if (!config.dashboardToken && !config.authDisabled && !isLoopback(config.host)) {
    throw new ConfigError(
      `Refusing to listen on ${config.host} without DASHBOARD_TOKEN: anyone on the network could read and cancel pipelines. ` +
        "Set DASHBOARD_TOKEN, bind HOST=127.0.0.1, or set DASHBOARD_AUTH=none to accept the risk.",
    );
  }
  return config;
}

function chooseStorage(redis: RedisEnvSettings | null, db: string | undefined): StorageChoice {
  if (redis) return { kind: "redis" };
  const path = db ?? DEFAULT_PIPEWATCH_DB;
  return path === MEMORY_DB ? { kind: "memory" } : { kind: "sqlite", path: resolve(path) };
}

export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host === "[::1]" || /^127(\.\d{1,3}){3}$/.test(host);
}
