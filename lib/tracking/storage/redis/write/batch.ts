/**
 * One batch of the write queue (queue.ts) on the wire: consecutive mergeable writes (same
 * command and leading args, each with a packed record) become one call whose records are concatenated
 * (up to MAX_MERGED of them), the calls go out as one pipeline, and each write is settled with its own
 * reply; writes that failed for a connection reason come back to be resent.
 */
import type { RedisClient } from "../client";
import type { Logger } from "../../../../logger";

/** One merged call stays short in Redis (a script blocks the server while it runs). */
const MAX_MERGED = 128;
const MAX_MERGED_BYTES = 1 << 20;

/** A write waiting in the queue or on the wire. */
export interface Pending {
  command: string;
  fallback: string | undefined;
  args: (string | number)[];
  /** The record as bytes at once: a pending write then holds one small Buffer, not a string tree. */
  record: Buffer | undefined;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
  settled: boolean;
  seq: number;
}

export const CONNECTION_ERROR =
  /Connection is closed|max retries|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|Stream isn't writeable|LOADING|Socket closed/i;

/** One pipeline for the batch; settles each write with its reply; answers the writes to resend. */
export async function sendBatch(redis: RedisClient, batch: Pending[], logger: Logger): Promise<Pending[]> {
  const pipeline = redis.pipeline();
  const calls = pipeline as unknown as Record<string, (...args: (string | number)[]) => unknown>;
  const groups: Pending[][] = [];
  let last: Pending[] | undefined;
  let lastBytes = 0;
  for (const p of batch) {
    if (p.settled && p.fallback !== undefined) {
      p.command = p.fallback;
      p.fallback = undefined;
    }
    const bytes = p.record?.length ?? 0;
    if (last && p.record !== undefined && last.length < MAX_MERGED && lastBytes + bytes <= MAX_MERGED_BYTES && sameCall(last[0]!, p)) {
      last.push(p);
      lastBytes += bytes;
    } else {
      groups.push((last = [p]));
      lastBytes = bytes;
    }
  }
  for (const group of groups) {
    const first = group[0]!;
    if (first.record === undefined) {
      calls[first.command]!(...first.args);
      continue;
    }
    // As a Buffer: ioredis then copies bytes instead of measuring and re-encoding a long string.
    const records = group.length === 1 ? first.record : Buffer.concat(group.map((p) => p.record!));
    (calls[first.command] as (...args: (string | number | Buffer)[]) => unknown)(...first.args, records);
  }
  const results = (await pipeline.exec()) ?? [];
  const retry: Pending[] = [];
  groups.forEach((group, g) => {
    const [err, value] = results[g] ?? [new Error("Connection is closed (no reply)"), null];
    group.forEach((p, k) => {
      const reply = p.record !== undefined && Array.isArray(value) ? value[k] : value;
      if (!err && !(reply instanceof Error)) settle(p, reply);
      else if (err && (CONNECTION_ERROR.test(err.message) || redis.status !== "ready")) retry.push(p);
      else if (p.settled) logger.error({ err: err ?? reply, command: p.command }, "a tracking write failed in Redis");
      else settleError(p, err ?? reply);
    });
  });
  return retry;
}

/** Retried writes (older than anything pushed since) merged back into the queue by issue order. */
export function mergeBySeq(retry: Pending[], queue: Pending[]): Pending[] {
  const merged: Pending[] = [];
  let i = 0;
  let j = 0;
  while (i < retry.length || j < queue.length) {
    const a = retry[i];
    const b = queue[j];
    if (a && (!b || a.seq < b.seq)) {
      merged.push(a);
      i++;
    } else if (b) {
      merged.push(b);
      j++;
    }
  }
  return merged;
}

/** Two mergeable writes go into one call when their command and leading args agree. */
function sameCall(a: Pending, b: Pending): boolean {
  if (a.record === undefined || a.command !== b.command || a.args.length !== b.args.length) return false;
  for (let i = 0; i < a.args.length; i++) if (a.args[i] !== b.args[i]) return false;
  return true;
}

export function settle(p: Pending, value: unknown): void {
  if (p.settled) return;
  p.settled = true;
  p.resolve(value);
}

export function settleError(p: Pending, err: unknown): void {
  if (p.settled) return;
  p.settled = true;
  p.reject(err);
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
