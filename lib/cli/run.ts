/**
 * Runs one CLI command against the Redis storage named by REDIS_URL or REDIS_CLUSTER_NODES and
 * REDIS_PREFIX (lib/connection/redis-env.ts) and returns the exit code: 0 done, 1 unknown pipeline id
 * or an error (one line on stderr). Usage errors are the callers' (their exit codes differ: 2 for the
 * `pipewatch` bin, 1 for `npm run status`).
 */
import { pino } from "pino";
import { RedisEnvError, redisFromEnv, type RedisFromEnv } from "../connection/redis-env";
import { renderStatus } from "../tracking/console";
import type { PipelineSummary } from "../tracking/models";
import { RedisPipelineStorage } from "../tracking/storage/redis/storage";
import type { CliCommand } from "./args";

const DEFAULT_REDIS_URL = "redis://127.0.0.1:6379";

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
  let target: RedisFromEnv;
  try {
    // Fail fast instead of retrying: a CLI must not hang on an unreachable server.
    target = redisFromEnv(io.env, {
      defaultUrl: DEFAULT_REDIS_URL,
      redisOptions: {
        lazyConnect: true,
        connectTimeout: 3000,
        maxRetriesPerRequest: 0,
        enableOfflineQueue: false,
        retryStrategy: () => null,
      },
      clusterOptions: { lazyConnect: true, enableOfflineQueue: false, clusterRetryStrategy: () => null },
    })!;
  } catch (err) {
    if (!(err instanceof RedisEnvError)) throw err;
    io.stderr(`error: ${err.message}\n`);
    return 1;
  }
  const { redis } = target;
  let lastError: Error | null = null;
  redis.on("error", (err: Error) => (lastError = err));
  try {
    await redis.connect();
  } catch (err) {
    const reason = (lastError ?? (err as Error)).message;
    io.stderr(`error: cannot reach Redis at ${target.describe}: ${reason}\n`);
    redis.disconnect();
    return 1;
  }
  const storage = new RedisPipelineStorage(redis, { keyPrefix: target.prefix, logger: pino({ level: "silent" }) });
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
    await storage.close();
    redis.disconnect();
  }
}
