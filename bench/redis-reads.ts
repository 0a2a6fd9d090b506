/** The Redis benchmark's reads: list and metrics latencies, storage calls under concurrent load, and scaled-up rollups. */
import type { Redis } from "ioredis";
import type { RedisPipelineStorage } from "../lib";

export function pct(samples: number[], p: number): number {
  const sorted = samples.slice().sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export async function time(n: number, fn: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    out.push(performance.now() - t);
  }
  return out;
}

export async function listAndMetrics(storage: RedisPipelineStorage): Promise<{ list: number[]; q: number[]; metrics: number[] }> {
  await time(20, () => storage.listPage({ status: "FAILED", limit: 50 }));
  const list = await time(300, () => storage.listPage({ status: "FAILED", limit: 50 }));
  const q = await time(100, () => storage.listPage({ q: "etl-3", limit: 50 }));
  const metrics = await time(300, () => storage.getMetrics({ days: 7 }));
  return { list, q, metrics };
}

export interface LoadResult {
  rate: number;
  p50: number;
  p99: number;
  /** This process's CPU time per call (steadier than the rate on a shared machine). */
  cpuUs: number;
}

/**
 * Storage calls alone under load: `concurrency` callers loop `fn` for `durationMs` (after a warm-up
 * of the same length / 4); answers calls/s and the latency percentiles of each call.
 */
export async function underLoad(fn: () => Promise<unknown>, concurrency = 10, durationMs = 4000): Promise<LoadResult> {
  const loop = async (until: number, samples: number[] | null) => {
    while (performance.now() < until) {
      const t = performance.now();
      await fn();
      samples?.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, () => loop(performance.now() + durationMs / 4, null)));
  const samples: number[] = [];
  const cpu = process.cpuUsage();
  const t = performance.now();
  await Promise.all(Array.from({ length: concurrency }, () => loop(t + durationMs, samples)));
  const used = process.cpuUsage(cpu);
  return {
    rate: samples.length / ((performance.now() - t) / 1000),
    p50: pct(samples, 50),
    p99: pct(samples, 99),
    cpuUs: (used.user + used.system) / samples.length,
  };
}

/** What GET /api/pipelines asks of the storage: a page (status filter) and the status counts, together. */
export const listWithCounts = (storage: RedisPipelineStorage) => () =>
  Promise.all([storage.listPage({ status: "FAILED", limit: 50 }), storage.countByStatus()]);

/** Adds the rollups of `factor - 1` more copies of every stored day: what 10× the runs would write. */
export async function scaleRollups(redis: Redis, storage: RedisPipelineStorage, factor: number): Promise<void> {
  const pipeline = redis.pipeline();
  for (let d = 0; d < 8; d++) {
    const day = new Date(Date.now() - d * 86_400_000).toISOString().slice(0, 10);
    for (const key of [storage.keys.metricsDay(day), storage.keys.metricsReasons(day), storage.keys.metricsSteps(day)]) {
      const hash = await redis.hgetall(key);
      for (const [field, value] of Object.entries(hash)) {
        if (field.startsWith("m|") || field === "~v") continue;
        const n = Number(value) * (factor - 1);
        if (Number.isInteger(n)) pipeline.hincrby(key, field, n);
        else pipeline.hincrbyfloat(key, field, String(n));
      }
    }
    // A new "~v" for the day, as every rollup write gives it, so readers do not reuse the day parsed before.
    pipeline.hset(storage.keys.metricsDay(day), "~v", await redis.incr(`${storage.keys.prefix}m:seq`));
  }
  await pipeline.exec();
}
