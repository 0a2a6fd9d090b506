/**
 * In-process storage: a Map by id plus one array kept in newest-first order for lists, paging and
 * history. Bounded: past `maxPipelines` it evicts the oldest finished run, never a running one.
 * Every read and write copies, so callers never share mutable state with the store.
 */
import { computeMetrics } from "../metrics";
import type { MetricsQuery, PipelineMetrics } from "../metrics-types";
import { STATUSES, isFinished, summarize, type PipelineStatus, type Status, type StepStatus } from "../models";
import { fromStoredRun, toStoredRun, toStoredStep, type StoredRun } from "./compact";
import { compareNewestFirst, decodeCursor, encodeCursor, type CursorPosition } from "./cursor";
import {
  DEFAULT_HISTORY_LIMIT, DEFAULT_LIST_LIMIT, DEFAULT_PAGE_LIMIT,
  type HistoryQuery, type ListFilter, type Page, type PageQuery, type StorageChange,
  type TrackingStorage, type WriteOptions,
} from "./types";
import { stepRank } from "./step-order";

export interface InMemoryStorageOptions {
  /** Default 10 000. */
  maxPipelines?: number;
}

interface Entry {
  /** Replaced, never mutated, on every write (see compact.ts). */
  status: StoredRun;
  version: number;
  position: CursorPosition;
}

const positionOf = (s: StoredRun): CursorPosition => ({ startedAtMs: s.startedAt, pipelineId: s.pipelineId });

export class InMemoryPipelineStorage implements TrackingStorage {
  readonly kind = "memory";
  readonly maxPipelines: number;
  private readonly byId = new Map<string, Entry>();
  /** Oldest first by (startedAt, id), so a new run is a push; lists walk it backwards. */
  private readonly ordered: Entry[] = [];
  private readonly counts = Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<Status, number>;
  private readonly handlers = new Set<(change: StorageChange) => void>();

  constructor(options: InMemoryStorageOptions = {}) {
    const max = options.maxPipelines ?? 10_000;
    if (!Number.isInteger(max) || max < 1) throw new RangeError("maxPipelines must be a positive integer");
    this.maxPipelines = max;
  }

  async saveStatus(status: PipelineStatus, options?: WriteOptions): Promise<void> {
    const copy = toStoredRun(status);
    const existing = this.byId.get(status.pipelineId);
    let entry: Entry;
    if (existing) {
      this.counts[existing.status.status]--;
      existing.status = copy;
      existing.version++;
      if (existing.position.startedAtMs !== copy.startedAt) {
        this.ordered.splice(this.lowerBound(existing.position), 1);
        existing.position = positionOf(copy);
        this.insertOrdered(existing);
      }
      entry = existing;
    } else {
      entry = { status: copy, version: 1, position: positionOf(copy) };
      this.byId.set(copy.pipelineId, entry);
      this.insertOrdered(entry);
    }
    this.counts[copy.status]++;
    this.evictIfFull();
    this.announce(entry, options, false);
  }

  async saveStep(pipelineId: string, step: StepStatus, options?: WriteOptions): Promise<void> {
    const entry = this.byId.get(pipelineId);
    if (!entry) return;
    const steps = entry.status.steps;
    const index = steps.findIndex((s) => s.stepName === step.stepName);
    if (index >= 0 && stepRank(steps[index]!.status) > stepRank(step.status)) return;
    // Copy-on-write of the run: readers holding the previous object never see it change.
    const nextSteps = steps.slice();
    if (index >= 0) nextSteps[index] = toStoredStep(step);
    else nextSteps.push(toStoredStep(step));
    entry.status = { ...entry.status, steps: nextSteps };
    entry.version++;
    this.announce(entry, options, false);
  }

  async getStatus(pipelineId: string): Promise<PipelineStatus | null> {
    const entry = this.byId.get(pipelineId);
    return entry ? fromStoredRun(entry.status) : null;
  }

  async listPipelines(filter: ListFilter = {}): Promise<PipelineStatus[]> {
    const limit = filter.limit ?? DEFAULT_LIST_LIMIT;
    const out: PipelineStatus[] = [];
    for (let i = this.ordered.length - 1; i >= 0 && out.length < limit; i--) {
      const s = this.ordered[i]!.status;
      if (!filter.status || s.status === filter.status) out.push(fromStoredRun(s));
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
      const s = entry.status;
      if (query.status && s.status !== query.status) continue;
      if (q && !s.pipelineId.toLowerCase().startsWith(q) && !(s.pipelineName ?? "").toLowerCase().startsWith(q)) continue;
      if (items.length === limit) {
        more = true;
        break;
      }
      items.push(summarize(fromStoredRun(s)));
      last = entry;
    }
    return { items, nextCursor: more && last ? encodeCursor(last.position) : null };
  }

  async countByStatus(): Promise<Record<Status, number>> {
    return { ...this.counts };
  }

  async getHistory(query: HistoryQuery = {}): Promise<PipelineStatus[]> {
    const limit = query.limit ?? DEFAULT_HISTORY_LIMIT;
    const sinceMs = query.since?.getTime() ?? -Infinity;
    const out: PipelineStatus[] = [];
    for (let i = this.ordered.length - 1; i >= 0 && out.length < limit; i--) {
      const entry = this.ordered[i]!;
      if (entry.position.startedAtMs < sinceMs) break;
      out.push(fromStoredRun(entry.status));
    }
    return out;
  }

  async deletePipeline(pipelineId: string, options?: WriteOptions): Promise<boolean> {
    const entry = this.byId.get(pipelineId);
    if (!entry) return false;
    this.remove(entry, this.lowerBound(entry.position));
    entry.version++;
    this.announce(entry, options, true);
    return true;
  }

  async cleanupOlderThan(cutoff: Date): Promise<number> {
    // The old runs are a prefix of the array: keep its unfinished ones, drop the rest in one pass.
    const boundary = this.lowerBound({ startedAtMs: cutoff.getTime(), pipelineId: "" });
    const kept: Entry[] = [];
    const deleted: Entry[] = [];
    for (let i = 0; i < boundary; i++) {
      const entry = this.ordered[i]!;
      (isFinished(entry.status.status) ? deleted : kept).push(entry);
    }
    if (deleted.length === 0) return 0;
    this.ordered.splice(0, boundary, ...kept);
    for (const entry of deleted) {
      this.byId.delete(entry.status.pipelineId);
      this.counts[entry.status.status]--;
      entry.version++;
      this.announce(entry, undefined, true);
    }
    return deleted.length;
  }

  async getMetrics(query: MetricsQuery): Promise<PipelineMetrics> {
    return computeMetrics(
      (function* (entries: Entry[]) {
        for (const e of entries) yield fromStoredRun(e.status);
      })(this.ordered),
      query,
    );
  }

  subscribe(handler: (change: StorageChange) => void): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  async close(): Promise<void> {
    this.handlers.clear();
  }

  /** How many runs are held (for tests and benchmarks). */
  get size(): number {
    return this.byId.size;
  }

  private announce(entry: Entry, options: WriteOptions | undefined, deleted: boolean): void {
    if (this.handlers.size === 0) return;
    const change: StorageChange = { pipelineId: entry.status.pipelineId, version: entry.version, origin: options?.origin ?? null, deleted };
    if (!deleted) {
      // Expanded only when read: the manager drops its own echoes unread, on every transition.
      const snapshot = entry.status;
      let expanded: PipelineStatus | undefined;
      Object.defineProperty(change, "status", { enumerable: true, get: () => (expanded ??= fromStoredRun(snapshot)) });
    }
    for (const handler of this.handlers) {
      try {
        handler(change);
      } catch {
        // A subscriber's failure is its own; the write already happened.
      }
    }
  }

  private remove(entry: Entry, index: number): void {
    this.ordered.splice(index, 1);
    this.byId.delete(entry.status.pipelineId);
    this.counts[entry.status.status]--;
  }

  private evictIfFull(): void {
    // The oldest finished runs go first; running ones are kept even past the bound.
    for (let i = 0; this.byId.size > this.maxPipelines && i < this.ordered.length; ) {
      const entry = this.ordered[i]!;
      if (isFinished(entry.status.status)) this.remove(entry, i);
      else i++;
    }
  }

  /** Index of the first entry not older than `position` (binary search, oldest-first array). */
  private lowerBound(position: CursorPosition): number {
    let lo = 0;
    let hi = this.ordered.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareNewestFirst(this.ordered[mid]!.position, position) > 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private insertOrdered(entry: Entry): void {
    const last = this.ordered[this.ordered.length - 1];
    if (!last || compareNewestFirst(entry.position, last.position) < 0) this.ordered.push(entry);
    else this.ordered.splice(this.lowerBound(entry.position), 0, entry);
  }
}
