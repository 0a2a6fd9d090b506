/**
 * Runs one CLI command against the storage the environment names and returns the exit code: 0 done,
 * 1 unknown pipeline id or an error (one line on stderr). REDIS_URL or REDIS_CLUSTER_NODES (with
 * REDIS_PREFIX, lib/connection/redis-env.ts) choose Redis; without them it reads the SQLite file at
 * PIPEWATCH_DB (default ./data/pipewatch.db, the dashboard's own default), which must exist already:
 * a status command never creates an empty database. Usage errors are the callers' (their exit codes
 * differ: 2 for the `pipewatch` bin, 1 for `npm run status`).
 */
import { statSync } from "node:fs";
import { resolve } from "node:path";
import { pino } from "pino";
import { RedisEnvError, redisFromEnv, type RedisFromEnv } from "../connection/redis-env";
import { renderStatus } from "../tracking/console";
import type { PipelineSummary } from "../tracking/models";
import { RedisPipelineStorage } from "../tracking/storage/redis/storage";
import { SqlitePipelineStorage } from "../tracking/storage/sqlite/storage";
import type { TrackingStorage } from "../tracking/storage/types";
import type { CliCommand } from "./args";

/** The SQLite file read when neither Redis variable nor PIPEWATCH_DB is set (relative to the working directory). */
export const DEFAULT_PIPEWATCH_DB = "./data/pipewatch.db";

/** A storage opened for one command, and how to let it go. */
interface OpenedStorage {
  storage: TrackingStorage;
  release: () => Promise<void>;
}

export interface CliIO {
  env: NodeJS.ProcessEnv;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

export const processIO: CliIO = {
  env: process.env,
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

function table(rows: PipelineSummary[]): string {
  const head = ["PIPELINE ID", "NAME", "STATUS", "STEPS", "STARTED", "DURATION"];
  const cells = rows.map((r) => [
    r.pipelineId,
    r.pipelineName ?? "-",
    r.status,
    `${r.stepsCompleted}/${r.stepsTotal}`,
    r.startedAt.replace("T", " ").slice(0, 19),
    r.durationMs === null ? "-" : `${(r.durationMs / 1000).toFixed(2)}s`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  return [head, ...cells]
    .map((row) =>
      row
        .map((c, i) => c.padEnd(widths[i]!))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

export async function runCliCommand(command: Exclude<CliCommand, { kind: "help" | "worker" }>, io: CliIO = processIO): Promise<number> {
  let opened: OpenedStorage | string;
  try {
    opened = hasRedisEnv(io.env) ? await openRedis(io.env) : openSqlite(io.env);
  } catch (err) {
    if (!(err instanceof RedisEnvError)) throw err;
    opened = err.message;
  }
  if (typeof opened === "string") {
    io.stderr(`error: ${opened}\n`);
    return 1;
  }
  const { storage, release } = opened;
  try {
    if (command.kind === "show") {
      const status = await storage.getStatus(command.id);
      if (!status) {
        io.stderr(`error: no pipeline with id "${command.id}"\n`);
        return 1;
      }
      io.stdout(`${renderStatus(status)}\n`);
    } else if (command.kind === "list") {
      const page = await storage.listPage({ status: command.status, limit: command.limit });
      io.stdout(page.items.length ? `${table(page.items)}\n` : "no pipelines\n");
    } else {
      const deleted = await storage.cleanupOlderThan(new Date(Date.now() - command.days * 86_400_000));
      io.stdout(`deleted ${deleted} finished pipeline${deleted === 1 ? "" : "s"} older than ${command.days} days\n`);
    }
    return 0;
  } catch (err) {
    io.stderr(`error: ${(err as Error).message}\n`);
    return 1;
  } finally {
    await release();
  }
}

function hasRedisEnv(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env.REDIS_URL?.trim() || env.REDIS_CLUSTER_NODES?.trim());
}

/** Connects to the Redis the environment names; a message (the error line) when it cannot. */
async function openRedis(env: NodeJS.ProcessEnv): Promise<OpenedStorage | string> {
  // Fail fast instead of retrying: a CLI must not hang on an unreachable server.
  const target: RedisFromEnv = redisFromEnv(env, {
    redisOptions: {
      lazyConnect: true,
      connectTimeout: 3000,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: () => null,
    },
    clusterOptions: { lazyConnect: true, enableOfflineQueue: false, clusterRetryStrategy: () => null },
  })!;
  const { redis } = target;
  let lastError: Error | null = null;
  redis.on("error", (err: Error) => (lastError = err));
  try {
    await redis.connect();
  } catch (err) {
    const reason = (lastError ?? (err as Error)).message;
    redis.disconnect();
    return `cannot reach Redis at ${target.describe}: ${reason}`;
  }
  const storage = new RedisPipelineStorage(redis, { keyPrefix: target.prefix, logger: pino({ level: "silent" }) });
  return {
    storage,
    release: async () => {
      await storage.close();
      redis.disconnect();
    },
  };
}

/** Opens the SQLite file at PIPEWATCH_DB, which must already exist; a message (the error line) when it cannot. */
function openSqlite(env: NodeJS.ProcessEnv): OpenedStorage | string {
  const named = env.PIPEWATCH_DB?.trim() || DEFAULT_PIPEWATCH_DB;
  if (named === ":memory:") {
    return "PIPEWATCH_DB=:memory: is the dashboard's in-memory storage: no other process can read it. Point PIPEWATCH_DB at a SQLite file, or set REDIS_URL";
  }
  const path = resolve(named);
  let isFile: boolean;
  try {
    isFile = statSync(path).isFile();
  } catch {
    const hint = env.PIPEWATCH_DB?.trim() ? "" : " (set PIPEWATCH_DB to the dashboard's file, or REDIS_URL for Redis)";
    return `no SQLite database at ${path}${hint}`;
  }
  if (!isFile) return `PIPEWATCH_DB ${path} is not a file`;
  let storage: SqlitePipelineStorage;
  try {
    storage = new SqlitePipelineStorage({ path, logger: pino({ level: "silent" }) });
  } catch (err) {
    // SqliteStorageError (unusable file), or the optional better-sqlite3 missing: both name the fix.
    if (err instanceof Error) return err.message;
    throw err;
  }
  return { storage, release: () => storage.close() };
}
