/**
 * Team-guide target: "a step finishing in another process is painted in the browser within 25 ms
 * (p95)". End to end on the production server (`node dist/server/index.js`) with Redis:
 *
 *   worker process (library: Pipeline + InMemoryBroker + PipelineTrackingManager + RedisPipelineStorage)
 *     → Redis write + change feed → server → Socket.IO `pipeline:update` → React list row → frame
 *
 * The worker (`--worker` mode of this file) runs sequential pipelines whose steps finish ~5 times a
 * second and prints, per step finish, the epoch time taken just before the step function resolves
 * (`performance.timeOrigin + performance.now()`) with (pipelineId, stepsCompleted after it). In
 * Chromium, a MutationObserver watches the list rows; when a row's "done/total" text or
 * `data-status` changes, it finds the frame that paints it (the current one when the change was made
 * inside a requestAnimationFrame callback, as the app's coalesced batches are, else the next) and
 * takes the same kind of epoch time in the first task after that frame's rendering (an upper bound
 * of the paint). latency = paint − finish. Both clocks are
 * high-resolution epoch clocks on the same machine; the page↔Node offset is estimated by round trip
 * and reported. A finish whose own state ("n/total") never reached the screen because a later one
 * was rendered in the same frame is "coalesced": its latency is to the first paint showing ≥ n.
 *
 * `npx tsx bench/ui-paint.ts [runs]` writes bench/results/ui-paint.md. Needs `npm run build`.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { createInterface } from "node:readline";
import { chromium, type Page } from "@playwright/test";
import { Redis } from "ioredis";
import { pino } from "pino";
import { InMemoryBroker } from "../lib/pipeline/broker";
import { Pipeline } from "../lib/pipeline/pipeline";
import { PipelineTrackingManager } from "../lib/tracking/manager";
import { RedisPipelineStorage } from "../lib/tracking/storage/redis";
import { stopChild as stop } from "./fixtures";
import { freePort } from "../tests/free-port";

const PORT = await freePort();
const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const TARGET_P95_MS = 25;
/** 60 runs × 5 steps = 300 finishes; two lanes of 400 ms steps, offset by 200 ms → ~5 finishes/s. */
const RUNS = 60;
const STEPS = 5;
const LANES = 2;
const STEP_MS = 400;

interface Finish { pipelineId: string; stepsCompleted: number; at: number }
interface Paint { id: string; done: number; total: number; status: string; raf: number; after: number }
/** A `pipeline:update` as its WebSocket message was dispatched in the page (before Socket.IO's own listener). */
interface Arrival { id: string; done: number; t: number }

const epochNow = () => performance.timeOrigin + performance.now();

// ---- worker: another process recording runs with the library ------------------------------------

async function worker(redisUrl: string, keyPrefix: string): Promise<void> {
  // Logs to stderr: stdout carries the JSON lines.
  const logger = pino({ level: "warn" }, pino.destination(2));
  const redis = new Redis(redisUrl);
  const tracking = new PipelineTrackingManager({ logger }).withStorage(new RedisPipelineStorage(redis, { keyPrefix, logger }));
  const broker = new InMemoryBroker({ workerId: "bench-paint" });
  let pipeline = new Pipeline(broker, { name: "bench-paint" }) as Pipeline<unknown, unknown>;
  for (let i = 0; i < STEPS; i++) {
    pipeline = pipeline.step(`step-${i}`, (_input: unknown, ctx) => new Promise((resolve) => setTimeout(() => {
      const finish: Finish = { pipelineId: ctx.pipelineId, stepsCompleted: i + 1, at: epochNow() };
      resolve(i);
      // Printed after the step resolved, so the write to stdout is not on the measured path.
      setImmediate(() => process.stdout.write(`${JSON.stringify(finish)}\n`));
    }, STEP_MS))) as Pipeline<unknown, unknown>;
  }
  pipeline.withTracking(tracking);
  let started = 0;
  const lane = async (delayMs: number) => {
    await new Promise((r) => setTimeout(r, delayMs));
    while (started < RUNS) {
      started++;
      const task = await pipeline.kiq();
      await task.waitResult({ timeoutMs: 60_000 });
    }
  };
  await Promise.all(Array.from({ length: LANES }, (_, i) => lane((i * STEP_MS) / LANES)));
  await tracking.close();
  redis.disconnect();
  process.stdout.write(`${JSON.stringify({ done: true })}\n`);
}

// ---- page probe ------------------------------------------------------------------------------------

/** Runs in the page before any app script (serialized by Playwright: no closures over this file). */
function installPaintProbe(): void {
  const paints: Paint[] = [];
  const last = new Map<string, string>();
  const arrivals: Arrival[] = [];
  (window as unknown as { __paints: Paint[]; __arrivals: Arrival[] }).__paints = paints;
  (window as unknown as { __arrivals: Arrival[] }).__arrivals = arrivals;
  const now = () => performance.timeOrigin + performance.now();
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols);
      this.addEventListener("message", (ev: MessageEvent) => {
        if (typeof ev.data !== "string" || !ev.data.startsWith('42["pipeline:update"')) return;
        const t = now();
        const id = /"pipelineId":"([^"]+)"/.exec(ev.data)?.[1];
        const done = /"stepsCompleted":(\d+)/.exec(ev.data)?.[1];
        if (id && done) arrivals.push({ id, done: Number(done), t });
      });
    }
  };
  // Which frame paints a change: a mutation made inside a requestAnimationFrame callback (the app
  // renders its coalesced batches there, with flushSync) is painted by that same frame; any other
  // mutation by the next one. rAF callbacks are wrapped so their mutations are taken synchronously
  // (takeRecords) while we still know we are inside the frame.
  const afterRendering = (changed: Omit<Paint, "raf" | "after">[], raf: number) => {
    // A task posted during a frame's rAF phase runs after that frame's rendering: the paint's upper bound.
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      const after = now();
      for (const c of changed) paints.push({ ...c, raf, after });
    };
    channel.port2.postMessage(null);
  };
  const readRows = (rows: Set<Element>, inFrame: boolean) => {
    const changed: Omit<Paint, "raf" | "after">[] = [];
    for (const row of rows) {
      const id = row.getAttribute("data-pipeline-id");
      const text = row.querySelector('[title*="steps completed"] span')?.textContent ?? "";
      const status = row.getAttribute("data-status") ?? "";
      const m = /(\d+)\/(\d+)/.exec(text);
      if (!id || !m) continue;
      const key = `${m[0]} ${status}`;
      if (last.get(id) === key) continue;
      last.set(id, key);
      changed.push({ id, done: Number(m[1]), total: Number(m[2]), status });
    }
    if (changed.length === 0) return;
    if (inFrame) afterRendering(changed, now());
    else requestAnimationFrame(() => afterRendering(changed, now()));
  };
  const rowsOf = (mutations: MutationRecord[]) => {
    const rows = new Set<Element>();
    for (const m of mutations) {
      const el = m.target instanceof Element ? m.target : m.target.parentElement;
      const row = el?.closest('[data-testid="pipeline-row"]');
      if (row) rows.add(row);
      for (const node of m.addedNodes) {
        if (!(node instanceof Element)) continue;
        if (node.matches('[data-testid="pipeline-row"]')) rows.add(node);
        for (const r of node.querySelectorAll('[data-testid="pipeline-row"]')) rows.add(r);
      }
    }
    return rows;
  };
  const observer = new MutationObserver((mutations) => {
    const rows = rowsOf(mutations);
    if (rows.size) readRows(rows, false);
  });
  observer.observe(document, { subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ["data-status", "data-pipeline-id"] });
  const nativeRaf = window.requestAnimationFrame.bind(window);
  window.requestAnimationFrame = (callback: FrameRequestCallback) => nativeRaf((time) => {
    try {
      callback(time);
    } finally {
      const rows = rowsOf(observer.takeRecords());
      if (rows.size) readRows(rows, true);
    }
  });
}

// ---- parent ----------------------------------------------------------------------------------------

async function startServer(prefix: string): Promise<ChildProcess> {
  if (!existsSync("dist/server/index.js") || !existsSync(".next/BUILD_ID")) {
    throw new Error("no production build: run `flock /tmp/pipewatch-build.lock npm run build` first");
  }
  const child = spawn(process.execPath, ["dist/server/index.js"], {
    env: {
      ...process.env, PORT: String(PORT), HOST: "127.0.0.1", REDIS_URL, REDIS_PREFIX: prefix, DEMO: "0",
      NODE_ENV: "production", NEXT_TELEMETRY_DISABLED: "1", LOG_LEVEL: "warn", DASHBOARD_TOKEN: "",
    },
    stdio: ["ignore", "ignore", "inherit"],
  });
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    try {
      if ((await fetch(`http://127.0.0.1:${PORT}/api/health`)).ok) return child;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  await stop(child);
  throw new Error("server did not start within 60 s");
}


/** Runs the worker to its end; resolves with every step finish it printed. */
function runWorker(prefix: string): { child: ChildProcess; finishes: Promise<Finish[]> } {
  const child = spawn(process.execPath, ["--import", "tsx", "bench/ui-paint.ts", "--worker", REDIS_URL, prefix], {
    env: { ...process.env, NODE_ENV: "production" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const finishes = new Promise<Finish[]>((resolve, reject) => {
    const out: Finish[] = [];
    let done = false;
    createInterface({ input: child.stdout! }).on("line", (line) => {
      const msg = JSON.parse(line) as Finish | { done: true };
      if ("done" in msg) done = true;
      else out.push(msg);
    });
    child.once("exit", (code) => (done ? resolve(out) : reject(new Error(`worker exited with ${code} before finishing`))));
  });
  return { child, finishes };
}

/** Page clock − Node clock, from the tightest of several round trips (± half that round trip). */
async function clockOffset(page: Page): Promise<{ offset: number; uncertainty: number }> {
  let best = { offset: 0, uncertainty: Infinity };
  for (let i = 0; i < 20; i++) {
    const t0 = epochNow();
    const p = await page.evaluate(() => performance.timeOrigin + performance.now());
    const t1 = epochNow();
    if ((t1 - t0) / 2 < best.uncertainty) best = { offset: p - (t0 + t1) / 2, uncertainty: (t1 - t0) / 2 };
  }
  return best;
}

async function deleteKeys(redis: Redis, prefix: string): Promise<number> {
  let cursor = "0";
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
    cursor = next;
    if (keys.length) deleted += await redis.unlink(...keys);
  } while (cursor !== "0");
  return deleted;
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

const ms = (n: number) => (Number.isFinite(n) ? `${n.toFixed(1)} ms` : "—");

interface Joined {
  latencies: number[];
  afterLatencies: number[];
  /** finish → its `pipeline:update` reached the page (Redis, change feed, server, Socket.IO). */
  toArrival: number[];
  /** that arrival → the rAF after the row showed it (React commit + frame wait). */
  arrivalToPaint: number[];
  own: number;
  coalesced: number;
  missing: number;
}

function join(finishes: Finish[], paints: Paint[], arrivals: Arrival[]): Joined {
  const arrivalsById = new Map<string, Arrival[]>();
  for (const a of arrivals) arrivalsById.set(a.id, [...(arrivalsById.get(a.id) ?? []), a]);
  const byId = new Map<string, Paint[]>();
  for (const p of paints) byId.set(p.id, [...(byId.get(p.id) ?? []), p]);
  for (const list of byId.values()) list.sort((a, b) => a.raf - b.raf);
  const out: Joined = { latencies: [], afterLatencies: [], toArrival: [], arrivalToPaint: [], own: 0, coalesced: 0, missing: 0 };
  for (const f of finishes) {
    const paint = byId.get(f.pipelineId)?.find((p) => p.done >= f.stepsCompleted);
    if (!paint) {
      out.missing++;
      continue;
    }
    if (paint.done === f.stepsCompleted) out.own++;
    else out.coalesced++;
    out.latencies.push(paint.raf - f.at);
    out.afterLatencies.push(paint.after - f.at);
    const arrival = arrivalsById.get(f.pipelineId)?.find((a) => a.done >= f.stepsCompleted);
    if (arrival) {
      out.toArrival.push(arrival.t - f.at);
      out.arrivalToPaint.push(paint.raf - arrival.t);
    }
  }
  for (const list of [out.latencies, out.afterLatencies, out.toArrival, out.arrivalToPaint]) list.sort((a, b) => a - b);
  return out;
}

async function measure(): Promise<string> {
  const prefix = `pwbench:paint:${randomBytes(4).toString("hex")}:`;
  const redis = new Redis(REDIS_URL);
  const loadBefore = loadavg();
  let server: ChildProcess | null = null;
  let workerChild: ChildProcess | null = null;
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
  });
  try {
    server = await startServer(prefix);
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    // tsx compiles with esbuild's keepNames: functions shipped to the page call a `__name` helper.
    await page.addInitScript({ content: "globalThis.__name = (fn) => fn;" });
    await page.addInitScript(installPaintProbe);
    await page.goto(`http://127.0.0.1:${PORT}/`);
    await page.getByTestId("connection-status").filter({ hasText: "live" }).waitFor({ timeout: 30_000 });
    // Pointer away from the list: nothing hovered.
    await page.mouse.move(640, 5);
    await page.waitForTimeout(300);
    const clock = await clockOffset(page);

    const started = Date.now();
    const w = runWorker(prefix);
    workerChild = w.child;
    const finishes = await w.finishes;
    const seconds = (Date.now() - started) / 1000;
    await page.waitForTimeout(1_000);
    const { paints, arrivals } = await page.evaluate(() => {
      const w = window as unknown as { __paints: Paint[]; __arrivals: Arrival[] };
      return { paints: w.__paints, arrivals: w.__arrivals };
    });
    const clockAfter = await clockOffset(page);
    const j = join(finishes, paints, arrivals);
    const row = (label: string, xs: number[], bold = false) =>
      `| ${label} | ${ms(quantile(xs, 0.5))} | ${bold ? `**${ms(quantile(xs, 0.95))}**` : ms(quantile(xs, 0.95))} | ${ms(quantile(xs, 0.99))} | ${ms(xs.at(-1) ?? NaN)} | ${ms(xs[0] ?? NaN)} |`;
    const loadAfter = loadavg();
    const p95 = quantile(j.afterLatencies, 0.95);
    const fmtLoad = (l: number[]) => l.map((x) => x.toFixed(2)).join(" / ");
    return [
      `### run at ${new Date().toISOString()}`,
      "",
      `${finishes.length} step finishes in ${seconds.toFixed(1)} s (${(finishes.length / seconds).toFixed(1)}/s; ${RUNS} runs × ${STEPS} steps, ${LANES} lanes of ${STEP_MS} ms steps) recorded by a separate worker process into Redis (\`${prefix}\`); ` +
        `production server \`node dist/server/index.js\` on a free port; Debian's Chromium headless, 1280×1000, list page \`/\`. ${paints.length} row state changes painted.`,
      "",
      "| latency | p50 | p95 | p99 | max | min |",
      "|---|---:|---:|---:|---:|---:|",
      row("finish → the frame that paints the row's change begins painting", j.latencies),
      row("**finish → first task after that frame's rendering (paint, upper bound)**", j.afterLatencies, true),
      row(`part: finish → \`pipeline:update\` message in the page (${j.toArrival.length})`, j.toArrival),
      row("part: message → the frame that paints it", j.arrivalToPaint),
      "",
      `Finishes painted as their own state: ${j.own}; coalesced (a later step of the same run was painted first; latency taken to that paint): ${j.coalesced}; never painted: ${j.missing}.`,
      "",
      `Clocks: worker and page both take \`performance.timeOrigin + performance.now()\` (epoch-based, high resolution) on this machine; page − Node offset measured by round trip ${clock.offset.toFixed(2)} ± ${clock.uncertainty.toFixed(2)} ms before, ${clockAfter.offset.toFixed(2)} ± ${clockAfter.uncertainty.toFixed(2)} ms after (not subtracted). ` +
        `Machine: ${cpus().length} cores, load average (1/5/15 min) ${fmtLoad(loadBefore)} before, ${fmtLoad(loadAfter)} after.`,
      "",
      `Target p95 ≤ ${TARGET_P95_MS} ms: ${p95 <= TARGET_P95_MS ? "✓ met" : "✗ missed"} (${ms(p95)}).`,
      "",
    ].join("\n");
  } finally {
    if (workerChild) await stop(workerChild);
    await browser.close();
    if (server) await stop(server);
    await deleteKeys(redis, prefix).catch(() => 0);
    redis.disconnect();
  }
}

const HEADER = [
  "## ui-paint — step finish in another process → painted in the list",
  "",
  `Target (team guide): a step finishing in another process is painted in the browser within ${TARGET_P95_MS} ms (p95). Regenerate with \`npx tsx bench/ui-paint.ts [runs]\` (needs \`npm run build\`).`,
  "",
].join("\n");

/** One measurement under the section's heading (what `npm run bench` collects). */
export async function run(): Promise<string> {
  return `${HEADER}\n${await measure()}`;
}

const self = process.argv[1] ?? "";
if (self.endsWith("ui-paint.ts") && process.argv[2] === "--worker") {
  await worker(process.argv[3] ?? REDIS_URL, process.argv[4] ?? "pwbench:paint:worker:");
  process.exit(0);
} else if (self.endsWith("ui-paint.ts")) {
  const times = Math.max(1, Number(process.argv[2] ?? 1) || 1);
  const sections: string[] = [];
  for (let i = 0; i < times; i++) {
    sections.push(await measure());
    console.log(sections.at(-1));
  }
  mkdirSync("bench/results", { recursive: true });
  writeFileSync("bench/results/ui-paint.md", `${HEADER}\n${sections.join("\n")}`);
  console.log("wrote bench/results/ui-paint.md");
  process.exit(0);
}
