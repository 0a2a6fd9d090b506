/**
 * `npm run status -- <id>`                       print one run (the console renderer)
 * `npm run status -- --list [--status S] [--limit N]`   a table of runs, newest first
 * `npm run status -- --cleanup <days>`           delete finished runs older than <days>
 * The repository's spelling of the package's `pipewatch` bin (lib/cli): same commands, same output.
 * Errors (bad arguments, unknown id, unreachable Redis) print one line to stderr and exit 1.
 */
import { STATUS_SCRIPT_USAGE, UsageError, parseStatusScriptArgs } from "../lib/cli/args";
import { runCliCommand } from "../lib/cli/run";

async function main(): Promise<number> {
  try {
    return await runCliCommand(parseStatusScriptArgs(process.argv.slice(2)));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`error: ${err.message}\n${STATUS_SCRIPT_USAGE}\n`);
    return 1;
  }
}

process.exitCode = await main();
