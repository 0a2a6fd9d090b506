/**
 * The package as a user gets it: `npm run pack`, the tarball installed into an empty project (from
 * the registry and the npm cache), then plain `node`, `tsc` under nodenext and bundler, the
 * `pipewatch` bin, the README's "Use it from your service" block and examples/worker (with the
 * dashboard watching: it needs the Next build, as the server tests do), all against the real Redis.
 * One packed + installed project serves every test in this file.
 */
import { execFile, spawn } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  PipelineTrackingManager,
  RedisPipelineStorage,
  type PipelineStatus,
  type PipelineStatusJSON,
  type PipelineSummary,
} from "pipewatch";
import { REDIS_URL, connect, deleteKeys, silentLogger, sleep, uniquePrefix } from "../redis/helpers";
import { connectClient, startTestServer, waitForEvent, type ClientSocket } from "../server/helpers";

const ROOT = join(import.meta.dirname, "..", "..");
const UI_PACKAGES = ["next", "react", "react-dom", "recharts", "socket.io", "tailwindcss", "tsx", "esbuild"];
const exec = promisify(execFile);

let work: string;
let project: string;
let tarball: string;
let redis: Redis;
let storage: RedisPipelineStorage;
const prefix = uniquePrefix("pkg");

interface Outcome {
  code: number | null;
  out: string;
  err: string;
}

/** Runs a command to its end; never rejects (the exit code is part of the outcome). */
function run(command: string, args: string[], options: { cwd: string; env?: Record<string, string> }): Promise<Outcome> {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: { ...process.env, REDIS_URL, REDIS_PREFIX: prefix, ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d));
    child.stderr.on("data", (d: Buffer) => (err += d));
    child.on("close", (code) => resolve({ code, out, err }));
  });
}

const npmInstall = (cwd: string, specs: string[]) =>
  exec("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error", ...specs], { cwd, timeout: 120_000 });

/** Every installed package's name, nested ones included, from the lockfile npm wrote. */
function installedPackages(dir: string): string[] {
  const lock = JSON.parse(readFileSync(join(dir, "package-lock.json"), "utf8")) as { packages: Record<string, unknown> };
  return Object.keys(lock.packages)
    .filter((path) => path !== "")
    .map((path) => path.slice(path.lastIndexOf("node_modules/") + "node_modules/".length));
}

/** The TypeScript configs of the fixture, given the repository's @types/node (ioredis's types need it). */
function writeTsconfigs(dir: string): void {
  for (const name of ["tsconfig.nodenext.json", "tsconfig.bundler.json"]) {
    const config = JSON.parse(readFileSync(join(dir, name), "utf8"));
    Object.assign(config.compilerOptions, { types: ["node"], typeRoots: [join(ROOT, "node_modules", "@types")] });
    writeFileSync(join(dir, name), JSON.stringify(config, null, 2));
  }
}

function finishedRun(pipelineId: string, startedAt: Date): PipelineStatus {
  return {
    pipelineId,
    pipelineName: "cli",
    status: "COMPLETED",
    pipelineType: "sequential",
    startedAt,
    completedAt: new Date(startedAt.getTime() + 1000),
    durationMs: 1000,
    steps: [],
    result: null,
    error: null,
  };
}

/** Until the dashboard's subscription to the Redis change feed is up, so no change is missed. */
async function waitForChangeFeed(url: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const health = (await (await fetch(`${url}/api/health`)).json()) as { changeFeed?: string };
    if (health.changeFeed === "live") return;
    await sleep(50); // polling the health route, bounded
  }
  throw new Error("the dashboard's change feed never went live");
}

/** The ```js block under the README's "## Use it from your service". */
function readmeServiceBlock(): string {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const section = readme.slice(readme.search(/^## Use it from your service\s*$/m));
  const block = /^```js\n([\s\S]*?)^```/m.exec(section.slice(0, section.indexOf("\n## ", 1)));
  if (!block) throw new Error('README.md has no ```js block under "## Use it from your service"');
  return block[1]!;
}

beforeAll(async () => {
  redis = connect();
  storage = new RedisPipelineStorage(redis, { keyPrefix: prefix, logger: silentLogger() });
  const packed = await exec("npm", ["run", "--silent", "pack"], { cwd: ROOT, timeout: 120_000 });
  tarball = packed.stdout.trim().split("\n").at(-1)!;
  work = mkdtempSync(join(tmpdir(), "pipewatch-pkg-"));
  project = join(work, "consumer");
  cpSync(join(import.meta.dirname, "fixtures", "consumer"), project, { recursive: true });
  writeTsconfigs(project);
  await npmInstall(project, [tarball, "ioredis"]);
}, 180_000);

afterAll(async () => {
  if (work) rmSync(work, { recursive: true, force: true });
  await storage.close();
  await deleteKeys(redis, prefix);
  redis.disconnect();
});

describe("npm run pack", () => {
  it("prints the tarball's absolute path last; the tarball holds ESM, .d.ts, the bin and a manifest with only lib's dependencies", async () => {
    expect(tarball).toMatch(/^\/.*\/pipewatch-\d+\.\d+\.\d+\.tgz$/);
    const manifest = JSON.parse(readFileSync(join(project, "node_modules", "pipewatch", "package.json"), "utf8"));
    expect(manifest.type).toBe("module");
    expect(manifest.bin).toEqual({ pipewatch: "./cli.js" });
    expect(Object.keys(manifest.exports)).toEqual([".", "./testing", "./package.json"]);
    expect(Object.keys(manifest.dependencies).sort()).toEqual(["croner", "ioredis", "pino", "zod"]);
    expect(manifest.peerDependenciesMeta).toEqual({
      bullmq: { optional: true },
      "better-sqlite3": { optional: true },
      vitest: { optional: true },
    });
    const listing = (await exec("tar", ["-tzf", tarball])).stdout;
    for (const file of ["package/index.js", "package/testing.js", "package/cli.js", "package/types/index.d.ts", "package/README.md"]) {
      expect(listing).toContain(file);
    }
    expect(listing.split("\n").filter((file) => file.endsWith(".ts") && !file.endsWith(".d.ts"))).toEqual([]); // no sources
  });

  it("installs none of the dashboard's packages (and says how much it installs)", async () => {
    const names = installedPackages(project);
    expect(names).toContain("pipewatch");
    expect(names.filter((name) => UI_PACKAGES.includes(name))).toEqual([]);
    expect(names).not.toContain("vitest"); // an optional peer: not installed unless asked for
    const kb = Number((await exec("du", ["-sk", join(project, "node_modules")])).stdout.split("\t")[0]);
    console.log(`installed: ${names.length} packages, ${(kb / 1024).toFixed(1)} MB in node_modules`);
    expect(kb).toBeLessThan(60 * 1024);
  });
});

describe("the installed package", () => {
  it("runs a dataflow pipeline from plain node, into memory and into Redis", async () => {
    const res = await run(process.execPath, ["run-pipelines.mjs"], { cwd: project });
    expect(res.err).toBe("");
    expect(res.code).toBe(0);
    const report = JSON.parse(res.out) as { memory: Record<string, unknown>; redis: { id: string; result: unknown } };
    expect(report.memory).toEqual({
      result: { sum: 5, max: 3 },
      status: "COMPLETED",
      type: "dataflow",
      steps: ["COMPLETED", "COMPLETED", "COMPLETED", "COMPLETED"],
    });
    expect(report.redis.result).toEqual({ sum: 11, max: 6 });
    const stored = (await storage.getStatus(report.redis.id)) as PipelineStatus;
    expect(stored.status).toBe("COMPLETED");
    expect(stored.pipelineType).toBe("dataflow");
    expect(stored.steps.map((s) => [s.stepName, s.status])).toEqual([
      ["load", "COMPLETED"],
      ["sum", "COMPLETED"],
      ["max", "COMPLETED"],
      ["publish", "COMPLETED"],
    ]);
  }, 30_000);

  it("type-checks a consumer under moduleResolution nodenext and bundler", async () => {
    const tsc = join(ROOT, "node_modules", "typescript", "bin", "tsc");
    const check = (config: string) => run(process.execPath, [tsc, "-p", config], { cwd: project });
    const [nodenext, bundler] = await Promise.all([check("tsconfig.nodenext.json"), check("tsconfig.bundler.json")]);
    expect({ code: nodenext.code, output: nodenext.out + nodenext.err }).toEqual({ code: 0, output: "" });
    expect({ code: bundler.code, output: bundler.out + bundler.err }).toEqual({ code: 0, output: "" });
  }, 120_000); // two tsc runs; slow when the whole suite shares the cores
});

describe("the pipewatch bin", () => {
  const bin = () => join(project, "node_modules", ".bin", "pipewatch");

  it("shows a run, lists runs, cleans up old ones; exit 1 for an unknown id, 2 for bad arguments", async () => {
    const recorded = "pkg-recent";
    await storage.saveStatus(finishedRun(recorded, new Date(Date.now() - 5000)));
    await storage.saveStatus(finishedRun("pkg-old", new Date(Date.now() - 40 * 86_400_000)));

    const [show, list, listFailed, unknown, usage, help, badLimit] = await Promise.all([
      run(bin(), ["status", recorded], { cwd: project }),
      run(bin(), ["status", "--list", "--limit", "5"], { cwd: project }),
      run(bin(), ["status", "--list", "--status", "failed"], { cwd: project }),
      run(bin(), ["status", "pkg-nope"], { cwd: project }),
      run(bin(), ["frobnicate"], { cwd: project }),
      run(bin(), ["--help"], { cwd: project }),
      run(bin(), ["status", "--list", "--limit", "0"], { cwd: project }),
    ]);
    expect(show.code).toBe(0);
    expect(show.out).toContain(`Pipeline: ${recorded}`);
    expect(show.out).toContain("Status:   COMPLETED");
    expect(list.code).toBe(0);
    expect(list.out).toMatch(/^PIPELINE ID\s+NAME\s+STATUS/);
    expect(list.out).toContain(recorded);
    expect(list.out).toContain("pkg-old");
    expect(listFailed).toMatchObject({ code: 0, out: "no pipelines\n" });
    expect(unknown.code).toBe(1);
    expect(unknown.err).toBe('error: no pipeline with id "pkg-nope"\n');
    expect(usage.code).toBe(2);
    expect(usage.err).toMatch(/^error: unknown command frobnicate\nusage: pipewatch status <pipeline-id>/);
    expect(badLimit.code).toBe(2);
    expect(badLimit.err).toContain("--limit must be an integer");
    expect(help.code).toBe(0);
    expect(help.out).toContain("pipewatch cleanup <days>");

    const cleanup = await run(bin(), ["cleanup", "30"], { cwd: project });
    expect(cleanup).toMatchObject({ code: 0, out: "deleted 1 finished pipeline older than 30 days\n" });
    expect(await storage.getStatus("pkg-old")).toBeNull();
    expect(await storage.getStatus(recorded)).not.toBeNull();
  }, 30_000);
});

describe("distributed execution from the installed package", () => {
  it("BullMQBroker names its optional peer when bullmq is missing; once installed, `pipewatch worker` runs a producer's run", async () => {
    const missing = await run(process.execPath, ["produce.mjs"], { cwd: project });
    expect(missing.out).toContain('error BullMQBroker needs the "bullmq" package: npm install bullmq');

    await npmInstall(project, ["bullmq"]);
    const worker = spawn(join(project, "node_modules", ".bin", "pipewatch"), ["worker", "distributed.mjs", "--concurrency", "2"], {
      cwd: project,
      env: { ...process.env, REDIS_URL, REDIS_PREFIX: prefix },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    worker.stdout.on("data", (d: Buffer) => (out += d));
    worker.stderr.on("data", (d: Buffer) => (out += d));
    const exitedWorker = new Promise<number | null>((resolve) => worker.once("exit", resolve));
    try {
      await new Promise<void>((resolve, reject) => {
        const check = () => /registered totals \(dataflow, 3 steps\); concurrency 2/.test(out) && resolve();
        worker.stdout.on("data", check);
        void exitedWorker.then((code) => reject(new Error(`worker exited ${code}: ${out}`)));
      });
      const produced = await run(process.execPath, ["produce.mjs", "5"], { cwd: project });
      const [id, result] = produced.out.trim().split(" ");
      expect(result).toBe('{"sum":15,"max":5}');
      const stored = (await storage.getStatus(id!)) as PipelineStatus;
      expect(stored.status).toBe("COMPLETED");
      expect(new Set(stored.steps.map((s) => s.workerId))).toEqual(new Set([`${hostname()}:${worker.pid}`]));
    } finally {
      worker.kill("SIGTERM");
      expect(await exitedWorker).toBe(0);
    }
  }, 90_000);
});

describe("documented usage, executed", () => {
  it("the README's 'Use it from your service' block records its run into Redis", async () => {
    writeFileSync(join(project, "readme-service.mjs"), readmeServiceBlock());
    const res = await run(process.execPath, ["readme-service.mjs"], { cwd: project });
    expect(res.err).toBe("");
    expect(res.code).toBe(0);
    const [id, ...rest] = res.out.trim().split(" ");
    expect(rest.join(" ")).toBe("{ sum: 27, max: 15 }");
    const stored = (await storage.getStatus(id!)) as PipelineStatus;
    expect(stored).toMatchObject({ status: "COMPLETED", pipelineName: "nightly", pipelineType: "dataflow" });
  }, 30_000);

  it("examples/worker installs against the tarball and runs; a dashboard on the same Redis pushes its run live and serves it", async () => {
    const example = join(work, "worker");
    cpSync(join(ROOT, "examples", "worker"), example, { recursive: true, filter: (src) => !src.includes("node_modules") });
    const manifest = JSON.parse(readFileSync(join(example, "package.json"), "utf8"));
    manifest.dependencies.pipewatch = `file:${tarball}`;
    writeFileSync(join(example, "package.json"), JSON.stringify(manifest, null, 2));
    await npmInstall(example, []);

    const dashboardRedis = connect();
    const tracking = new PipelineTrackingManager({ logger: silentLogger() }).withStorage(
      new RedisPipelineStorage(dashboardRedis, { keyPrefix: prefix, logger: silentLogger() }),
    );
    const dashboard = await startTestServer({ tracking });
    let socket: ClientSocket | undefined;
    try {
      await waitForChangeFeed(dashboard.url);
      socket = await connectClient(dashboard.url);
      const pushed = waitForEvent<PipelineSummary>(
        socket,
        "pipeline:update",
        (s) => s.pipelineName === "daily-orders" && s.status === "COMPLETED",
        30_000,
      );
      const res = await run(process.execPath, ["worker.js"], { cwd: example, env: { RUNS: "1", STEP_MS: "20" } });
      expect(res.err).toBe("");
      expect(res.code).toBe(0);
      const id = /^started (\S+)$/m.exec(res.out)?.[1];
      expect(res.out).toContain(`${id} COMPLETED {"total":245,"regions":{"eu":165,"us":80}}`);
      expect(await pushed).toMatchObject({ pipelineId: id, stepsTotal: 4, stepsCompleted: 4 });
      // It listed itself as a worker while it ran, and offline once it stopped.
      const workers = (await (await fetch(`${dashboard.url}/api/workers`)).json()) as {
        items: { pid: number; status: string; processed: number }[];
      };
      expect(workers.items).toContainEqual(expect.objectContaining({ status: "offline", processed: 4 }));
      const served = (await (await fetch(`${dashboard.url}/api/pipelines/${id}`)).json()) as PipelineStatusJSON;
      expect(served.status).toBe("COMPLETED");
      expect(served.steps.map((s) => s.stepName)).toEqual(["extract", "totals", "regions", "report"]);
    } finally {
      socket?.close();
      await dashboard.close();
      await tracking.close();
      dashboardRedis.disconnect();
    }
  }, 60_000);
});
