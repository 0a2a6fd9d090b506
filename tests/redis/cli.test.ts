/** `npm run status` (bin/status.ts) and the package's `pipewatch` bin (lib/cli/pipewatch.ts), spawned from source against the real Redis. */
import { spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Redis } from "ioredis";
import { RedisPipelineStorage, type PipelineStatus, type Status } from "../../lib";
import { freePort } from "../free-port";
import { REDIS_URL, connect, deleteKeys, silentLogger, uniquePrefix } from "./helpers";

let redis: Redis;
const prefix = uniquePrefix("cli");

function cli(
  args: string[],
  env: Record<string, string> = {},
  entry = "bin/status.ts",
): Promise<{ code: number | null; out: string; err: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", entry, ...args], {
      env: { ...process.env, REDIS_URL, REDIS_PREFIX: prefix, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d));
    child.stderr.on("data", (d: Buffer) => (err += d));
    child.on("exit", (code) => resolve({ code, out, err, ms: Date.now() - started }));
  });
}

function run(id: string, status: Status, startedAt: Date): PipelineStatus {
  const done = status !== "RUNNING";
  return {
    pipelineId: id,
    pipelineName: "cli",
    status,
    pipelineType: "sequential",
    startedAt,
    completedAt: done ? new Date(startedAt.getTime() + 1500) : null,
    durationMs: done ? 1500 : null,
    steps: ["fetch", "store"].map((stepName) => ({
      stepName,
      status: done ? (status === "FAILED" && stepName === "store" ? "FAILED" : "COMPLETED") : "RUNNING",
      startedAt,
      completedAt: done ? startedAt : null,
      durationMs: done ? 700 : null,
      result: null,
      error: null,
      dependsOn: [],
      attempts: 1,
      workerId: null,
    })),
    result: null,
    error: status === "FAILED" ? "store: disk full" : null,
  };
}

beforeAll(async () => {
  redis = connect();
  const storage = new RedisPipelineStorage(redis, { keyPrefix: prefix, logger: silentLogger() });
  const now = Date.now();
  await storage.saveStatus(run("cli-ok", "COMPLETED", new Date(now - 3000)));
  await storage.saveStatus(run("cli-bad", "FAILED", new Date(now - 2000)));
  await storage.saveStatus(run("cli-live", "RUNNING", new Date(now - 1000)));
  await storage.saveStatus(run("cli-old", "COMPLETED", new Date(now - 40 * 86_400_000)));
  await storage.saveStatus(run("cli-old-live", "RUNNING", new Date(now - 41 * 86_400_000)));
  await storage.close();
});
afterAll(async () => {
  await deleteKeys(redis, prefix);
  redis.disconnect();
});

describe("npm run status", () => {
  it("prints a run, a table, a filtered table; fails clearly on bad input and an unreachable Redis", async () => {
    const deadPort = await freePort(); // nothing listens there: just handed out by the OS and closed
    const [show, list, failed, limited, unknown, badStatus, badLimit, none, down] = await Promise.all([
      cli(["cli-bad"]),
      cli(["--list"]),
      cli(["--list", "--status", "failed"]),
      cli(["--list", "--limit", "2"]),
      cli(["cli-nope"]),
      cli(["--list", "--status", "DONE"]),
      cli(["--list", "--limit", "0"]),
      cli([]),
      cli(["cli-ok"], { REDIS_URL: `redis://127.0.0.1:${deadPort}` }),
    ]);
    expect(show.code).toBe(0);
    expect(show.out).toContain("Pipeline: cli-bad (cli)");
    expect(show.out).toContain("Status:   FAILED");
    expect(show.out).toContain("Error:    store: disk full");
    expect(show.out).toMatch(/fetch\s+█+\s+700ms\s+COMPLETED/);

    expect(list.code).toBe(0);
    const rows = list.out.trim().split("\n");
    expect(rows[0]).toMatch(/^PIPELINE ID\s+NAME\s+STATUS\s+STEPS\s+STARTED\s+DURATION$/);
    expect(rows.slice(1).map((r) => r.split(/\s+/)[0])).toEqual(["cli-live", "cli-bad", "cli-ok", "cli-old", "cli-old-live"]);
    expect(rows[2]).toMatch(/cli-bad\s+cli\s+FAILED\s+1\/2\s+\S+ \S+\s+1\.50s/);
    expect(
      failed.out
        .trim()
        .split("\n")
        .slice(1)
        .map((r) => r.split(/\s+/)[0]),
    ).toEqual(["cli-bad"]);
    expect(limited.out.trim().split("\n")).toHaveLength(3);

    for (const [r, message] of [
      [unknown, /no pipeline with id "cli-nope"/],
      [badStatus, /--status must be one of/],
      [badLimit, /--limit must be an integer/],
      [none, /usage:/],
      [down, new RegExp(`cannot reach Redis at redis://127\\.0\\.0\\.1:${deadPort}`)],
    ] as const) {
      expect(r.code).toBe(1);
      expect(r.err).toMatch(message);
    }
    // Connect timeout, no retries: it gives up instead of hanging (the bound includes tsx's start-up).
    expect(down.ms).toBeLessThan(20_000);
  }, 60_000);

  it("runs the retention: deletes finished runs older than the days given, never running ones", async () => {
    const cleanup = await cli(["--cleanup", "30"]);
    expect(cleanup.code).toBe(0);
    expect(cleanup.out).toContain("deleted 1 finished pipeline older than 30 days");
    const storage = new RedisPipelineStorage(redis, { keyPrefix: prefix, logger: silentLogger() });
    expect(await storage.getStatus("cli-old")).toBeNull();
    expect(await storage.getStatus("cli-old-live")).not.toBeNull();
    expect((await cli(["--cleanup", "soon"])).code).toBe(1);
  }, 30_000);
});

describe("pipewatch (the package's bin)", () => {
  const pipewatch = (args: string[], env: Record<string, string> = {}) => cli(args, env, "lib/cli/pipewatch.ts");

  it("speaks status and status --list (cleanup: tests/package); exit 1 for an unknown id or an unreachable Redis, 2 for bad arguments", async () => {
    const deadPort = await freePort(); // nothing listens there: just handed out by the OS and closed
    const [show, list, unknown, down, usage, none, help] = await Promise.all([
      pipewatch(["status", "cli-bad"]),
      pipewatch(["status", "--list", "--status", "FAILED"]),
      pipewatch(["status", "cli-nope"]),
      pipewatch(["status", "cli-ok"], { REDIS_URL: `redis://127.0.0.1:${deadPort}` }),
      pipewatch(["status", "--list", "--limit", "many"]),
      pipewatch([]),
      pipewatch(["--help"]),
    ]);
    expect(show.code).toBe(0);
    expect(show.out).toContain("Pipeline: cli-bad (cli)");
    expect(list.code).toBe(0);
    expect(
      list.out
        .trim()
        .split("\n")
        .slice(1)
        .map((r) => r.split(/\s+/)[0]),
    ).toEqual(["cli-bad"]);
    expect(unknown).toMatchObject({ code: 1, err: 'error: no pipeline with id "cli-nope"\n' });
    expect(down.code).toBe(1);
    expect(down.err).toMatch(new RegExp(`cannot reach Redis at redis://127\\.0\\.0\\.1:${deadPort}`));
    expect(usage.code).toBe(2);
    expect(usage.err).toMatch(/--limit must be an integer[\s\S]*usage: pipewatch status <pipeline-id>/);
    expect(none.code).toBe(2);
    expect(none.err).toMatch(/no command given/);
    expect(help).toMatchObject({ code: 0, err: "" });
    expect(help.out).toMatch(/^usage: pipewatch status <pipeline-id>/);
    expect(help.out).toContain("Exit codes: 0 ok, 1 unknown pipeline id or an error, 2 bad arguments.");
  }, 60_000);
});
