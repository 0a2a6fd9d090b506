/**
 * What a client may send over the socket: payloads validated against the API's id rule, and
 * a per-socket token bucket so one client cannot make the server do unbounded work.
 */
import { z } from "zod";
import { PIPELINE_ID_PATTERN } from "pipewatch";

export const roomPayloadSchema = z.object({ pipelineId: z.string().regex(PIPELINE_ID_PATTERN) });

/** A pipeline's Socket.IO room; `step:update` goes only to its members. */
export function pipelineRoom(pipelineId: string): string {
  return `pipeline:${pipelineId}`;
}

export class TokenBucket {
  private tokens: number;
  private last = performance.now();
  /** Events refused so far; a client far over the limit gets disconnected. */
  refused = 0;

  constructor(
    private readonly capacity = 30,
    private readonly refillPerSecond = 10,
  ) {
    this.tokens = capacity;
  }

  take(): boolean {
    const now = performance.now();
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) / 1000) * this.refillPerSecond);
    this.last = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    this.refused++;
    return false;
  }
}
