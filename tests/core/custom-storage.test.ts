/**
 * A user's own storage. This one keeps runs in a Map of JSON strings (as a database
 * would hold rows), built only from the library's public exports, and passes the same contract
 * battery as the built-in storages — proof that the battery is usable by a custom backend.
 */
import { describe, expect, it } from "vitest";
import {
  InMemoryBroker,
  InvalidCursorError,
  Pipeline,
  PipelineTrackingManager,
  STATUSES,
  computeMetrics,
  parseStatus,
  serializeStatus,
  summarize,
  type CleanupOptions,
  type FinishOutcome,
  type HistoryQuery,
  type ListFilter,
  type Page,
  type PageQuery,
  type PipelineMetrics,
  type PipelineStatus,
  type Status,
  type StepStatus,
  type StorageChange,
  type TrackingStorage,
  type WriteOptions,
} from "pipewatch";
import { runStorageContract } from "pipewatch/testing";
import { silentLogger } from "./helpers";

const RANK: Record<Status, number> = { PENDING: 0, RUNNING: 1, COMPLETED: 2, FAILED: 2, CANCELLED: 2 };

class JsonMapStorage implements TrackingStorage {
  readonly kind = "json-map";
  private readonly rows = new Map<string, string>();
  private readonly versions = new Map<string, number>();
  private readonly handlers = new Set<(c: StorageChange) => void>();

  async saveStatus(status: PipelineStatus, options?: WriteOptions): Promise<void> {
    this.rows.set(status.pipelineId, JSON.stringify(serializeStatus(status)));
    this.announce(status.pipelineId, options, false);
  }
  async finishStatus(status: PipelineStatus, options?: WriteOptions): Promise<FinishOutcome> {
    // Like a row update guarded by "WHERE status IN ('PENDING','RUNNING')": check and write with no await between.
    const row = this.rows.get(status.pipelineId);
    if (!row) return { applied: false, current: null };
    const current = parseStatus(JSON.parse(row));
    if (current.status !== "PENDING" && current.status !== "RUNNING") return { applied: false, current };
    // A step the row holds as ended stays (the worker may have ended it after a cancel's read).
    const ended = new Map(current.steps.filter((s) => s.status === "COMPLETED" || s.status === "FAILED").map((s) => [s.stepName, s]));
    const final = { ...status, steps: status.steps.map((s) => ended.get(s.stepName) ?? s) };
    await this.saveStatus(final, options);
    return { applied: true, current: final };
  }
  async saveStep(pipelineId: string, step: StepStatus, options?: WriteOptions): Promise<void> {
    // Read and write with no await between them: an async read-modify-write loses concurrent
    // steps (the battery's "concurrent saveStep" test catches exactly that).
    const row = this.rows.get(pipelineId);
    if (!row) return;
    const status = parseStatus(JSON.parse(row));
    const i = status.steps.findIndex((s) => s.stepName === step.stepName);
    if (i >= 0 && RANK[status.steps[i]!.status] > RANK[step.status]) return;
    if (i >= 0) status.steps[i] = step;
    else status.steps.push(step);
    this.rows.set(pipelineId, JSON.stringify(serializeStatus(status)));
    this.announce(pipelineId, options, false);
  }
  async getStatus(pipelineId: string): Promise<PipelineStatus | null> {
    const row = this.rows.get(pipelineId);
    return row ? parseStatus(JSON.parse(row)) : null;
  }
  private all(): PipelineStatus[] {
    return [...this.rows.values()]
      .map((r) => parseStatus(JSON.parse(r)))
      .sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime() || (a.pipelineId < b.pipelineId ? 1 : -1));
  }
  async listPipelines(filter: ListFilter = {}): Promise<PipelineStatus[]> {
    return this.all()
      .filter((s) => !filter.status || s.status === filter.status)
      .slice(0, filter.limit ?? Infinity);
  }
  async listPage(query: PageQuery = {}): Promise<Page> {
    const q = query.q?.toLowerCase() ?? "";
    let rows = this.all().filter(
      (s) =>
        (!query.status || s.status === query.status) &&
        (!q || s.pipelineId.toLowerCase().startsWith(q) || (s.pipelineName ?? "").toLowerCase().startsWith(q)),
    );
    if (query.cursor) {
      const m = /^(\d+)\|([A-Za-z0-9._:-]+)$/.exec(Buffer.from(query.cursor, "base64url").toString());
      if (!m) throw new InvalidCursorError();
      const [ms, id] = [Number(m[1]), m[2]!];
      rows = rows.filter((s) => s.startedAt.getTime() < ms || (s.startedAt.getTime() === ms && s.pipelineId < id));
    }
    const limit = query.limit ?? 50;
    const items = rows.slice(0, limit);
    const last = items.at(-1);
    return {
      items: items.map(summarize),
      nextCursor: rows.length > limit && last ? Buffer.from(`${last.startedAt.getTime()}|${last.pipelineId}`).toString("base64url") : null,
    };
  }
  async countByStatus(): Promise<Record<Status, number>> {
    const counts = Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<Status, number>;
    for (const s of this.all()) counts[s.status]++;
    return counts;
  }
  async getHistory(query: HistoryQuery = {}): Promise<PipelineStatus[]> {
    const since = query.since?.getTime() ?? -Infinity;
    return this.all()
      .filter((s) => s.startedAt.getTime() >= since)
      .slice(0, query.limit ?? Infinity);
  }
  async deletePipeline(pipelineId: string, options?: WriteOptions): Promise<boolean> {
    const existed = this.rows.delete(pipelineId);
    if (existed) this.announce(pipelineId, options, true);
    return existed;
  }
  async cleanupOlderThan(cutoff: Date, options: CleanupOptions = {}): Promise<number> {
    let n = 0;
    // Oldest first, so a pass with a limit takes the oldest runs.
    for (const s of this.all().reverse()) {
      if (n === options.limit) break;
      if (s.startedAt < cutoff && s.status !== "RUNNING" && s.status !== "PENDING") n += Number(await this.deletePipeline(s.pipelineId));
    }
    return n;
  }
  async getMetrics(query: { days: number; now?: Date }): Promise<PipelineMetrics> {
    return computeMetrics(this.all(), query);
  }
  subscribe(handler: (c: StorageChange) => void): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }
  async close(): Promise<void> {
    this.handlers.clear();
  }
  private announce(pipelineId: string, options: WriteOptions | undefined, deleted: boolean): void {
    const version = (this.versions.get(pipelineId) ?? 0) + 1;
    this.versions.set(pipelineId, version);
    for (const h of this.handlers) h({ pipelineId, version, origin: options?.origin ?? null, deleted });
  }
}

runStorageContract("custom JsonMapStorage", async () => {
  const storage = new JsonMapStorage();
  return { storage, cleanup: () => storage.close() };
});

describe("a custom storage", () => {
  it("plugs into the manager and records runs", async () => {
    const tracking = new PipelineTrackingManager({ logger: silentLogger() }).withStorage(new JsonMapStorage());
    const pipeline = new Pipeline(new InMemoryBroker())
      .step("a", () => 1)
      .step("b", (n: number) => n + 1)
      .withTracking(tracking);
    await (await pipeline.kiq()).waitResult();
    const status = await tracking.getStatus(pipeline.pipelineId);
    expect(status?.status).toBe("COMPLETED");
    expect(status?.steps.map((s) => s.result)).toEqual([1, 2]);
    expect(tracking.storage.kind).toBe("json-map");
  });
});
