/**
 * In-process storage: a Map by id plus one array kept in oldest-first order for lists, paging and
 * history. Bounded: past `maxPipelines` it evicts the oldest finished run, never a running one.
 * A run in progress is held as objects (compact.ts), a finished one sealed (sealed-run.ts).
 * Every read and write copies, so callers never share mutable state with the store.
 */
import { MetricsAccumulator } from "../metrics";
import type { MetricsQuery, PipelineMetrics } from "../metrics-types";
import { STATUSES, isFinished, type PipelineStatus, type Status, type StepStatus } from "../models";
import { toStoredRun, toStoredStep, type StoredRun } from "./compact";
import { SealedRun, StepShapes, addSealedToMetrics, sealRun, unsealRun } from "./sealed-run";
import { compareNewestFirst, decodeCursor, encodeCursor, type CursorPosition } from "./cursor";
import {
  DEFAULT_PAGE_LIMIT,
  type CleanupOptions,
  type ExpiredLease,
  type FeedEvents,
  type FinishOutcome,
  type HistoryQuery,
  type ListFilter,
  type Page,
  type PageQuery,
  type StorageChange,
  type TrackingStorage,
  type WriteOptions,
} from "./types";
import type { HeartbeatOptions, WorkerInfo, WorkerRecord } from "../../workers/types";
import { stepRank } from "./step-order";
import { checkCleanupLimit } from "./cleanup-limit";
import { lostWorkerStatus } from "./lease-end";
import { MemoryFeed } from "./memory-feed";
import { MemoryLeases } from "./memory-leases";
import { MemoryWorkers } from "./memory-workers";
import { expand, summaryOf, withEndedSteps, type HeldRun } from "./memory-runs";

export interface InMemoryStorageOptions {
  /** Default 10 000. */
  maxPipelines?: number;
}

/** A held run and its place in `ordered` (the entry is its own cursor position). */
interface Entry extends CursorPosition {
  /** Replaced, never mutated, on every write: a reference to it is a stable snapshot. */
  run: HeldRun;
  version: number;
}

export class InMemoryPipelineStorage implements TrackingStorage {
  readonly kind = "memory";
  readonly maxPipelines: number;
  private readonly byId = new Map<string, Entry>();
  /** Oldest first by (startedAt, id), so a new run is a push; lists walk it backwards. */
  private readonly ordered: Entry[] = [];
  private readonly counts = Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<Status, number>;
  private readonly feed = new MemoryFeed();
  private readonly shapes = new StepShapes();
  private readonly leases = new MemoryLeases();
  private readonly workers = new MemoryWorkers();

  constructor(options: InMemoryStorageOptions = {}) {
    const max = options.maxPipelines ?? 10_000;
    if (!Number.isInteger(max) || max < 1) throw new RangeError("maxPipelines must be a positive integer");
    this.maxPipelines = max;
  }

  async saveStatus(status: PipelineStatus, options?: WriteOptions): Promise<void> {
    this.write(status, options);
  }

  /** Check and write with no await between them: atomic in one process. */
  async finishStatus(status: PipelineStatus, options?: WriteOptions): Promise<FinishOutcome> {
    return this.finishNow(status, options);
  }

  /** Leases live on this process's clock: the store and every writer share it. */
  async renewLeases(pipelineIds: readonly string[], leaseMs: number, workerId: string): Promise<void> {
    this.leases.renew(pipelineIds, Date.now() + leaseMs, workerId, (id) => {
      const entry = this.byId.get(id);
      return entry !== undefined && !isFinished(entry.run.status);
    });
  }

  /** Synchronous from the first check to the last write: two sweeps or a sweep and an end never interleave. */
  async sweepExpiredLeases(now: Date = new Date()): Promise<ExpiredLease[]> {
    const ended: ExpiredLease[] = [];
    for (const { pipelineId, workerId } of this.leases.takeExpired(now.getTime())) {
      const entry = this.byId.get(pipelineId);
      if (!entry || isFinished(entry.run.status)) continue;
      const outcome = this.finishNow(lostWorkerStatus(expand(entry.run), workerId, now.getTime()), undefined);
      if (outcome.applied && outcome.current) ended.push({ status: outcome.current, workerId });
    }
    return ended;
  }

  /** Workers are judged on this process's clock, like leases. */
  async recordWorker(info: WorkerInfo, options?: HeartbeatOptions): Promise<void> {
    this.workers.record(info, options, Date.now());
  }

  async listWorkers(): Promise<WorkerRecord[]> {
    return this.workers.list(Date.now());
  }

  private finishNow(status: PipelineStatus, options: WriteOptions | undefined): FinishOutcome {
    if (!isFinished(status.status)) throw new TypeError(`finishStatus needs a finished status, not ${status.status}`);
    const entry = this.byId.get(status.pipelineId);
    if (!entry) return { applied: false, current: null };
    if (isFinished(entry.run.status)) return { applied: false, current: expand(entry.run) };
    const final = entry.run instanceof SealedRun ? status : withEndedSteps(status, entry.run);
    this.write(final, options);
    return { applied: true, current: final };
  }

  private write(status: PipelineStatus, options: WriteOptions | undefined): void {
    if (isFinished(status.status)) this.leases.drop(status.pipelineId);
    const copy = this.hold(toStoredRun(status));
    const existing = this.byId.get(status.pipelineId);
    let entry: Entry;
    if (existing) {
      this.counts[existing.run.status]--;
      existing.run = copy;
      existing.version++;
      if (existing.startedAtMs !== copy.startedAt) {
        this.ordered.splice(this.lowerBound(existing), 1);
        existing.startedAtMs = copy.startedAt;
        this.insertOrdered(existing);
      }
      entry = existing;
    } else {
      entry = { pipelineId: copy.pipelineId, startedAtMs: copy.startedAt, run: copy, version: 1 };
      this.byId.set(copy.pipelineId, entry);
      this.insertOrdered(entry);
    }
    this.counts[copy.status]++;
    this.evictIfFull();
    // An old finished run saved into a full store may be the one evicted (announced as deleted).
    if (this.byId.get(entry.pipelineId) === entry) this.announce(entry, options, false);
  }

  async saveStep(pipelineId: string, step: StepStatus, options?: WriteOptions): Promise<void> {
    const entry = this.byId.get(pipelineId);
    if (!entry) return;
    // A late write to a finished run (rare: the manager ends a run after its step writes) unseals it.
    const run = entry.run instanceof SealedRun ? unsealRun(entry.run) : entry.run;
    const steps = run.steps;
    const index = steps.findIndex((s) => s.stepName === step.stepName);
    if (index >= 0 && stepRank(steps[index]!.status) > stepRank(step.status)) return;
    // Copy-on-write of the run: readers holding the previous object never see it change.
    const nextSteps = steps.slice();
    if (index >= 0) nextSteps[index] = toStoredStep(step);
    else nextSteps.push(toStoredStep(step));
    entry.run = this.hold({ ...run, steps: nextSteps });
    entry.version++;
    this.announce(entry, options, false);
  }

  async getStatus(pipelineId: string): Promise<PipelineStatus | null> {
    const entry = this.byId.get(pipelineId);
    return entry ? expand(entry.run) : null;
  }

  async listPipelines(filter: ListFilter = {}): Promise<PipelineStatus[]> {
    const limit = filter.limit ?? Infinity;
    const out: PipelineStatus[] = [];
    for (let i = this.ordered.length - 1; i >= 0 && out.length < limit; i--) {
      const run = this.ordered[i]!.run;
      if (!filter.status || run.status === filter.status) out.push(expand(run));
    }
    return out;
  }

  async listPage(query: PageQuery = {}): Promise<Page> {
    const limit = query.limit ?? DEFAULT_PAGE_LIMIT;
    const q = query.q?.toLowerCase() ?? "";
    const start = query.cursor ? this.lowerBound(decodeCursor(query.cursor)) - 1 : this.ordered.length - 1;
    const items = [];
    let last: Entry | undefined;
    let more = false;
    for (let i = start; i >= 0; i--) {
      const entry = this.ordered[i]!;
      const run = entry.run;
      if (query.status && run.status !== query.status) continue;
      if (q && !run.pipelineId.toLowerCase().startsWith(q) && !(run.pipelineName ?? "").toLowerCase().startsWith(q)) continue;
      if (items.length === limit) {
        more = true;
        break;
      }
      items.push(summaryOf(run));
      last = entry;
    }
    return { items, nextCursor: more && last ? encodeCursor(last) : null };
  }

  async countByStatus(): Promise<Record<Status, number>> {
    return { ...this.counts };
  }

  async getHistory(query: HistoryQuery = {}): Promise<PipelineStatus[]> {
    const limit = query.limit ?? Infinity;
    const sinceMs = query.since?.getTime() ?? -Infinity;
    const out: PipelineStatus[] = [];
    for (let i = this.ordered.length - 1; i >= 0 && out.length < limit; i--) {
      const entry = this.ordered[i]!;
      if (entry.startedAtMs < sinceMs) break;
      out.push(expand(entry.run));
    }
    return out;
  }

  async deletePipeline(pipelineId: string, options?: WriteOptions): Promise<boolean> {
    const entry = this.byId.get(pipelineId);
    if (!entry) return false;
    this.remove(entry, this.lowerBound(entry));
    entry.version++;
    this.announce(entry, options, true);
    return true;
  }

  async cleanupOlderThan(cutoff: Date, options?: CleanupOptions): Promise<number> {
    const limit = checkCleanupLimit(options?.limit);
    // The old runs are a prefix of the array: keep its unfinished ones, drop the rest in one pass
    // (with a limit, the prefix ends after the limit-th finished run).
    let boundary = this.lowerBound({ startedAtMs: cutoff.getTime(), pipelineId: "" });
    const kept: Entry[] = [];
    const deleted: Entry[] = [];
    for (let i = 0; i < boundary; i++) {
      const entry = this.ordered[i]!;
      (isFinished(entry.run.status) ? deleted : kept).push(entry);
      if (deleted.length === limit) boundary = i + 1;
    }
    if (deleted.length === 0) return 0;
    this.ordered.splice(0, boundary, ...kept);
    for (const entry of deleted) {
      this.byId.delete(entry.pipelineId);
      this.leases.drop(entry.pipelineId);
      this.counts[entry.run.status]--;
      entry.version++;
      this.announce(entry, undefined, true);
    }
    return deleted.length;
  }

  async getMetrics(query: MetricsQuery): Promise<PipelineMetrics> {
    const acc = new MetricsAccumulator(query);
    for (const { run } of this.ordered) {
      if (run instanceof SealedRun) addSealedToMetrics(acc, run);
      else if (acc.addRun(run.startedAt, run.status, run.error, run.durationMs)) {
        for (const step of run.steps) acc.addStep(step.stepName, step.status, step.durationMs);
      }
    }
    return acc.result();
  }

  /** `events` is accepted and unused: changes are delivered in-process, so there is no gap to lose. */
  /** One process, no gaps: `events` has nothing to report. */
  subscribe(handler: (change: StorageChange) => void, _events?: FeedEvents): () => void {
    return this.feed.subscribe(handler);
  }

  async close(): Promise<void> {
    this.feed.clear();
  }

  /** How many runs are held (for tests and benchmarks). */
  get size(): number {
    return this.byId.size;
  }

  private announce(entry: Entry, options: WriteOptions | undefined, deleted: boolean): void {
    this.feed.announce(entry.pipelineId, entry.version, options?.origin ?? null, deleted ? null : entry.run);
  }

  private remove(entry: Entry, index: number): void {
    this.leases.drop(entry.pipelineId);
    this.ordered.splice(index, 1);
    this.byId.delete(entry.pipelineId);
    this.counts[entry.run.status]--;
  }

  private evictIfFull(): void {
    // The oldest finished runs go first; running ones are kept even past the bound.
    for (let i = 0; this.byId.size > this.maxPipelines && i < this.ordered.length;) {
      const entry = this.ordered[i]!;
      if (!isFinished(entry.run.status)) {
        i++;
        continue;
      }
      this.remove(entry, i);
      // Gone for every reader: live clients must drop it too.
      entry.version++;
      this.announce(entry, undefined, true);
    }
  }

  /** Index of the first entry not older than `position` (binary search, oldest-first array). */
  private lowerBound(position: CursorPosition): number {
    let lo = 0;
    let hi = this.ordered.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareNewestFirst(this.ordered[mid]!, position) > 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private insertOrdered(entry: Entry): void {
    const last = this.ordered[this.ordered.length - 1];
    if (!last || compareNewestFirst(entry, last) < 0) this.ordered.push(entry);
    else this.ordered.splice(this.lowerBound(entry), 0, entry);
  }

  /** Finished runs are sealed; runs in progress stay objects, cheap to update step by step. */
  private hold(run: StoredRun): HeldRun {
    return isFinished(run.status) ? sealRun(run, this.shapes) : run;
  }
}
