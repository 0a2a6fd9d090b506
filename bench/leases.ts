/**
 * Leases on the Redis recording path: step transitions/s through real Pipelines with leases off
 * (a storage without `renewLeases`), with the default lease (30 s: one lease taken per run, queued
 * with its start) and with a 300 ms lease (every live run renewed every 100 ms), alternated in one
 * run on a redis-server of its own (so its command counts are ours alone), plus the commands Redis
 * ran per run. `npm run bench -- leases`, or `npx tsx bench/leases.ts`.
 */
import { Redis } from "ioredis";
import { pino } from "pino";
import { loadavg } from "node:os";
import { InMemoryBroker, Pipeline, PipelineTrackingManager, RedisPipelineStorage } from "../lib";
import { startOwnRedis } from "../tests/own-redis";

const logger = pino({ level: "silent" });
const RUNS = 2000;
const STEPS = 10;
const ROUNDS = 7;

type Variant = "no leases" | "lease 30 s" | "lease 300 ms";
const VARIANTS: Variant[] = ["no leases", "lease 30 s", "lease 300 ms"];

interface Round {
  rate: number;
  /** This process's CPU time per transition, µs (steadier than the rate on a shared machine). */
  cpuUs: number;
  /** Client commands (EVALSHA, one per merged batch of writes) per run. */
  clientCommands: number;
  /** Every command Redis executed per run, those run inside the scripts included. */
  redisCommands: number;
}

async function commandCalls(redis: Redis): Promise<{ scripts: number; total: number }> {
  const info = await redis.info("commandstats");
  let scripts = 0;
  let total = 0;
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    const calls = Number(m[2]);
    if (m[1] === "info") continue;
    total += calls;
    if (m[1] === "evalsha" || m[1] === "eval") scripts += calls;
  }
  return { scripts, total };
}

async function round(redis: Redis, admin: Redis, variant: Variant, n: number): Promise<Round> {
  const storage = new RedisPipelineStorage(redis, { keyPrefix: `pwbench:leases:${n}:`, logger });
  // A storage without the optional lease methods: the manager then takes no leases.
  if (variant === "no leases")
    Object.defineProperties(storage, { renewLeases: { value: undefined }, sweepExpiredLeases: { value: undefined } });
  const tracking = new PipelineTrackingManager({ logger, leaseMs: variant === "lease 300 ms" ? 300 : 30_000 }).withStorage(storage);
  let pipe = new Pipeline(new InMemoryBroker(), { name: "bench10" });
  // Each step yields to the timers once, so runs stay live long enough for the 300 ms lease to renew.
  for (let i = 0; i < STEPS; i++) pipe = pipe.step(`s${i}`, (x: unknown) => new Promise((r) => setImmediate(() => r(x))));
  pipe.withTracking(tracking);
  const before = await commandCalls(admin);
  const t = performance.now();
  const cpu = process.cpuUsage();
  const tasks = await Promise.all(Array.from({ length: RUNS }, (_, i) => pipe.kiq(i)));
  await Promise.all(tasks.map((task) => task.waitResult({ timeoutMs: 120_000 })));
  await storage.flush();
  const seconds = (performance.now() - t) / 1000;
  const used = process.cpuUsage(cpu);
  const after = await commandCalls(admin);
  await tracking.close();
  return {
    rate: (RUNS * STEPS * 2) / seconds,
    cpuUs: (used.user + used.system) / (RUNS * STEPS * 2),
    clientCommands: (after.scripts - before.scripts) / RUNS,
    redisCommands: (after.total - before.total - 1) / RUNS,
  };
}

const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[xs.length >> 1]!;

export async function run(): Promise<string> {
  const own = await startOwnRedis();
  const redis = new Redis(own.url);
  const admin = new Redis(own.url);
  try {
    const results = new Map<Variant, Round[]>(VARIANTS.map((v) => [v, []]));
    // A warm-up round, then the variants alternated so the machine's load falls on all of them alike.
    await round(redis, admin, "lease 30 s", 0);
    let n = 1;
    // Each round starts with the next variant, so no variant always runs right after the same one.
    for (let r = 0; r < ROUNDS; r++) {
      for (let k = 0; k < VARIANTS.length; k++) {
        const v = VARIANTS[(r + k) % VARIANTS.length]!;
        results.get(v)!.push(await round(redis, admin, v, n++));
      }
    }
    const base = median(results.get("no leases")!.map((x) => x.rate));
    const baseCpu = median(results.get("no leases")!.map((x) => x.cpuUs));
    const lines = [
      "## leases",
      "",
      `${RUNS} runs of ${STEPS} steps (${RUNS * STEPS * 2} step transitions) per round through real Pipelines, ${ROUNDS} rounds per variant alternated (each round starting with the next variant), own redis-server; load average ${loadavg()[0]!.toFixed(1)}.`,
      "",
      "| variant | transitions/s (median) | vs no leases | rounds | CPU µs per transition (median) | script calls per run | Redis commands per run |",
      "|---|---|---|---|---|---|---|",
    ];
    for (const v of VARIANTS) {
      const rs = results.get(v)!;
      const rate = median(rs.map((x) => x.rate));
      lines.push(
        `| ${v} | ${Math.round(rate).toLocaleString("en")} | ${(((rate - base) / base) * 100).toFixed(1)} % | ${rs.map((x) => Math.round(x.rate / 1000)).join(" / ")} k | ${median(rs.map((x) => x.cpuUs)).toFixed(1)} (${(((median(rs.map((x) => x.cpuUs)) - baseCpu) / baseCpu) * 100).toFixed(1)} %) | ${median(rs.map((x) => x.clientCommands)).toFixed(2)} | ${median(rs.map((x) => x.redisCommands)).toFixed(1)} |`,
      );
    }
    return `${lines.join("\n")}\n`;
  } finally {
    redis.disconnect();
    admin.disconnect();
    await own.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(await run());
