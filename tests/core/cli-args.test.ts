/** The `pipewatch` bin's and `npm run status`'s argument parsing: both spellings give the same commands. */
import { describe, expect, it } from "vitest";
import { UsageError, parsePipewatchArgs, parseStatusScriptArgs } from "../../lib/cli/args";

describe("pipewatch arguments", () => {
  it("parses status, list with filters, cleanup and help", () => {
    expect(parsePipewatchArgs(["status", "etl_1"])).toEqual({ kind: "show", id: "etl_1" });
    expect(parsePipewatchArgs(["status", "--list"])).toEqual({ kind: "list", limit: 20 });
    expect(parsePipewatchArgs(["status", "--list", "--status", "failed", "--limit", "5"])).toEqual({
      kind: "list",
      status: "FAILED",
      limit: 5,
    });
    expect(parsePipewatchArgs(["cleanup", "0.5"])).toEqual({ kind: "cleanup", days: 0.5 });
    expect(parsePipewatchArgs(["--help"])).toEqual({ kind: "help" });
    expect(parsePipewatchArgs(["status", "-h"])).toEqual({ kind: "help" });
    expect(parsePipewatchArgs(["worker", "./pipelines.js"])).toEqual({ kind: "worker", module: "./pipelines.js" });
    expect(parsePipewatchArgs(["worker", "p.js", "--concurrency", "8", "--grace-ms", "2500"])).toEqual({
      kind: "worker",
      module: "p.js",
      concurrency: 8,
      graceMs: 2500,
    });
  });

  it.each([
    [[], /no command given/],
    [["show", "x"], /unknown command show/],
    [["status"], /give a pipeline id or --list/],
    [["status", "a", "b"], /give one pipeline id/],
    [["status", "bad id!"], /a pipeline id is 1-200 characters/],
    [["status", "--list", "--status"], /--status needs a value/],
    [["status", "--list", "--limit", "501"], /--limit must be an integer from 1 to 500/],
    [["status", "--list", "--sort", "x"], /unknown option --sort/],
    [["cleanup"], /cleanup needs a number of days/],
    [["cleanup", "-1"], /cleanup needs a number of days/],
    [["cleanup", "30", "40"], /cleanup needs a number of days/],
    [["worker"], /worker needs a module/],
    [["worker", "--concurrency", "2"], /worker needs a module/],
    [["worker", "p.js", "--concurrency", "0"], /--concurrency must be an integer from 1 to 10000/],
    [["worker", "p.js", "--grace-ms", "soon"], /--grace-ms must be a number of milliseconds/],
    [["worker", "p.js", "--threads", "2"], /unknown option --threads/],
  ])("refuses %j", (argv, message) => {
    expect(() => parsePipewatchArgs(argv)).toThrow(UsageError);
    expect(() => parsePipewatchArgs(argv)).toThrow(message);
  });
});

describe("npm run status arguments", () => {
  it("keeps the older flags and gives the same commands", () => {
    expect(parseStatusScriptArgs(["etl_1"])).toEqual(parsePipewatchArgs(["status", "etl_1"]));
    expect(parseStatusScriptArgs(["--list", "--limit", "3"])).toEqual(parsePipewatchArgs(["status", "--list", "--limit", "3"]));
    expect(parseStatusScriptArgs(["--cleanup", "30"])).toEqual(parsePipewatchArgs(["cleanup", "30"]));
    expect(() => parseStatusScriptArgs([])).toThrow(UsageError);
    expect(() => parseStatusScriptArgs(["--help"])).toThrow(UsageError);
    expect(() => parseStatusScriptArgs(["--cleanup", "soon"])).toThrow(/--cleanup needs a number of days/);
  });
});
