#!/usr/bin/env node
/**
 * The package's `pipewatch` bin: `pipewatch status <id>`, `pipewatch status --list [--status S] [--limit N]`,
 * `pipewatch cleanup <days>`, `pipewatch worker <module> [--concurrency N] [--grace-ms MS]`, `pipewatch --help`. Exit codes: 0 ok, 1 unknown id or an error, 2 bad arguments.
 */
import { PIPEWATCH_USAGE, UsageError, parsePipewatchArgs } from "./args";
import { processIO, runCliCommand } from "./run";
import { runWorker } from "./worker";

async function main(argv: string[]): Promise<number> {
  let command;
  try {
    command = parsePipewatchArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    processIO.stderr(`error: ${err.message}\n${PIPEWATCH_USAGE}\n`);
    return 2;
  }
  if (command.kind === "help") {
    processIO.stdout(`${PIPEWATCH_USAGE}\n`);
    return 0;
  }
  if (command.kind === "worker") {
    // A stopped worker exits even when the user's module holds connections of its own open.
    process.exit(await runWorker(command, processIO));
  }
  return runCliCommand(command);
}

process.exitCode = await main(process.argv.slice(2));
