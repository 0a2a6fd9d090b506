/**
 * Live paint latency end to end on the production server (`node dist/server/index.js`) with Redis:
 *
 *   worker process (bench/ui-paint-worker.ts: the library recording into Redis)
 *     → Redis write + change feed → server → Socket.IO message → React → frame
 *
 * or, with `sqlite` (`npx tsx bench/ui-paint.ts sqlite`, suite `ui-paint-sqlite`), the same over the
 * server's default storage: the worker records into the server's SQLite file (PIPEWATCH_DB in a temp
 * folder), and the server's feed polls it. Its target is the SQLite feed's budget: a step finishing
 * in another process painted at p95 ≤ 250 ms.
 *
 * Targets: every update painted in the first frame after its message arrives (message →
 * painted p95 ≤ 16.7 ms, one 60 Hz frame), and a step finishing in another process painted in the
 * list and on the detail page at p95 ≤ 22 ms. Chromium shows the list page (`/`) for the whole run
 * and, in a second tab, the detail page of each 80-step run, opened 1 s into it. The page probe
 * (bench/ui-paint-probe.ts) timestamps messages and the frames that paint rows; the worker prints the
 * epoch time of every step finish; bench/ui-paint-stats.ts joins them. Both clocks are
 * high-resolution epoch clocks on the same machine; the page↔Node offset is measured and reported.
 *
 * `npx tsx bench/ui-paint.ts` writes bench/results/latest-ui-paint.md. Needs `npm run build`.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { chromium, type Browser, type Page } from "@playwright/test";
import { Redis } from "ioredis";
import { freePort } from "../tests/free-port";
import { stopChild as stop } from "./fixtures";
import { installPaintProbe, type ProbeWindow } from "./ui-paint-probe";
import { clockOffset, detailLegs, joinDetail, joinList, ms, quantile, sortAll, tableRow, type Finish, type Visit } from "./ui-paint-stats";
import { DETAIL_RUNS, DETAIL_STEPS, LIST_GAP_MS, LIST_RUNS, STEP_MS, type WorkerLine } from "./ui-paint-worker";

const PORT = await freePort();
const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const FRAME_MS = 16.7;
const FINISH_TARGET_MS = 22;
/** A change another process writes into a SQLite file reaches the dashboard's clients within this. */
const SQLITE_FINISH_TARGET_MS = 250;

/** Where the worker records and the server reads: a Redis prefix, or a SQLite file. */
type PaintStorage = { kind: "redis"; prefix: string } | { kind: "sqlite"; path: string };
/** How far into each detail run its page is opened. */
const OPEN_AFTER_MS = 1_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function startServer(storage: PaintStorage): Promise<ChildProcess> {
  if (!existsSync("dist/server/index.js") || !existsSync(".next/BUILD_ID")) {
    throw new Error("no production build: run `flock /tmp/pipewatch-build.lock npm run build` first");
  }
  const { REDIS_URL: _url, REDIS_CLUSTER_NODES: _nodes, REDIS_PREFIX: _prefix, ...inherited } = process.env;
  const storageEnv = storage.kind === "redis" ? { REDIS_URL, REDIS_PREFIX: storage.prefix } : { PIPEWATCH_DB: storage.path };
  const child = spawn(process.execPath, ["dist/server/index.js"], {
    env: {
      ...inherited,
      ...storageEnv,
      PORT: String(PORT),
      HOST: "127.0.0.1",
      DEMO: "0",
      NODE_ENV: "production",
      NEXT_TELEMETRY_DISABLED: "1",
      LOG_LEVEL: "warn",
      DASHBOARD_TOKEN: "",
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
    await sleep(200);
  }
  await stop(child);
  throw new Error("server did not start within 60 s");
}

/** The worker's lines as they come; `exited` settles when it ends (rejects unless it printed done). */
function runWorker(storage: PaintStorage): { child: ChildProcess; lines: WorkerLine[]; exited: Promise<void> } {
  const target = storage.kind === "redis" ? [REDIS_URL, storage.prefix] : [`sqlite:${storage.path}`, "-"];
  const child = spawn(process.execPath, ["--import", "tsx", "bench/ui-paint-worker.ts", ...target], {
    env: { ...process.env, NODE_ENV: "production" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines: WorkerLine[] = [];
  createInterface({ input: child.stdout! }).on("line", (line) => lines.push(JSON.parse(line) as WorkerLine));
  const exited = new Promise<void>((resolve, reject) =>
    child.once("exit", (code) => {
      if (lines.some((l) => l.kind === "done")) resolve();
      else reject(new Error(`worker exited with ${code} before finishing`));
    }),
  );
  return { child, lines, exited };
}

/** Polls the worker's lines (a benchmark's bookkeeping, not test synchronization). */
async function lineWhere<T extends WorkerLine>(lines: WorkerLine[], match: (l: WorkerLine) => l is T, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = lines.find(match);
    if (found) return found;
    if (Date.now() > deadline) throw new Error("worker line did not come");
    await sleep(10);
  }
}

async function openProbedPage(browser: Browser): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
  const page = await context.newPage();
  // tsx compiles with esbuild's keepNames: functions shipped to the page call a `__name` helper.
  await page.addInitScript({ content: "globalThis.__name = (fn) => fn;" });
  await page.addInitScript(installPaintProbe);
  return page;
}

const collect = (page: Page): Promise<Visit> =>
  page.evaluate(() => {
    const w = window as unknown as ProbeWindow;
    return { navigatedAt: w.__navigatedAt, paints: w.__paints, arrivals: w.__arrivals };
  });

async function measure(kind: PaintStorage["kind"]): Promise<string> {
  const prefix = `pwbench:paint:${randomBytes(4).toString("hex")}:`;
  const dir = kind === "sqlite" ? mkdtempSync(join(tmpdir(), "pipewatch-paint-")) : null;
  const storage: PaintStorage = dir ? { kind: "sqlite", path: join(dir, "pipewatch.db") } : { kind: "redis", prefix };
  const finishTarget = dir ? SQLITE_FINISH_TARGET_MS : FINISH_TARGET_MS;
  const redis = dir ? null : new Redis(REDIS_URL);
  const loadBefore = loadavg();
  let server: ChildProcess | null = null;
  let workerChild: ChildProcess | null = null;
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--disable-quic",
    ],
  });
  try {
    server = await startServer(storage);
    const list = await openProbedPage(browser);
    const detail = await openProbedPage(browser);
    await list.goto(`http://127.0.0.1:${PORT}/`);
    await list.getByTestId("connection-status").filter({ hasText: "live" }).waitFor({ timeout: 30_000 });
    await list.mouse.move(640, 5); // pointer away from the rows: nothing is held back
    await sleep(300);
    const clock = await clockOffset(list);

    const started = Date.now();
    const w = runWorker(storage);
    workerChild = w.child;
    const legs = detailLegs();
    const seen = new Set<string>();
    let visits = 0;
    for (let i = 0; i < DETAIL_RUNS; i++) {
      const start = await lineWhere(
        w.lines,
        (l): l is Extract<WorkerLine, { kind: "start" }> => l.kind === "start" && !seen.has(l.pipelineId),
      );
      seen.add(start.pipelineId);
      await sleep(OPEN_AFTER_MS);
      await detail.goto(`http://127.0.0.1:${PORT}/pipelines/${encodeURIComponent(start.pipelineId)}`);
      await lineWhere(w.lines, (l): l is WorkerLine => l.kind === "end" && l.pipelineId === start.pipelineId);
      await sleep(500);
      const finishes = w.lines.filter((l): l is Finish => l.kind === "finish");
      joinDetail(finishes, start.pipelineId, await collect(detail), legs);
      visits++;
    }
    await w.exited;
    const seconds = (Date.now() - started) / 1000;
    await sleep(1_000);
    const finishes = w.lines.filter((l): l is Finish => l.kind === "finish");
    const listVisit = await collect(list);
    const clockAfter = await clockOffset(list);
    const onList = joinList(finishes, listVisit);
    // The raw records, for looking into a surprising figure.
    if (process.env.PAINT_DUMP) writeFileSync(process.env.PAINT_DUMP, JSON.stringify({ finishes, listVisit }));
    sortAll(legs.loading);
    sortAll(legs.live);
    const loadAfter = loadavg();

    const messageToPaint = [...onList.all.messageToPaint, ...legs.live.messageToPaint].sort((a, b) => a - b);
    const verdict = (xs: number[], target: number) => {
      const p95 = quantile(xs, 0.95);
      return `${p95 <= target ? "✓ met" : "✗ missed"} (p95 ${ms(p95)}, ${xs.length} samples)`;
    };
    const fmtLoad = (l: number[]) => l.map((x) => x.toFixed(2)).join(" / ");
    return [
      `### run at ${new Date().toISOString()}`,
      "",
      `${finishes.length} step finishes in ${seconds.toFixed(1)} s, recorded by a separate worker process into ${dir ? "the server's SQLite file (PIPEWATCH_DB in a temp folder)" : `Redis (\`${prefix}\`)`}: ` +
        `${LIST_RUNS} one-step runs (${STEP_MS} ms step) started ${LIST_GAP_MS} ms apart, and beside them ${DETAIL_RUNS} runs of ${DETAIL_STEPS} × ${STEP_MS} ms steps, one after another. ` +
        `Production server \`node dist/server/index.js\` on :${PORT}; Debian's Chromium headless, 1280×1000: the list page \`/\` throughout, and in a second tab each 80-step run's detail page opened ${OPEN_AFTER_MS} ms into it (${visits} visits). ` +
        `Paint = the first task after the frame that paints the change (upper bound).`,
      "",
      "| latency | samples | p50 | p95 | p99 | max |",
      "|---|---:|---:|---:|---:|---:|",
      tableRow("**list: `pipeline:update` message → painted**", onList.all.messageToPaint, true),
      tableRow("list: message → the painting frame begins", onList.all.messageToFrame),
      tableRow("list: finish → message in the page (server side, same run)", onList.all.arrival),
      tableRow("**list: step finish in another process → painted**", onList.all.paint, true),
      tableRow("list: of which one-step runs' final state (COMPLETED)", onList.final.paint),
      tableRow("list: finish → the painting frame begins", onList.all.frame),
      tableRow("**detail: `step:update` message → painted**", legs.live.messageToPaint, true),
      tableRow("detail: message → the painting frame begins", legs.live.messageToFrame),
      tableRow("detail: finish → message in the page (server side, same run)", legs.live.arrival),
      tableRow("**detail: step finish in another process → painted**", legs.live.paint, true),
      tableRow("detail: finish → the painting frame begins", legs.live.frame),
      tableRow("detail, opened mid-run: finished after the page was requested, before its first live `step:update`", legs.loading.paint),
      "",
      `Not painted: list ${onList.all.missing} (the list is virtualized: rows pushed out of the rendered range by newer runs are not in the DOM), detail ${legs.live.missing + legs.loading.missing}. Detail finishes already in the server-rendered page (finished before it was requested): ${legs.inSnapshot}.`,
      "",
      `- message → painted within one frame (list and detail together): ${verdict(messageToPaint, FRAME_MS)}`,
      `- step finish in another process → painted in the list (≤ ${finishTarget} ms): ${verdict(onList.all.paint, finishTarget)}`,
      `- step finish in another process → painted on the detail page (≤ ${finishTarget} ms): ${verdict(legs.live.paint, finishTarget)}`,
      "",
      `Clocks: worker and page both take \`performance.timeOrigin + performance.now()\` on this machine; page − Node offset by round trip ${clock.offset.toFixed(2)} ± ${clock.uncertainty.toFixed(2)} ms before, ${clockAfter.offset.toFixed(2)} ± ${clockAfter.uncertainty.toFixed(2)} ms after (not subtracted). ` +
        `Machine: ${cpus().length} cores, load average (1/5/15 min) ${fmtLoad(loadBefore)} before, ${fmtLoad(loadAfter)} after.`,
      "",
    ].join("\n");
  } finally {
    if (workerChild) await stop(workerChild);
    await browser.close();
    if (server) await stop(server);
    if (redis) {
      await deleteKeys(redis, prefix).catch(() => 0);
      redis.disconnect();
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
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

const HEADER = [
  "## ui-paint — live updates → painted, list and detail page",
  "",
  `Targets: message → painted p95 ≤ ${FRAME_MS} ms (one 60 Hz frame); a step finishing in another process painted in the list and on the detail page at p95 ≤ ${FINISH_TARGET_MS} ms. Regenerate with \`npx tsx bench/ui-paint.ts\` (needs \`npm run build\`).`,
  "",
].join("\n");

const SQLITE_HEADER = [
  "## ui-paint-sqlite — live updates over the default SQLite storage → painted",
  "",
  `Target: a step finishing in another process, recorded into the dashboard's SQLite file, painted in the list and on the detail page at p95 ≤ ${SQLITE_FINISH_TARGET_MS} ms. Regenerate with \`npx tsx bench/ui-paint.ts sqlite\` (needs \`npm run build\`).`,
  "",
].join("\n");

/** One measurement under the section's heading (what `npm run bench` collects). */
export async function run(): Promise<string> {
  return `${HEADER}\n${await measure("redis")}`;
}

/** The same over the server's default storage, a SQLite file (suite `ui-paint-sqlite`). */
export async function runSqlite(): Promise<string> {
  return `${SQLITE_HEADER}\n${await measure("sqlite")}`;
}

if ((process.argv[1] ?? "").endsWith("ui-paint.ts")) {
  const sqlite = process.argv.includes("sqlite");
  const section = await measure(sqlite ? "sqlite" : "redis");
  console.log(section);
  mkdirSync("bench/results", { recursive: true });
  const out = sqlite ? "bench/results/latest-ui-paint-sqlite.md" : "bench/results/latest-ui-paint.md";
  writeFileSync(out, `${sqlite ? SQLITE_HEADER : HEADER}\n${section}`);
  console.log(`wrote ${out}`);
  process.exit(0);
}
