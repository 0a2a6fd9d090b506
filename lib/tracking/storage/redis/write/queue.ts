/**
 * The Redis storage's writes go through this queue, for two reasons:
 *  - throughput: writes issued in the same tick go out as one pipeline (EVALSHA each), never one
 *    awaited round trip per transition; and up to `maxInFlight` batches are on the wire at once, so
 *    Node builds the next batch while Redis executes the previous one (with one batch in flight the
 *    two took turns and recording stalled at about half the speed either side allows);
 *  - faults: while Redis is down, writes wait here (bounded: past `maxBuffered` the oldest is dropped
 *    with a logged error) and go out in order after the reconnect. A caller never waits on a dead
 *    Redis: its promise resolves once the write is buffered, or after `settleTimeoutMs` in flight.
 * Writes reach Redis in the order they were issued: every batch goes down the same connection, and
 * Redis executes one connection's commands in order (ioredis resends unanswered ones in order after
 * a reconnect). A batch that failed for a connection reason goes back into the queue by issue order
 * and is resent; the scripts are idempotent (contribution diffs, monotonic steps), so a write Redis
 * executed but whose reply was lost is harmless.
 */
import type { RedisClient } from "../client";
import type { Logger } from "../../../../logger";
import { CONNECTION_ERROR, errorText, mergeBySeq, sendBatch, settle, settleError, type Pending } from "./batch";
import { WriteBarriers } from "./barriers";

export interface QueuedWrite {
  command: string;
  args: (string | number)[];
  /**
   * A packed record makes the write mergeable: consecutive writes of the same command and args go
   * out as one call, `args` followed by their records concatenated, and the command answers an
   * array with one reply per record (an error reply in it fails that write alone).
   */
  record?: string;
  /**
   * Sent instead of `command` when the caller was already answered before the write was sent (it was
   * buffered during an outage, or in flight when the connection dropped): the caller took the write
   * as done, so a conditional write goes out unconditionally (best-effort, see finishStatus).
   */
  fallback?: string;
}

export interface WriteQueueOptions {
  maxBuffered: number;
  batchSize?: number;
  /** Batches sent and not yet answered, at most. Default 4. */
  maxInFlight?: number;
  settleTimeoutMs?: number;
}

export class RedisWriteQueue {
  private queue: Pending[] = [];
  /** Batches on the wire, oldest first. */
  private inFlight: Pending[][] = [];
  private scheduled = false;
  private waitingForReady = false;
  private outage = false;
  private dropped = 0;
  private graceTimer: NodeJS.Timeout | undefined;
  private disconnected = false;
  private idleWaiters: (() => void)[] = [];
  /** Writes pushed so far: `barrier` waits until every write up to a seq is done. */
  private pushed = 0;
  private readonly barriers = new WriteBarriers();
  private readonly batchSize: number;
  private readonly maxInFlight: number;
  private readonly settleTimeoutMs: number;

  constructor(
    private readonly redis: RedisClient,
    private readonly logger: Logger,
    private readonly options: WriteQueueOptions,
  ) {
    this.batchSize = options.batchSize ?? 1000;
    this.maxInFlight = Math.max(1, options.maxInFlight ?? 4);
    this.settleTimeoutMs = options.settleTimeoutMs ?? 2000;
    redis.on("close", this.onClose);
    redis.on("ready", this.onReady);
  }

  /** A connection that was up and dropped is an outage even before a write notices it. */
  private readonly onClose = (): void => {
    this.disconnected = true;
    this.epoch++;
    // Nobody waits on a dead connection: what is queued or in flight is resent after the reconnect.
    for (const p of this.queue) settle(p, undefined);
    for (const batch of this.inFlight) for (const p of batch) settle(p, undefined);
    // Reads waiting for those writes go ahead (and fail fast: the storage checks the connection).
    this.barriers.releaseAll();
  };

  private readonly onReady = (): void => {
    this.disconnected = false;
  };

  /**
   * Counts the connection's drops: a write issued in one epoch and a later one issued in another
   * have an outage between them (and, with a Redis restarted without persistence, maybe lost data).
   */
  epoch = 0;

  /** True while writes cannot reach Redis (the connection dropped, or never came up in time). */
  get inOutage(): boolean {
    return this.disconnected || this.outage;
  }

  /** Stops listening to the client (it is the caller's and outlives this queue). */
  close(): void {
    this.redis.off("close", this.onClose);
    this.redis.off("ready", this.onReady);
    this.redis.off("ready", this.onReadyAgain);
    this.waitingForReady = false;
    if (this.graceTimer) clearTimeout(this.graceTimer);
    this.graceTimer = undefined;
  }

  /** Resolves with the script's reply, or with undefined once buffered during an outage. */
  push(write: QueuedWrite): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const pending: Pending = {
        command: write.command,
        fallback: write.fallback,
        args: write.args,
        record: write.record === undefined ? undefined : Buffer.from(write.record),
        resolve,
        reject,
        settled: false,
        seq: ++this.pushed,
      };
      if (this.queue.length >= this.options.maxBuffered) this.dropOldest();
      this.queue.push(pending);
      if (this.redis.status !== "ready") this.handleUnready();
      // A full batch goes out at once: a burst of transitions issued in one macrotask (thousands of
      // runs stepping through microtasks) would otherwise sit here until it ends, with Redis idle.
      else if (this.queue.length >= this.batchSize && this.inFlight.length < this.maxInFlight) void this.flush();
      this.schedule();
    });
  }

  /** How many writes wait to be sent or answered. */
  get size(): number {
    let n = this.queue.length;
    for (const batch of this.inFlight) n += batch.length;
    return n;
  }

  /** Resolves when everything queued has been sent (or after `timeoutMs`). */
  async drain(timeoutMs: number): Promise<boolean> {
    if (this.queue.length === 0 && this.inFlight.length === 0) return true;
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
    if (this.doneUpTo() >= target || !this.ready()) return;
    await this.barriers.wait(target, timeoutMs);
  }

  /** How many writes were pushed so far (the seq of the last one). */
  get issued(): number {
    return this.pushed;
  }

  /** Every write with a seq up to this one was answered (or given up). */
  doneUpTo(): number {
    let first = this.queue[0]?.seq ?? Infinity;
    for (const batch of this.inFlight) {
      const seq = batch[0]?.seq;
      if (seq !== undefined && seq < first) first = seq;
    }
    return first === Infinity ? this.pushed : first - 1;
  }

  private releaseBarriers(): void {
    if (!this.barriers.empty) this.barriers.release(this.doneUpTo());
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
    this.dropped++;
    if (this.dropped === 1 || this.dropped % 1000 === 0) {
      this.logger.error(
        { dropped: this.dropped, maxBuffered: this.options.maxBuffered },
        "tracking write buffer full while Redis is unavailable: dropped the oldest writes",
      );
    }
    this.releaseBarriers();
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight.length >= this.maxInFlight) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private waitForReady(): void {
    if (this.waitingForReady) return;
    this.waitingForReady = true;
    this.redis.once("ready", this.onReadyAgain);
  }

  private readonly onReadyAgain = (): void => {
    this.waitingForReady = false;
    if (this.outage) {
      this.logger.info({ buffered: this.queue.length, dropped: this.dropped }, "Redis is back: flushing buffered tracking writes");
      this.outage = false;
      this.dropped = 0;
    }
    this.schedule();
  };

  private async flush(): Promise<void> {
    if (this.inFlight.length >= this.maxInFlight) return;
    if (this.queue.length === 0) {
      if (this.inFlight.length === 0) this.notifyIdle();
      return;
    }
    if (!this.ready()) return this.handleUnready();
    const batch = this.queue.splice(0, this.batchSize);
    this.inFlight.push(batch);
    const timer = setTimeout(() => batch.forEach((p) => settle(p, undefined)), this.settleTimeoutMs);
    let retry: Pending[] = [];
    try {
      retry = await sendBatch(this.redis, batch, this.logger);
    } catch (err) {
      if (!CONNECTION_ERROR.test(errorText(err)) && this.ready()) {
        this.logger.error({ err }, "a batch of tracking writes failed in Redis");
        batch.forEach((p) => settleError(p, err));
      } else {
        retry = batch;
      }
    } finally {
      clearTimeout(timer);
      const at = this.inFlight.indexOf(batch);
      if (at >= 0) this.inFlight.splice(at, 1);
    }
    if (retry.length) {
      this.noteOutage();
      this.requeue(retry);
      while (this.queue.length > this.options.maxBuffered) this.dropOldest();
      retry.forEach((p) => settle(p, undefined));
    }
    this.releaseBarriers();
    if (this.ready()) this.schedule();
    else if (this.queue.length) this.waitForReady();
    if (this.queue.length === 0 && this.inFlight.length === 0) this.notifyIdle();
  }

  /** Retried writes are older than anything pushed since: merge them back by issue order. */
  private requeue(retry: Pending[]): void {
    this.queue = mergeBySeq(retry, this.queue);
  }

  private notifyIdle(): void {
    this.releaseBarriers();
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
