#!/usr/bin/env node
// `npm test`: every check in one go — typecheck, lint, build, unit + Redis integration (vitest),
// browser e2e (Playwright) — then one plain line "N passed, N failed" summing every runner, so a
// run that executed no test is visible. Exit code 1 when anything failed.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import { freePort, redisServedBy } from "./net-probes.mjs";

const REPORTS = ".reports";
rmSync(REPORTS, { recursive: true, force: true });
mkdirSync(REPORTS, { recursive: true });
const env = { ...process.env, NEXT_TELEMETRY_DISABLED: "1", FORCE_COLOR: process.env.CI ? "0" : process.env.FORCE_COLOR };
const tally = { passed: 0, failed: 0 };
const results = [];

function run(name, command, args, extraEnv = {}) {
  const started = Date.now();
  console.log(`\n▶ ${name}: ${command} ${args.join(" ")}`);
  const res = spawnSync(command, args, { stdio: "inherit", env: { ...env, ...extraEnv } });
  const ok = res.status === 0;
  results.push(`${ok ? "✓" : "✗"} ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  return ok;
}

function count(ok) {
  if (ok) tally.passed++;
  else tally.failed++;
}

function readJson(path) {
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch {
    return null;
  }
}

function ping(port, host = "127.0.0.1") {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.on("error", () => done(false));
    socket.on("connect", () => socket.write("PING\r\n"));
    socket.on("data", (d) => done(d.toString().startsWith("+PONG")));
  });
}

/** Starts a redis-server of our own on a free port; tries another port when one was taken meanwhile. */
async function startOwnRedis() {
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
      stdio: "ignore",
    });
    let exited = false;
    child.once("exit", () => (exited = true));
    for (let i = 0; i < 50 && !exited; i++) {
      if (await redisServedBy(port, child.pid)) return { child, port };
      await new Promise((r) => setTimeout(r, 100)); // poll interval while it starts
    }
    if (!exited) child.kill("SIGKILL");
  }
  return null;
}

/**
 * Tests talk to a real Redis: the one at TEST_REDIS_URL; else the one on 127.0.0.1:6379, in
 * database 15 (never 0, where real data may live); else one we start on a port from the OS.
 */
async function ensureRedis() {
  if (env.TEST_REDIS_URL) return null;
  if (await ping(6379)) {
    env.TEST_REDIS_URL = "redis://127.0.0.1:6379/15";
    return null;
  }
  if (spawnSync("sh", ["-c", "command -v redis-server"]).status !== 0) {
    console.error("No Redis answers on 127.0.0.1:6379 and redis-server is not installed (apt-get install -y redis-server).");
    return null;
  }
  const own = await startOwnRedis();
  if (!own) {
    console.error("Could not start a redis-server of our own.");
    return null;
  }
  env.TEST_REDIS_URL = `redis://127.0.0.1:${own.port}`;
  return own.child;
}

const installed = (command) => spawnSync("sh", ["-c", `command -v ${command}`]).status === 0;

/**
 * On a fresh machine (as root, Debian), install what the tests need: Chromium, redis-server, and
 * promtool (Debian's `prometheus` package) that checks the metrics exposition.
 */
function ensureSystemPackages() {
  const missing = [];
  if (!existsSync("/usr/bin/chromium")) missing.push("chromium");
  if (!installed("redis-server")) missing.push("redis-server");
  if (!installed("promtool")) missing.push("prometheus");
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0 || spawnSync("sh", ["-c", "command -v apt-get"]).status !== 0) {
    console.warn(`Missing ${missing.join(", ")}: install them (Debian: apt-get install -y ${missing.join(" ")})`);
    return;
  }
  console.log(`Installing ${missing.join(", ")} from Debian…`);
  spawnSync("sh", ["-c", `apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${missing.join(" ")} >/dev/null`], {
    stdio: "inherit",
  });
}

ensureSystemPackages();
const redis = await ensureRedis();
console.log(`Redis for tests: ${env.TEST_REDIS_URL ?? "none"}`);

count(run("typecheck", "npx", ["tsc", "--noEmit"]));
count(run("lint", "npm", ["run", "lint", "--silent"]));
const built = run("build", "npm", ["run", "build", "--silent"]);
count(built);

run("unit + integration (vitest)", "npx", [
  "vitest",
  "run",
  "--reporter=default",
  "--reporter=json",
  `--outputFile.json=${REPORTS}/vitest.json`,
]);
const vitest = readJson(`${REPORTS}/vitest.json`);
if (vitest && vitest.numTotalTests > 0) {
  tally.passed += vitest.numPassedTests;
  tally.failed += vitest.numFailedTests;
  // A file that failed to load has no test results of its own: count it once.
  tally.failed += vitest.testResults.filter((f) => f.status === "failed" && f.assertionResults.length === 0).length;
} else {
  tally.failed++;
}

if (built) {
  run("browser e2e (playwright)", "npx", ["playwright", "test", "--reporter=list,json"], {
    PLAYWRIGHT_JSON_OUTPUT_NAME: `${REPORTS}/playwright.json`,
  });
  const pw = readJson(`${REPORTS}/playwright.json`);
  if (pw?.stats && pw.stats.expected + pw.stats.unexpected + pw.stats.flaky > 0) {
    tally.passed += pw.stats.expected + pw.stats.flaky;
    tally.failed += pw.stats.unexpected;
  } else {
    tally.failed++;
  }
} else {
  tally.failed++;
}

redis?.kill("SIGTERM");
console.log(`\n${results.join("\n")}`);
console.log(`${tally.passed} passed, ${tally.failed} failed`);
process.exit(tally.failed === 0 ? 0 : 1);
