/**
 * A worker's heartbeat into the tracking storage's registry (types.ts): one write at `start()`,
 * then every WORKER_HEARTBEAT_MS, plus one soon after `touch()` (its active steps changed), at most
 * one such extra write per second however often it is touched. `stop()` writes the last one,
 * `{ stopped: true }` by default, so the dashboard lists the worker offline at once.
 *
 * Never throws and never rejects: a storage that fails (Redis down) is logged, and the next beat
 * simply tries again. A storage without a registry makes every write a no-op. Writes never overlap:
 * a beat due while one is in flight is sent right after it, with the info as it is then.
 */
import { defaultLogger, type Logger } from "../logger";
import type { TrackingStorage } from "../tracking/storage/types";
import { WORKER_HEARTBEAT_MS, type HeartbeatOptions, type WorkerInfo } from "./types";

/** The least time between the end of one write and a write asked for by `touch()`. */
export const TOUCH_MIN_INTERVAL_MS = 1_000;

export interface WorkerHeartbeatOptions {
  logger?: Logger;
  /** Default WORKER_HEARTBEAT_MS; shorter in tests. */
  intervalMs?: number;
}

type Registry = Pick<TrackingStorage, "recordWorker">;

export class WorkerHeartbeat {
  private readonly logger: Logger;
  private readonly intervalMs: number;
  private interval: NodeJS.Timeout | null = null;
  private touchTimer: NodeJS.Timeout | null = null;
  private inFlight: Promise<void> | null = null;
  /** A write was asked for while one was in flight. */
  private again = false;
  private lastWriteMs = -Infinity;
  private state: "idle" | "running" | "stopped" = "idle";
  private failing = false;

  constructor(
    private readonly storage: Registry,
    private readonly info: () => WorkerInfo,
    options: WorkerHeartbeatOptions = {},
  ) {
    this.logger = options.logger ?? defaultLogger();
    this.intervalMs = options.intervalMs ?? WORKER_HEARTBEAT_MS;
  }

  /** Writes the first heartbeat and starts the timer (unref'd: it never keeps a process alive). Resolves once written or failed. */
  start(): Promise<void> {
    if (this.state !== "idle") return this.inFlight ?? Promise.resolve();
    this.state = "running";
    this.interval = setInterval(() => void this.beat(), this.intervalMs);
    this.interval.unref();
    return this.beat();
  }

  /** The worker changed (a step started or ended): heartbeat soon, throttled to one extra write a second. */
  touch(): void {
    if (this.state !== "running" || this.touchTimer) return;
    const wait = Math.max(0, this.lastWriteMs + TOUCH_MIN_INTERVAL_MS - Date.now());
    this.touchTimer = setTimeout(() => {
      this.touchTimer = null;
      void this.beat();
    }, wait);
    this.touchTimer.unref();
  }

  /** Stops the timers and writes the final heartbeat (after any write in flight). Resolves once written or failed. */
  async stop(options: HeartbeatOptions = { stopped: true }): Promise<void> {
    if (this.state === "stopped") return;
    const wasRunning = this.state === "running";
    this.state = "stopped";
    if (this.interval) clearInterval(this.interval);
    if (this.touchTimer) clearTimeout(this.touchTimer);
    this.interval = this.touchTimer = null;
    this.again = false;
    await this.inFlight;
    if (wasRunning) await this.write(options);
  }

  private beat(): Promise<void> {
    if (this.state !== "running") return Promise.resolve();
    if (this.inFlight) {
      this.again = true;
      return this.inFlight;
    }
    const run = async (): Promise<void> => {
      do {
        this.again = false;
        await this.write(undefined);
      } while (this.again && this.state === "running");
    };
    this.inFlight = run().finally(() => (this.inFlight = null));
    return this.inFlight;
  }

  private async write(options: HeartbeatOptions | undefined): Promise<void> {
    if (typeof this.storage.recordWorker !== "function") return;
    let info: WorkerInfo | undefined;
    try {
      info = this.info();
      await this.storage.recordWorker(info, options);
      if (this.failing) this.logger.info({ workerId: info.workerId }, "worker heartbeat written again");
      this.failing = false;
    } catch (err) {
      // The first failure of a streak is a warning; the rest (every beat of an outage) stay quiet.
      this.logger[this.failing ? "debug" : "warn"]({ err, workerId: info?.workerId }, "worker heartbeat failed");
      this.failing = true;
    } finally {
      this.lastWriteMs = Date.now();
    }
  }
}
