/** The server's environment (contract §6), read and checked once at startup. */
import { z } from "zod";

export interface ServerConfig {
  port: number;
  host: string;
  redisUrl: string | null;
  redisPrefix: string;
  dashboardToken: string | null;
  authDisabled: boolean;
  demo: boolean;
  retentionDays: number;
  dev: boolean;
  allowedOrigins: string[];
}

export class ConfigError extends Error {}

const flag = z.enum(["0", "1", "true", "false", "yes", "no", "on", "off"]).transform((v) => ["1", "true", "yes", "on"].includes(v));

const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
  HOST: z.string().min(1).default("127.0.0.1"),
  REDIS_URL: z.string().regex(/^rediss?:\/\//, "must start with redis:// or rediss://").optional(),
  REDIS_PREFIX: z.string().min(1).max(100).default("pipewatch:"),
  DASHBOARD_TOKEN: z.string().min(1).optional(),
  DASHBOARD_AUTH: z.enum(["none", "token"]).optional(),
  DEMO: flag.optional(),
  RETENTION_DAYS: z.coerce.number().min(0).max(36_500).default(30),
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
  const config: ServerConfig = {
    port: e.PORT,
    host: e.HOST,
    redisUrl: e.REDIS_URL ?? null,
    redisPrefix: e.REDIS_PREFIX,
    dashboardToken: e.DASHBOARD_TOKEN ?? null,
    authDisabled: e.DASHBOARD_AUTH === "none",
    demo: e.DEMO ?? !e.REDIS_URL,
    retentionDays: e.RETENTION_DAYS,
    dev: e.NODE_ENV !== "production",
    allowedOrigins: (e.ALLOWED_ORIGINS ?? "").split(",").map((s) => s.trim()).filter(Boolean),
  };
  if (!config.dashboardToken && !config.authDisabled && !isLoopback(config.host)) {
    throw new ConfigError(
      `Refusing to listen on ${config.host} without DASHBOARD_TOKEN: anyone on the network could read and cancel pipelines. `
      + "Set DASHBOARD_TOKEN, bind HOST=127.0.0.1, or set DASHBOARD_AUTH=none to accept the risk.",
    );
  }
  return config;
}

export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host === "[::1]" || /^127(\.\d{1,3}){3}$/.test(host);
}
