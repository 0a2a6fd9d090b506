/**
 * A same-run baseline for the list API target ("≥ 3× the req/s of bull-board's job list on the
 * same Redis"): bull-board (express + @bull-board/api, own process) over one BullMQ queue holding
 * 100 000 jobs (7/8 completed, 1/8 failed, put there by a real worker) and our production build
 * (`node dist/server/index.js`, own process) over 100 000 runs, in alternated rounds under the same load
 * as bench/server-api.ts (autocannon, 10 connections, 10 s, loopback), one page of 50 finished items each.
 * Keys under `pwbench:bull:` and `pwbench:bbcmp:` only, deleted before and after.
 *
 *   npx tsx bench/bull-board-baseline.ts      (needs a build: npm run build)
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { createInterface } from "node:readline";
import autocannon from "autocannon";
import { Queue, Worker } from "bullmq";
import { Redis } from "ioredis";
import { seedFinishedRuns, stopChild as stop } from "./fixtures";
import { freePorts } from "../tests/free-port";

const REDIS_URL = process.env.BENCH_REDIS_URL ?? process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const BULL_PREFIX = "pwbench:bull";
const OUR_PREFIX = "pwbench:bbcmp:";
const QUEUE = "pipelines";
const [BULL_PORT, OUR_PORT] = (await freePorts(2)) as [number, number];
const COUNT = Number(process.env.BENCH_BULL_JOBS ?? 100_000);
const HTTP_SECONDS = Number(process.env.BENCH_SERVER_HTTP_SECONDS ?? 10);
/** Rounds of (bull-board, ours), alternated so a change in the machine's background load hits both. */
const ROUNDS = Number(process.env.BENCH_BULL_ROUNDS ?? 2);
const SERVER = "dist/server/index.js";
const NAMES = ["etl", "report", "sync"] as const;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** SCAN + UNLINK on exactly one of our two bench prefixes, never anything broader. */
async function deleteKeys(redis: Redis, prefix: typeof BULL_PREFIX | typeof OUR_PREFIX): Promise<void> {
  const pattern = prefix === BULL_PREFIX ? `${BULL_PREFIX}:*` : `${OUR_PREFIX}*`;
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 5000);
    cursor = next;
    if (keys.length) await redis.unlink(...keys);
  } while (cursor !== "0");
}

/**
 * COUNT jobs added in batches of 1 000, then run by a worker (concurrency 200, no-op processor that
 * fails every 8th job) so they land in "completed"/"failed" with return values, stack traces and
 * timestamps as a real queue's would. Both sets keep every job (BullMQ's default).
 */
async function seedBull(): Promise<{ seconds: number; completed: number; failed: number }> {
  const started = performance.now();
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue(QUEUE, { connection, prefix: BULL_PREFIX });
  const nowMs = Date.now();
  for (let i = 0; i < COUNT; i += 1_000) {
    await queue.addBulk(
      Array.from({ length: Math.min(1_000, COUNT - i) }, (_, k) => {
        const j = i + k;
        const name = NAMES[j % 3]!;
        return {
          name,
          data: {
            pipelineId: `bench-${name}_${j.toString(36)}`,
            source: `s3://bench-bucket/${name}/part-${(j % 512).toString().padStart(5, "0")}.parquet`,
            rows: j,
            requestedAt: nowMs - (COUNT - j) * 6_000,
          },
        };
      }),
    );
  }
  const workerConnection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const worker = new Worker(
    QUEUE,
    async (job) => {
      const rows = (job.data as { rows: number }).rows;
      if (rows % 8 === 6) throw new Error(`Error ${rows % 7}: something broke`);
      return { rows, written: rows * 3 };
    },
    { connection: workerConnection, prefix: BULL_PREFIX, concurrency: 200 },
  );
  let done = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      if (++done >= COUNT) resolve();
    };
    worker.on("completed", tick);
    worker.on("failed", tick);
  });
  await worker.close();
  const counts = await queue.getJobCounts("completed", "failed");
  await queue.close();
  connection.disconnect();
  workerConnection.disconnect();
  return { seconds: (performance.now() - started) / 1000, completed: counts.completed ?? 0, failed: counts.failed ?? 0 };
}

/** COUNT finished runs over the last 7 days, the same shapes as bench/server-api.ts seeds. */
async function seedOurs(redis: Redis): Promise<number> {
  return seedFinishedRuns(redis, OUR_PREFIX, COUNT);
}

/** bull-board's host (tsx) prints `{"url": ...}` once listening. */
async function startBullBoard(children: ChildProcess[]): Promise<string> {
  const child = spawn(process.execPath, ["--import", "tsx", "bench/bull-board-host.ts", REDIS_URL, BULL_PREFIX, QUEUE, String(BULL_PORT)], {
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, NODE_ENV: "production" },
  });
  children.push(child);
  const lines = createInterface({ input: child.stdout! });
  return new Promise<string>((resolve, reject) => {
    lines.on("line", (line) => {
      try {
        resolve((JSON.parse(line) as { url: string }).url);
      } catch {
        // not the ready line
      }
    });
    child.once("exit", (code) => reject(new Error(`bull-board host exited ${code}`)));
  });
}

/** Our production build, as `npm start` runs it; ready once /api/health answers 200. */
async function startOurs(children: ChildProcess[]): Promise<string> {
  if (!existsSync(SERVER) || !existsSync(".next/BUILD_ID")) throw new Error(`no build (${SERVER}, .next): run npm run build first`);
  const child = spawn(process.execPath, [SERVER], {
    stdio: ["ignore", "ignore", "inherit"],
    env: {
      ...process.env,
      NODE_ENV: "production",
      NEXT_TELEMETRY_DISABLED: "1",
      HOST: "127.0.0.1",
      REDIS_URL,
      REDIS_PREFIX: OUR_PREFIX,
      DEMO: "0",
      PORT: String(OUR_PORT),
    },
  });
  children.push(child);
  const url = `http://127.0.0.1:${OUR_PORT}`;
  const deadline = performance.now() + 60_000;
  while (performance.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`our server exited ${child.exitCode}`);
    try {
      if ((await fetch(`${url}/api/health`)).ok) return url;
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  throw new Error("our server did not become healthy within 60 s");
}

/** A process's user + system CPU seconds so far (Linux /proc; fields 14 and 15, in clock ticks of 1/100 s). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

interface HttpRow {
  reqPerS: number;
  p50: number;
  p99: number;
  bytes: number;
  items: number;
  non2xx: number;
  errors: number;
  cpuUsPerReq: number;
}

/** Warm-up requests (JIT, connections), then autocannon with bench/server-api.ts's settings. */
async function measure(url: string, pid: number, countItems: (body: unknown) => number): Promise<HttpRow> {
  let bytes = 0;
  let items = 0;
  for (let i = 0; i < 50; i++) {
    const res = await fetch(url);
    if (!res.ok) throw new Error(`GET ${url} answered ${res.status}`);
    const text = await res.text();
    bytes = Buffer.byteLength(text);
    items = countItems(JSON.parse(text));
  }
  const cpuBefore = cpuSeconds(pid);
  const r = await autocannon({ url, connections: 10, duration: HTTP_SECONDS });
  const cpu = cpuSeconds(pid) - cpuBefore;
  return {
    reqPerS: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    bytes,
    items,
    non2xx: r.non2xx,
    errors: r.errors,
    cpuUsPerReq: (cpu * 1e6) / (r.requests.average * HTTP_SECONDS),
  };
}

export async function run(): Promise<string> {
  const redis = new Redis(REDIS_URL);
  const children: ChildProcess[] = [];
  try {
    await deleteKeys(redis, BULL_PREFIX);
    await deleteKeys(redis, OUR_PREFIX);
    const bull = await seedBull();
    const oursSeconds = await seedOurs(redis);
    const loadBefore = loadavg()
      .map((l) => l.toFixed(1))
      .join(" / ");

    // Both data sets stay in Redis throughout; both servers stay up, only one is under load at a time.
    const bullPath = `/api/queues?activeQueue=${QUEUE}&status=completed&page=1&jobsPerPage=50`;
    const ourPath = "/api/pipelines?limit=50&status=COMPLETED";
    const bullUrl = await startBullBoard(children);
    const bullPid = children.at(-1)!.pid!;
    const ourUrl = await startOurs(children);
    const ourPid = children.at(-1)!.pid!;
    const rounds: { theirs: HttpRow; ours: HttpRow }[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const theirs = await measure(
        `${bullUrl}${bullPath}`,
        bullPid,
        (b) => (b as { queues: { name: string; jobs: unknown[] }[] }).queues.find((q) => q.name === QUEUE)?.jobs.length ?? 0,
      );
      const ours = await measure(`${ourUrl}${ourPath}`, ourPid, (b) => (b as { items: unknown[] }).items.length);
      rounds.push({ theirs, ours });
    }
    const loadAfter = loadavg()
      .map((l) => l.toFixed(1))
      .join(" / ");

    const sum = (f: (r: { theirs: HttpRow; ours: HttpRow }) => number) => rounds.reduce((n, r) => n + f(r), 0);
    const ratio = sum((r) => r.ours.reqPerS) / sum((r) => r.theirs.reqPerS);
    const cpuRatio = sum((r) => r.theirs.cpuUsPerReq) / sum((r) => r.ours.cpuUsPerReq);
    const worstP99 = Math.max(...rounds.map((r) => r.ours.p99));
    const row = (label: string, i: number, r: HttpRow) =>
      `| ${label} | ${i + 1} | ${Math.round(r.reqPerS)} | ${r.p50} ms | ${r.p99} ms | ${Math.round(r.cpuUsPerReq)} µs | ${r.bytes} | ${r.items} | ${r.non2xx + r.errors} |`;
    const md = [
      "## bull-board baseline",
      "",
      `Same Redis, same run, same load (autocannon: 10 connections, ${HTTP_SECONDS} s, loopback; 50 warm-up requests first), ` +
        `${ROUNDS} alternated rounds (bull-board, ours, bull-board, …), each server in its own process, idle while the other is measured; ` +
        "both data sets stay in Redis throughout. " +
        `bull-board (@bull-board/api + @bull-board/express 9.10.1, BullMQ 6, express 5, default options) over one queue of ` +
        `${COUNT.toLocaleString("en")} jobs (${bull.completed.toLocaleString("en")} completed, ${bull.failed.toLocaleString("en")} failed by a real worker, ` +
        `small JSON data and return values; seeded in ${bull.seconds.toFixed(1)} s). ` +
        `Ours: the production build (\`node ${SERVER}\`, Redis storage) over ${COUNT.toLocaleString("en")} runs ` +
        `(75 % completed, 3 steps each; seeded in ${oursSeconds.toFixed(1)} s). ` +
        "Server CPU per request: the server process's user + system time during the run / requests served. " +
        `Machine load average (2 cores, other work running) before / after the HTTP runs: ${loadBefore} → ${loadAfter}.`,
      "",
      "| route (page of 50 finished items) | round | req/s | p50 | p99 | server CPU / req | response bytes | items | non-2xx + errors |",
      "|---|---|---|---|---|---|---|---|---|",
      ...rounds.flatMap((r, i) => [row(`bull-board \`GET ${bullPath}\``, i, r.theirs), row(`ours \`GET ${ourPath}\``, i, r.ours)]),
      "",
      `**Ours / bull-board: ${ratio.toFixed(1)}× the req/s** over the ${ROUNDS} rounds ` +
        `(${rounds.map((r) => (r.ours.reqPerS / r.theirs.reqPerS).toFixed(1)).join(", ")} per round; target ≥ 3×: ${ratio >= 3 ? "met" : "NOT met"}); ` +
        `bull-board spends ${cpuRatio.toFixed(1)}× our server CPU per request; ` +
        `our worst p99 ${worstP99} ms (target ≤ 20 ms: ${worstP99 <= 20 ? "met" : "NOT met"}).`,
      "",
    ].join("\n");
    mkdirSync("bench/results", { recursive: true });
    writeFileSync("bench/results/bull-board.md", md);
    return md;
  } finally {
    for (const child of children) await stop(child);
    await deleteKeys(redis, BULL_PREFIX);
    await deleteKeys(redis, OUR_PREFIX);
    redis.disconnect();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await run());
  process.exit(0);
}
