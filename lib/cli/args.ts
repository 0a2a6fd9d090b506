/**
 * Argument parsing for the `pipewatch` bin and for the repository's older `npm run status` flags.
 * Both produce the same commands, so one runner serves both.
 */
import { STATUSES, isValidPipelineId, type Status } from "../tracking/models";

/** The commands that read or clean the storage. */
export type StorageCommand =
  { kind: "show"; id: string } | { kind: "list"; status?: Status; limit: number } | { kind: "cleanup"; days: number };

export type CliCommand = { kind: "help" } | StorageCommand | WorkerCommand;

/** `pipewatch worker <module>`: options left out come from WORKER_CONCURRENCY / WORKER_GRACE_MS, then defaults. */
export interface WorkerCommand {
  kind: "worker";
  module: string;
  concurrency?: number;
  graceMs?: number;
}

/** Bad arguments: the caller prints the message and the usage. */
export class UsageError extends Error {}

const DEFAULT_LIST_LIMIT = 20;

export const PIPEWATCH_USAGE = `usage: pipewatch status <pipeline-id>
       pipewatch status --list [--status ${STATUSES.join("|")}] [--limit N]
       pipewatch cleanup <days>
       pipewatch worker <module> [--concurrency N] [--grace-ms MS]
       pipewatch --help

status and cleanup read the dashboard's storage: REDIS_URL a Redis server, REDIS_CLUSTER_NODES=host:port,… a Redis
Cluster instead, REDIS_PREFIX the key prefix (default pipewatch:, on a Cluster {pipewatch}:). With neither Redis
variable set they read the SQLite file PIPEWATCH_DB (default ./data/pipewatch.db), which must exist.
A worker runs the steps of every Pipeline its module exports (WORKER_CONCURRENCY, WORKER_GRACE_MS).
Exit codes: 0 ok, 1 unknown pipeline id or an error, 2 bad arguments.`;

export const STATUS_SCRIPT_USAGE = `usage: npm run status -- <pipeline-id>
       npm run status -- --list [--status ${STATUSES.join("|")}] [--limit N]
       npm run status -- --cleanup <days>`;

function parseList(options: string[]): StorageCommand {
  const command: StorageCommand = { kind: "list", limit: DEFAULT_LIST_LIMIT };
  for (let i = 0; i < options.length; i += 2) {
    const [flag, value] = [options[i], options[i + 1]];
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

function parseCleanup(args: string[], name: string): StorageCommand {
  const days = Number(args[0]);
  if (args.length !== 1 || args[0] === "" || !Number.isFinite(days) || days < 0)
    throw new UsageError(`${name} needs a number of days (>= 0)`);
  return { kind: "cleanup", days };
}

function parseShow(args: string[]): StorageCommand {
  const [id, ...rest] = args;
  if (id === undefined) throw new UsageError("give a pipeline id or --list");
  if (id.startsWith("-")) throw new UsageError(`unknown option ${id}`);
  if (rest.length > 0) throw new UsageError("give one pipeline id");
  if (!isValidPipelineId(id)) throw new UsageError("a pipeline id is 1-200 characters of [A-Za-z0-9._:-]");
  return { kind: "show", id };
}

function parseWorker(args: string[]): CliCommand {
  const [module, ...options] = args;
  if (module === undefined || module.startsWith("-")) throw new UsageError("worker needs a module: pipewatch worker ./pipelines.js");
  const command: WorkerCommand = { kind: "worker", module };
  for (let i = 0; i < options.length; i += 2) {
    const [flag, value] = [options[i], options[i + 1]];
    if (value === undefined) throw new UsageError(`${flag} needs a value`);
    const n = Number(value);
    if (flag === "--concurrency") {
      if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new UsageError("--concurrency must be an integer from 1 to 10000");
      command.concurrency = n;
    } else if (flag === "--grace-ms") {
      if (!Number.isFinite(n) || n < 0) throw new UsageError("--grace-ms must be a number of milliseconds (>= 0)");
      command.graceMs = n;
    } else {
      throw new UsageError(`unknown option ${flag}`);
    }
  }
  return command;
}

/** `pipewatch status <id> | status --list … | cleanup <days> | worker <module> … | --help`. */
export function parsePipewatchArgs(argv: string[]): CliCommand {
  if (argv.includes("--help") || argv.includes("-h") || argv[0] === "help") return { kind: "help" };
  const [command, ...rest] = argv;
  if (command === undefined) throw new UsageError("no command given");
  if (command === "status") return rest[0] === "--list" ? parseList(rest.slice(1)) : parseShow(rest);
  if (command === "cleanup") return parseCleanup(rest, "cleanup");
  if (command === "worker") return parseWorker(rest);
  throw new UsageError(`unknown command ${command}`);
}

/** `npm run status -- <id> | --list … | --cleanup <days>` (help is a usage error there, exit 1). */
export function parseStatusScriptArgs(argv: string[]): StorageCommand {
  if (argv.length === 0 || argv.includes("--help") || argv.includes("-h")) throw new UsageError("no command given");
  const [first, ...rest] = argv;
  if (first === "--list") return parseList(rest);
  if (first === "--cleanup") return parseCleanup(rest, "--cleanup");
  return parseShow(argv);
}
