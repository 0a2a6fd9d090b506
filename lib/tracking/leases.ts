/**
 * The tracking manager's leases: while a run executes in this process, its lease in the storage is
 * renewed (one timer for every live run of the manager, one storage call per holder, every
 * leaseMs / 3); and every manager sweeps the storage for leases that expired (a process that died
 * or froze), every min(5 s, leaseMs / 3). Both timers are unref'd: they never keep a process alive.
 * A storage without `renewLeases` / `sweepExpiredLeases` simply has no leases.
 */
import { hostname } from "node:os";
import type { Logger } from "../logger";
import { StorageUnavailableError } from "./storage/errors";
import type { TrackingStorage } from "./storage/types";

export const DEFAULT_LEASE_MS = 30_000;
/** The longest pause between two sweeps, whatever the lease length. */
const MAX_SWEEP_EVERY_MS = 5000;

export interface LeaseKeeperOptions {
  leaseMs: number;
  /** The holder written for every lease of this manager; else the run's broker's, else this process's. */
  workerId: string | null;
  logger: Logger;
  storage: () => TrackingStorage | null;
}

export function defaultWorkerId(): string {
  return `${hostname()}:${process.pid}`;
}

export class LeaseKeeper {
  /** Live runs of this process → the holder named in their lease. */
  private readonly held = new Map<string, string>();
  private renewTimer: NodeJS.Timeout | null = null;
  private sweepTimer: NodeJS.Timeout | null = null;
  private current: Promise<number> | null = null;
  private stopped = false;
  /** Runs started in the current macrotask whose first lease is not asked for yet, by holder. */
  private readonly pendingHolds = new Map<string, string[]>();

  constructor(private readonly options: LeaseKeeperOptions) {
    if (!Number.isFinite(options.leaseMs) || options.leaseMs < 30) throw new RangeError("leaseMs must be a number of at least 30");
  }

  get leaseMs(): number {
    return this.options.leaseMs;
  }

  /** Starts sweeping the storage a manager was given (if it knows leases). */
  attach(storage: TrackingStorage): void {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = null;
    if (this.stopped || typeof storage.sweepExpiredLeases !== "function") return;
    this.sweepTimer = setInterval(() => void this.sweep(), Math.min(MAX_SWEEP_EVERY_MS, this.options.leaseMs / 3));
    this.sweepTimer.unref();
  }

  /** A run starts executing here: its lease is taken at once (queued right after its start). */
  hold(pipelineId: string, brokerWorkerId: string | undefined): void {
    const storage = this.options.storage();
    if (this.stopped || typeof storage?.renewLeases !== "function") return;
    const workerId = this.options.workerId ?? brokerWorkerId ?? defaultWorkerId();
    this.held.set(pipelineId, workerId);
    // One call for every run started in this macrotask (a burst of kiq()s), after their starts:
    // a lease per start would split the storage's merged start writes into one call each.
    if (this.pendingHolds.size === 0) queueMicrotask(() => this.flushHolds());
    const pending = this.pendingHolds.get(workerId);
    if (pending) pending.push(pipelineId);
    else this.pendingHolds.set(workerId, [pipelineId]);
    if (!this.renewTimer) {
      this.renewTimer = setInterval(() => this.renewAll(), this.options.leaseMs / 3);
      this.renewTimer.unref();
    }
  }

  /** The run ended here (its end removed the lease in the storage). */
  release(pipelineId: string): void {
    this.held.delete(pipelineId);
    if (this.held.size === 0 && this.renewTimer) {
      clearInterval(this.renewTimer);
      this.renewTimer = null;
    }
  }

  /** Ends the runs whose lease expired; answers how many it ended. A call during a sweep shares that sweep. */
  sweep(): Promise<number> {
    this.current ??= this.sweepOnce().finally(() => (this.current = null));
    return this.current;
  }

  private async sweepOnce(): Promise<number> {
    const storage = this.options.storage();
    if (this.stopped || typeof storage?.sweepExpiredLeases !== "function") return 0;
    try {
      const ended = await storage.sweepExpiredLeases();
      for (const { status, workerId } of ended) {
        this.options.logger.warn({ pipelineId: status.pipelineId, workerId }, "ended a run whose worker was lost (lease expired)");
      }
      return ended.length;
    } catch (err) {
      // During an outage every sweep fails fast; the outage itself is logged elsewhere.
      if (err instanceof StorageUnavailableError) this.options.logger.debug({ err }, "lease sweep skipped: storage unavailable");
      else this.options.logger.warn({ err }, "lease sweep failed; the next one retries");
      return 0;
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.renewTimer) clearInterval(this.renewTimer);
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.renewTimer = this.sweepTimer = null;
    this.held.clear();
    this.pendingHolds.clear();
  }

  private flushHolds(): void {
    const storage = this.options.storage();
    const holds = [...this.pendingHolds];
    this.pendingHolds.clear();
    if (!storage || this.stopped) return;
    for (const [workerId, ids] of holds) this.renew(storage, ids, workerId);
  }

  private renewAll(): void {
    const storage = this.options.storage();
    if (!storage) return;
    const byHolder = new Map<string, string[]>();
    for (const [id, workerId] of this.held) {
      const ids = byHolder.get(workerId);
      if (ids) ids.push(id);
      else byHolder.set(workerId, [id]);
    }
    for (const [workerId, ids] of byHolder) this.renew(storage, ids, workerId);
  }

  private renew(storage: TrackingStorage, ids: string[], workerId: string): void {
    let write: Promise<void>;
    try {
      write = storage.renewLeases!(ids, this.options.leaseMs, workerId);
    } catch (err) {
      write = Promise.reject(err);
    }
    write.catch((err: unknown) => this.options.logger.warn({ err, runs: ids.length }, "could not renew run leases"));
  }
}
