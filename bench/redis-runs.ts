/** The Redis benchmark's data: bulk runs in a fixed status mix, step records, and deleting its keys afterwards. */
import type { Redis } from "ioredis";
import type { PipelineStatus, Status } from "../lib";
import { makeStep } from "../lib/tracking/storage/contract/helpers";

export const STATUS_MIX: Status[] = [
  "COMPLETED",
  "COMPLETED",
  "COMPLETED",
  "COMPLETED",
  "COMPLETED",
  "COMPLETED",
  "FAILED",
  "FAILED",
  "CANCELLED",
  "RUNNING",
];

export async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 5000);
    cursor = next;
    if (keys.length) await redis.unlink(...keys);
  } while (cursor !== "0");
}

/** A step as the executor records it (the storage battery's builder). */
export const step = makeStep;

export function bulkRun(i: number, now: number, spanMs: number): PipelineStatus {
  const status = STATUS_MIX[i % STATUS_MIX.length]!;
  const startedAt = new Date(now - ((i * 7919) % spanMs));
  const finished = status !== "RUNNING";
  const durationMs = finished ? 200 + ((i * 31) % 5000) : null;
  return {
    pipelineId: `bulk_${i.toString(36)}_${((i * 2654435761) >>> 0).toString(16)}`,
    pipelineName: `etl-${i % 5}`,
    status,
    pipelineType: "sequential",
    startedAt,
    completedAt: finished ? new Date(startedAt.getTime() + durationMs!) : null,
    durationMs,
    steps: ["extract", "transform", "load"].map((n, k) =>
      step(
        n,
        finished
          ? {
              status: status === "FAILED" && k === 2 ? "FAILED" : status === "CANCELLED" && k === 2 ? "CANCELLED" : "COMPLETED",
              startedAt,
              completedAt: startedAt,
              durationMs: k === 2 && status === "CANCELLED" ? null : 50 + ((i + k) % 400),
              attempts: 1,
              workerId: "bench",
            }
          : {},
      ),
    ),
    result: finished ? { rows: i % 1000 } : null,
    error: status === "FAILED" ? `Timeout talking to db-${i % 3}` : null,
  };
}
