/**
 * Leases on Redis: renewals go through the write queue (ordered after the run's start, merged with
 * other renewals of the same holder and length into one script call); a sweep claims expired leases
 * in one script (lua/claim-leases.lua, judged by Redis TIME) and ends each claimed run through
 * finishStatus, the compare-and-set every end goes through.
 */
import type { Logger } from "../../../logger";
import { isFinished, type PipelineStatus } from "../../models";
import { lostWorkerStatus } from "../lease-end";
import type { ExpiredLease, FinishOutcome, WriteOptions } from "../types";

/** Leases claimed per script call: a sweep of thousands of dead runs never holds Redis for long. */
const CLAIM_BATCH = 200;
/** How long a claimed lease is hidden from other sweepers; a sweeper that died meanwhile is retried after it. */
const CLAIM_MS = 30_000;
/** The holder recorded when a lease names none. */
const UNKNOWN_WORKER = "unknown";

export interface LeaseSweepDeps {
  logger: Logger;
  claim(batch: number, claimMs: number): Promise<unknown>;
  readRun(pipelineId: string): Promise<PipelineStatus | null>;
  finish(status: PipelineStatus, options: WriteOptions): Promise<FinishOutcome>;
}

/** Record of a renewal call: ids each followed by RS (lua/renew-leases.lua). */
export function leaseRecord(pipelineIds: readonly string[]): string {
  return pipelineIds.map((id) => `${id}\x1e`).join("");
}

export async function sweepRedisLeases(deps: LeaseSweepDeps): Promise<ExpiredLease[]> {
  const ended: ExpiredLease[] = [];
  for (;;) {
    const reply = (await deps.claim(CLAIM_BATCH, CLAIM_MS)) as (string | number)[];
    const nowMs = Number(reply[0]);
    const claimed: { id: string; workerId: string }[] = [];
    for (let i = 1; i + 1 < reply.length; i += 2) claimed.push({ id: String(reply[i]), workerId: String(reply[i + 1]) || UNKNOWN_WORKER });
    const outcomes = await Promise.all(
      claimed.map(async ({ id, workerId }): Promise<ExpiredLease | null> => {
        let run: PipelineStatus | null;
        try {
          run = await deps.readRun(id);
        } catch (err) {
          // One unreadable record must not stop the sweep of the others; its claim expires and is retried.
          deps.logger.error({ err, pipelineId: id }, "a lease sweep could not read a run");
          return null;
        }
        if (!run || isFinished(run.status)) return null;
        // Origin left empty: every manager, the sweeper's own included, hears it on the feed.
        const outcome = await deps.finish(lostWorkerStatus(run, workerId, nowMs), { origin: "" });
        return outcome.applied && outcome.current ? { status: outcome.current, workerId } : null;
      }),
    );
    for (const outcome of outcomes) if (outcome) ended.push(outcome);
    if (claimed.length < CLAIM_BATCH) return ended;
  }
}
