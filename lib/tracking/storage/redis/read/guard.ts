/**
 * Reads of the Redis storage fail fast while Redis is unreachable, so a server answers 503 at once
 * instead of after ioredis' offline queue gives up (seconds, then a 500).
 */
import type { RedisClient } from "../client";
import { StorageUnavailableError } from "../../errors";

/** How long a read waits for a client still making its first connection. */
const READY_WAIT_MS = 1000;

export class RedisReadGuard {
  /** Rejecters of the reads in progress: a dropped connection fails them at once. */
  private readonly pendingReads = new Set<(err: Error) => void>();
  private readyWait: Promise<void> | null = null;

  /** `inOutage`: the write queue knows of an outage the client's status may not show yet. */
  constructor(
    private readonly redis: RedisClient,
    private readonly inOutage: () => boolean,
  ) {
    redis.on("close", this.failReads);
  }

  /** Stops listening to the client (the caller's, it outlives the storage). */
  close(): void {
    this.redis.off("close", this.failReads);
  }

  /**
   * Every read: fails at once with StorageUnavailableError while Redis is down or reconnecting
   * (ioredis would otherwise hold the commands in its offline queue for many seconds), waits at most
   * READY_WAIT_MS for a client still connecting, and fails when the connection drops mid-read.
   * A connection that hangs without closing is the client's `commandTimeout` to handle.
   */
  async read<T>(load: () => Promise<T>): Promise<T> {
    await this.whenReady();
    return new Promise<T>((resolve, reject) => {
      this.pendingReads.add(reject);
      load()
        .then(resolve, reject)
        .finally(() => this.pendingReads.delete(reject));
    });
  }

  private readonly failReads = (): void => {
    if (this.pendingReads.size === 0) return;
    const err = new StorageUnavailableError("Redis connection lost during a tracking storage read");
    for (const reject of this.pendingReads) reject(err);
    this.pendingReads.clear();
  };

  /** Resolves when the connection is ready; throws StorageUnavailableError when it is not (soon). */
  async whenReady(): Promise<void> {
    const status = this.redis.status;
    if (status === "ready") return;
    if (this.inOutage() || !["wait", "connecting", "connect"].includes(status)) throw unavailable(status);
    // A fresh client still connecting: one shared wait, so concurrent reads add no listeners each.
    this.readyWait ??= new Promise<void>((resolve, reject) => {
      const done = (err?: Error) => {
        clearTimeout(timer);
        this.redis.off("ready", onReady);
        this.redis.off("close", onClose);
        this.readyWait = null;
        if (err) reject(err);
        else resolve();
      };
      const onReady = () => done();
      const onClose = () => done(unavailable("closed"));
      const timer = setTimeout(() => done(unavailable(this.redis.status)), READY_WAIT_MS);
      this.redis.on("ready", onReady);
      this.redis.on("close", onClose);
      if (status === "wait") this.redis.connect().catch(() => undefined);
    });
    return this.readyWait;
  }
}

function unavailable(status: string): StorageUnavailableError {
  return new StorageUnavailableError(`Redis is unavailable (connection ${status}): tracking storage reads fail until it is back`);
}
