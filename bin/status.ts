/**
 * `npm run status -- <id>`                       print one run (the console renderer)
 * `npm run status -- --list [--status S] [--limit N]`   a table of runs, newest first
 * `npm run status -- --cleanup <days>`           delete finished runs older than <days>
 * REDIS_URL chooses the server (default redis://127.0.0.1:6379), REDIS_PREFIX the key prefix.
 * Errors (bad arguments, unknown id, unreachable Redis) print one line to stderr and exit 1.
 */
import { Redis } from "ioredis";
import { pino } from "pino";
import { RedisPipelineStorage, STATUSES, isValidPipelineId, renderStatus, type PipelineSummary, type Status } from "../lib";

const USAGE = `usage: npm run status -- <pipeline-id>
       npm run status -- --list [--status ${STATUSES.join("|")}] [--limit N]
       npm run status -- --cleanup <days>`;

type Command = { kind: "show"; id: string } | { kind: "list"; status?: Status; limit: number } | { kind: "cleanup"; days: number };

class UsageError extends Error {}

export function parseArgs(argv: string[]): Command {
  if (argv.length === 0 || argv.includes("--help") || argv.includes("-h")) throw new UsageError("no command given");
  const [first, ...rest] = argv;
  if (first === "--list") {
    const command: Command = { kind: "list", limit: 20 };
    for (let i = 0; i < rest.length; i += 2) {
      const [flag, value] = [rest[i], rest[i + 1]];
      if (value === undefined) throw new UsageError(`${flag} needs a value`);
      if (flag === "--status") {
        const status = value.toUpperCase();
        if (!(STATUSES as readonly string[]).includes(status)) throw new UsageError(`--status must be one of ${STATUSES.join(", ")}`);
        command.status = status as Status;
      } else if (flag === "--limit") {
        const limit = Number(value);
        if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new UsageError("--limit must be an integer from 1 to 500");
        command.limit = limit;
      } else {
        throw new UsageError(`unknown option ${flag}`);
      }
    }
    return command;
  }
  if (first === "--cleanup") {
    const days = Number(rest[0]);
    if (rest.length !== 1 || !Number.isFinite(days) || days < 0) throw new UsageError("--cleanup needs a number of days (>= 0)");
    return { kind: "cleanup", days };
  }
  if (first!.startsWith("-")) throw new UsageError(`unknown option ${first}`);
  if (rest.length > 0) throw new UsageError("give one pipeline id");
  if (!isValidPipelineId(first)) throw new UsageError("a pipeline id is 1-200 characters of [A-Za-z0-9._:-]");
  return { kind: "show", id: first };
}

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

async function main(): Promise<number> {
  let command: Command;
  try {
    command = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`error: ${(err as Error).message}\n${USAGE}\n`);
    return 1;
  }
  const url = process.env.REDIS_URL || "redis://127.0.0.1:6379";
  // Fail fast instead of retrying: a CLI must not hang on an unreachable server.
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 3000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  let lastError: Error | null = null;
  redis.on("error", (err: Error) => (lastError = err));
  try {
    await redis.connect();
  } catch (err) {
    const reason = (lastError ?? (err as Error)).message;
    process.stderr.write(`error: cannot reach Redis at ${url.replace(/\/\/[^@]*@/, "//***@")}: ${reason}\n`);
    redis.disconnect();
    return 1;
  }
  const storage = new RedisPipelineStorage(redis, {
    keyPrefix: process.env.REDIS_PREFIX || undefined,
    logger: pino({ level: "silent" }),
  });
  try {
    if (command.kind === "show") {
      const status = await storage.getStatus(command.id);
      if (!status) {
        process.stderr.write(`error: no pipeline with id "${command.id}"\n`);
        return 1;
      }
      process.stdout.write(`${renderStatus(status)}\n`);
    } else if (command.kind === "list") {
      const page = await storage.listPage({ status: command.status, limit: command.limit });
      process.stdout.write(page.items.length ? `${table(page.items)}\n` : "no pipelines\n");
    } else {
      const deleted = await storage.cleanupOlderThan(new Date(Date.now() - command.days * 86_400_000));
      process.stdout.write(`deleted ${deleted} finished pipeline${deleted === 1 ? "" : "s"} older than ${command.days} days\n`);
    }
    return 0;
  } catch (err) {
    process.stderr.write(`error: ${(err as Error).message}\n`);
    return 1;
  } finally {
    await storage.close();
    redis.disconnect();
  }
}

process.exitCode = await main();
