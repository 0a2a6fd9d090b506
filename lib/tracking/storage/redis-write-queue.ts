/**
 * The Redis storage's writes go through this queue, for two reasons:
 *  - throughput: writes issued in the same tick go out as one pipeline (EVALSHA each), never one
 *    awaited round trip per transition;
 *  - faults: while Redis is down, writes wait here (bounded: past `maxBuffered` the oldest is dropped
 *    with a logged error) and go out in order after the reconnect. A caller never waits on a dead
 *    Redis: its promise resolves once the write is buffered, or after `settleTimeoutMs` in flight.
 * One batch is in flight at a time, so writes reach Redis in the order they were issued. A batch that
 * failed for a connection reason is put back at the front and resent; the scripts are idempotent
 * (contribution diffs, monotonic steps), so a write Redis executed but whose reply was lost is harmless.
 */
import type { Redis } from "ioredis";
import type { Logger } from "../../logger";

export interface QueuedWrite {
  command: string;
  args: (string | number)[];
  /**
   * Consecutive mergeable writes of the same command go out as one call with their arguments
   * concatenated; the command answers an array with one reply per write.
   */
  mergeable?: boolean;
}

const MAX_MERGED = 64;

interface Pending extends QueuedWrite {
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
  settled: boolean;
  seq: number;
}

export interface WriteQueueOptions {
  maxBuffered: number;
  batchSize?: number;
  settleTimeoutMs?: number;
}

const CONNECTION_ERROR = /Connection is closed|max retries|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|Stream isn't writeable|LOADING|Socket closed/i;

export class RedisWriteQueue {
  private queue: Pending[] = [];
  private inFlight = false;
  private scheduled = false;
  private waitingForReady = false;
  private outage = false;
  private dropped = 0;
  private graceTimer: NodeJS.Timeout | undefined;
  private disconnected = false;
  private sending: Pending[] = [];
  private idleWaiters: (() => void)[] = [];
  /** Writes pushed / sent (or given up) so far: `barrier` waits for the second to reach the first. */
  private pushed = 0;
  private sent = 0;
  private barriers: { target: number; release: () => void }[] = [];
  private readonly batchSize: number;
  private readonly settleTimeoutMs: number;

  constructor(private readonly redis: Redis, private readonly logger: Logger, private readonly options: WriteQueueOptions) {
    this.batchSize = options.batchSize ?? 1000;
    this.settleTimeoutMs = options.settleTimeoutMs ?? 2000;
    // A connection that was up and dropped is an outage even before a write notices it.
    redis.on("close", () => {
      this.disconnected = true;
      // Nobody waits on a dead connection: what is queued or in flight is resent after the reconnect.
      for (const p of this.queue) settle(p, undefined);
      for (const p of this.sending) settle(p, undefined);
    });
    redis.on("ready", () => {
      this.disconnected = false;
    });
  }

  /** Resolves with the script's reply, or with undefined once buffered during an outage. */
  push(write: QueuedWrite): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const pending: Pending = { ...write, resolve, reject, settled: false, seq: ++this.pushed };
      if (this.queue.length >= this.options.maxBuffered) this.dropOldest();
      this.queue.push(pending);
      if (!this.ready()) this.handleUnready();
      this.schedule();
    });
  }

  /** How many writes wait to be sent. */
  get size(): number {
    return this.queue.length + (this.inFlight ? 1 : 0);
  }

  /** Resolves when everything queued has been sent (or after `timeoutMs`). */
  async drain(timeoutMs: number): Promise<boolean> {
    if (this.queue.length === 0 && !this.inFlight) return true;
    let timer: NodeJS.Timeout | undefined;
    const idle = new Promise<boolean>((resolve) => this.idleWaiters.push(() => resolve(true)));
    const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    const drained = await Promise.race([idle, timeout]);
    clearTimeout(timer);
    return drained;
  }

  /**
   * Resolves once every write pushed before this call was sent, so a process reads its own writes.
   * Does not wait while Redis is down (the read will fail or see older data), nor past `timeoutMs`.
   */
  async barrier(timeoutMs: number): Promise<void> {
    const target = this.pushed;
    if (this.sent >= target || !this.ready()) return;
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      this.barriers.push({ target, release: resolve });
      timer = setTimeout(resolve, timeoutMs);
    });
    clearTimeout(timer);
  }

  private markSent(seq: number): void {
    if (seq > this.sent) this.sent = seq;
    if (this.barriers.length === 0) return;
    this.barriers = this.barriers.filter((b) => {
      if (b.target > this.sent) return true;
      b.release();
      return false;
    });
  }

  private ready(): boolean {
    return this.redis.status === "ready";
  }

  /**
   * While a fresh client is still connecting, callers get a grace period (a run's first write should
   * be stored when `kiq` resolves); during an outage they are released at once.
   */
  private handleUnready(): void {
    const status = this.redis.status;
    if (status === "wait") void this.redis.connect().catch(() => undefined);
    if (this.outage || this.disconnected || !["wait", "connecting", "connect"].includes(status)) {
      this.noteOutage();
      for (const p of this.queue) settle(p, undefined);
    } else if (!this.graceTimer) {
      this.graceTimer = setTimeout(() => {
        this.graceTimer = undefined;
        if (this.ready()) return;
        this.noteOutage();
        for (const p of this.queue) settle(p, undefined);
      }, this.settleTimeoutMs);
      this.graceTimer.unref();
    }
    this.waitForReady();
  }

  private noteOutage(): void {
    if (this.outage) return;
    this.outage = true;
    this.logger.error({ redisStatus: this.redis.status }, "Redis unavailable: buffering tracking writes until it reconnects");
  }

  private dropOldest(): void {
    const oldest = this.queue.shift();
    if (oldest) settle(oldest, undefined);
    if (oldest) this.markSent(oldest.seq);
    this.dropped++;
    if (this.dropped === 1 || this.dropped % 1000 === 0) {
      this.logger.error({ dropped: this.dropped, maxBuffered: this.options.maxBuffered },
        "tracking write buffer full while Redis is unavailable: dropped the oldest writes");
    }
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private waitForReady(): void {
    if (this.waitingForReady) return;
    this.waitingForReady = true;
    this.redis.once("ready", () => {
      this.waitingForReady = false;
      if (this.outage) {
        this.logger.info({ buffered: this.queue.length, dropped: this.dropped }, "Redis is back: flushing buffered tracking writes");
        this.outage = false;
        this.dropped = 0;
      }
      this.schedule();
    });
  }

  private async flush(): Promise<void> {
    if (this.inFlight) return;
    if (this.queue.length === 0) return this.notifyIdle();
    if (!this.ready()) return this.handleUnready();
    this.inFlight = true;
    const batch = this.queue.splice(0, this.batchSize);
    this.sending = batch;
    const timer = setTimeout(() => batch.forEach((p) => settle(p, undefined)), this.settleTimeoutMs);
    let retry: Pending[] = [];
    try {
      const pipeline = this.redis.pipeline();
      const calls = pipeline as unknown as Record<string, (...args: (string | number)[]) => unknown>;
      const groups: Pending[][] = [];
      for (const p of batch) {
        const last = groups[groups.length - 1];
        if (p.mergeable && last && last[0]!.mergeable && last[0]!.command === p.command && last.length < MAX_MERGED) last.push(p);
        else groups.push([p]);
      }
      for (const group of groups) calls[group[0]!.command]!(...(group.length === 1 ? group[0]!.args : group.flatMap((p) => p.args)));
      const results = (await pipeline.exec()) ?? [];
      const replies: [Error | null, unknown][] = [];
      groups.forEach((group, g) => {
        const [err, value] = results[g] ?? [new Error("Connection is closed (no reply)"), null];
        group.forEach((p, k) => replies.push(err ? [err, null] : [null, p.mergeable && Array.isArray(value) ? value[k] : value]));
      });
      batch.forEach((p, i) => {
        const [err, value] = replies[i]!;
        if (!err) settle(p, value);
        else if (CONNECTION_ERROR.test(err.message) || !this.ready()) retry.push(p);
        else if (p.settled) this.logger.error({ err, command: p.command }, "a tracking write failed in Redis");
        else settleError(p, err);
      });
    } catch (err) {
      if (!CONNECTION_ERROR.test(errorText(err)) && this.ready()) {
        this.logger.error({ err }, "a batch of tracking writes failed in Redis");
        batch.forEach((p) => settleError(p, err));
      } else {
        retry = batch;
      }
    } finally {
      clearTimeout(timer);
      this.inFlight = false;
      this.sending = [];
    }
    const lastDone = retry.length ? retry[0]!.seq - 1 : batch[batch.length - 1]?.seq;
    if (lastDone !== undefined) this.markSent(lastDone);
    if (retry.length) {
      this.noteOutage();
      this.queue.unshift(...retry);
      while (this.queue.length > this.options.maxBuffered) this.dropOldest();
      retry.forEach((p) => settle(p, undefined));
    }
    if (this.ready()) this.schedule();
    else if (this.queue.length) this.waitForReady();
    if (this.queue.length === 0) this.notifyIdle();
  }

  private notifyIdle(): void {
    this.markSent(this.pushed);
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}

function settle(p: Pending, value: unknown): void {
  if (p.settled) return;
  p.settled = true;
  p.resolve(value);
}

function settleError(p: Pending, err: unknown): void {
  if (p.settled) return;
  p.settled = true;
  p.reject(err);
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
