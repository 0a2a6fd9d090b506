/**
 * The tracking manager's one source of change events. It merges two inputs:
 * - the transitions this process records (handed in by the recorder, with the listener lifecycle
 *   events they stand for), emitted at once;
 * - the storage's change feed: runs written by other processes, and deletes from anywhere.
 * It owns the feed's dedupe (per-run versions, counted within a data set's epoch) and the recovery
 * after a feed reset: the runs it has told about are read again, so a subscriber hears what changed
 * and what vanished. Listeners and the live server subscribe here and nowhere else.
 */
import type { Logger } from "../logger";
import type { ListenerEvent } from "./listeners";
import { isFinished, type PipelineStatus } from "./models";
import type { StorageChange, TrackingStorage } from "./storage/types";

export interface StatusChange {
  status: PipelineStatus;
  /** True for a transition recorded by this manager (then `events` says what it was). */
  local: boolean;
  /** Lifecycle events of a local transition, in the order listeners hear them. */
  events: readonly ListenerEvent[];
}

export interface ChangeStreamEvents {
  status: (change: StatusChange) => void;
  deleted: (pipelineId: string) => void;
}

/** What the stream needs of the runs executing in this process. */
export interface LocalRuns {
  /** True while the run executes here (changes to it from elsewhere must reach its executor). */
  isLocal(pipelineId: string): boolean;
  /** Another process cancelled (or deleted) a run executing here: stop it. */
  stopLocal(pipelineId: string, reason: "cancelled" | "deleted"): void;
}

/** Runs whose last seen version is remembered; the oldest are forgotten first. */
const KNOWN_RUNS_KEPT = 10_000;
/** Rounds of rereading after a feed reset (pauses grow from 200 ms to 4 s: about 30 s in all). */
const REREAD_ATTEMPTS = 10;

export class ChangeStream {
  private readonly handlers = { status: new Set<ChangeStreamEvents["status"]>(), deleted: new Set<ChangeStreamEvents["deleted"]>() };
  private storage: TrackingStorage | null = null;
  private unsubscribeFeed: (() => void) | null = null;
  /** pipelineId → last version heard from the feed (0: known, e.g. recorded here, version unknown). */
  private readonly known = new Map<string, number>();
  /** The epoch the versions count in; a new one (versions started over) forgets them. */
  private epoch: string | undefined;

  constructor(
    private readonly origin: string,
    private readonly localRuns: LocalRuns,
    private readonly logger: Logger,
  ) {}

  /** Subscribes a handler; answers its unsubscribe. Handlers that throw are logged, never rethrown. */
  on<E extends keyof ChangeStreamEvents>(event: E, handler: ChangeStreamEvents[E]): () => void {
    const set = this.handlers[event] as Set<ChangeStreamEvents[E]>;
    set.add(handler);
    this.listen();
    return () => void set.delete(handler);
  }

  get subscriberCount(): number {
    return this.handlers.status.size + this.handlers.deleted.size;
  }

  /** Reads from a new storage (or none); what was known of the old one is forgotten. */
  attach(storage: TrackingStorage | null): void {
    this.unsubscribeFeed?.();
    this.unsubscribeFeed = null;
    this.storage = storage;
    this.known.clear();
    this.epoch = undefined;
    if (this.subscriberCount > 0) this.listen();
  }

  /** Starts hearing the storage's feed (also needed, without subscribers, to hear remote cancels). */
  listen(): void {
    if (this.unsubscribeFeed || !this.storage) return;
    this.unsubscribeFeed = this.storage.subscribe((change) => this.onFeedChange(change), { onReset: () => this.onReset() });
  }

  close(): void {
    this.unsubscribeFeed?.();
    this.unsubscribeFeed = null;
  }

  /** A transition recorded here. */
  emitLocal(status: PipelineStatus, events: readonly ListenerEvent[] = []): void {
    this.remember(status.pipelineId, this.known.get(status.pipelineId) ?? 0);
    if (this.handlers.status.size === 0) return;
    this.emitStatus({ status, local: true, events });
  }

  private emitStatus(change: StatusChange): void {
    for (const handler of this.handlers.status) this.call(handler, change, change.status.pipelineId);
  }

  private emitDeleted(pipelineId: string): void {
    this.known.delete(pipelineId);
    for (const handler of this.handlers.deleted) this.call(handler, pipelineId, pipelineId);
  }

  private call<T>(handler: (value: T) => void, value: T, pipelineId: string): void {
    try {
      handler(value);
    } catch (err) {
      this.logger.error({ err, pipelineId }, "a change-stream subscriber threw");
    }
  }

  private onFeedChange(change: StorageChange): void {
    if (change.epoch !== undefined && change.epoch !== this.epoch) {
      // A data set that started over (a Redis restarted empty) counts every run's versions from 1 again.
      if (this.epoch !== undefined) for (const id of this.known.keys()) this.known.set(id, 0);
      this.epoch = change.epoch;
    }
    if (change.deleted) {
      if (this.localRuns.isLocal(change.pipelineId)) this.localRuns.stopLocal(change.pipelineId, "deleted");
      this.emitDeleted(change.pipelineId);
      return;
    }
    // Our own writes were emitted when they were made.
    if (change.origin === this.origin) return;
    if (change.version <= (this.known.get(change.pipelineId) ?? 0)) return;
    // Nobody to tell and nothing to stop here: skip the read (with Redis, one per transition elsewhere).
    if (this.handlers.status.size === 0 && !this.localRuns.isLocal(change.pipelineId)) return;
    void this.readChanged(change).catch((err: unknown) =>
      this.logger.warn({ err, pipelineId: change.pipelineId }, "could not read a changed run"),
    );
  }

  private async readChanged(change: StorageChange): Promise<void> {
    const epoch = this.epoch;
    const status = change.status ?? (await this.storage?.getStatus(change.pipelineId));
    if (!status) return;
    // Re-check after the await: a newer change (or a new epoch) may have been handled meanwhile.
    if (epoch !== this.epoch || change.version <= (this.known.get(change.pipelineId) ?? 0)) return;
    this.remember(change.pipelineId, change.version);
    if (this.localRuns.isLocal(change.pipelineId)) {
      // A run executing here is announced by its recorder; the stored copy may lag behind it (a
      // replay after a gap reads our own writes back). Only a cancel from elsewhere matters: its
      // executor stops it and records the end itself. So does a lease sweep elsewhere that took this
      // process for dead (it froze past its lease): the executor adopts the stored end.
      if (isFinished(status.status)) this.localRuns.stopLocal(change.pipelineId, "cancelled");
      return;
    }
    this.emitStatus({ status, local: false, events: [] });
  }

  /**
   * The feed lost changes it cannot replay: every run told about may have changed or vanished.
   * Each is read again (in small batches, so a large set never floods the storage) and announced.
   */
  private onReset(): void {
    const ids = [...this.known.keys()];
    for (const id of ids) this.known.set(id, 0);
    if (this.subscriberCount === 0 || ids.length === 0) return;
    void this.reread(ids).catch((err: unknown) => this.logger.warn({ err }, "could not reread runs after a change-feed reset"));
  }

  /**
   * Reads each run again; the ones whose read failed (the storage may still be reconnecting when
   * its feed is back) are tried again with a growing pause, for up to ~30 s.
   */
  private async reread(ids: string[]): Promise<void> {
    const storage = this.storage;
    let pending = ids;
    for (let attempt = 0; pending.length > 0 && attempt < REREAD_ATTEMPTS; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(100 * 2 ** attempt, 4_000)).unref());
      if (!storage || storage !== this.storage || !this.unsubscribeFeed) return;
      const failed: string[] = [];
      for (let i = 0; i < pending.length; i += 50) {
        const batch = pending.slice(i, i + 50);
        const reads = await Promise.allSettled(batch.map((id) => storage.getStatus(id)));
        if (storage !== this.storage) return;
        batch.forEach((id, j) => {
          const read = reads[j]!;
          if (read.status === "rejected") failed.push(id);
          else if (!read.value) this.emitDeleted(id);
          else if (!this.localRuns.isLocal(id)) this.emitStatus({ status: read.value, local: false, events: [] });
        });
      }
      pending = failed;
    }
    if (pending.length > 0) this.logger.warn({ runs: pending.length }, "could not reread some runs after a change-feed reset");
  }

  private remember(pipelineId: string, version: number): void {
    this.known.delete(pipelineId);
    this.known.set(pipelineId, version);
    if (this.known.size > KNOWN_RUNS_KEPT) this.known.delete(this.known.keys().next().value as string);
  }
}
