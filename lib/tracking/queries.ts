/**
 * The read side of the tracking manager: queries validated here and answered by the storage.
 */
import { assertMetricsDays } from "./metrics";
import type { PipelineMetrics } from "./metrics-types";
import type { PipelineStatus, Status } from "./models";
import { MAX_PAGE_LIMIT, type HistoryQuery, type ListFilter, type Page, type PageQuery, type TrackingStorage } from "./storage/types";

export const NO_STORAGE_MESSAGE = "No tracking storage configured";

export class TrackingQueries {
  /** `storage` throws NO_STORAGE_MESSAGE until one is configured. */
  constructor(private readonly storageOf: () => TrackingStorage) {}

  private get storage(): TrackingStorage {
    return this.storageOf();
  }

  async getStatus(pipelineId: string): Promise<PipelineStatus | null> {
    const storage = this.storage;
    return typeof pipelineId === "string" && pipelineId ? storage.getStatus(pipelineId) : null;
  }

  async listPipelines(filter: ListFilter = {}): Promise<PipelineStatus[]> {
    const storage = this.storage;
    checkLimit(filter.limit, Number.MAX_SAFE_INTEGER);
    return storage.listPipelines(filter);
  }

  async listPage(query: PageQuery = {}): Promise<Page> {
    const storage = this.storage;
    checkLimit(query.limit, MAX_PAGE_LIMIT);
    return storage.listPage(query);
  }

  async countByStatus(): Promise<Record<Status, number>> {
    return this.storage.countByStatus();
  }

  async getHistory(query: HistoryQuery = {}): Promise<PipelineStatus[]> {
    const storage = this.storage;
    checkLimit(query.limit, Number.MAX_SAFE_INTEGER);
    if (query.since !== undefined && !(query.since instanceof Date && !Number.isNaN(query.since.getTime()))) {
      throw new TypeError("since must be a valid Date");
    }
    return storage.getHistory(query);
  }

  /** Deletes finished runs started more than `days` days ago (at most `limit`, oldest first); never a running one. */
  async cleanupOlderThan({ days, limit }: { days: number; limit?: number }): Promise<number> {
    const storage = this.storage;
    if (typeof days !== "number" || !Number.isFinite(days) || days < 0) {
      throw new RangeError("days must be a non-negative number");
    }
    const cutoff = new Date(Date.now() - days * 86_400_000);
    return limit === undefined ? storage.cleanupOlderThan(cutoff) : storage.cleanupOlderThan(cutoff, { limit });
  }

  async getMetrics({ days = 7, now }: { days?: number; now?: Date } = {}): Promise<PipelineMetrics> {
    const storage = this.storage;
    assertMetricsDays(days);
    return storage.getMetrics({ days, now });
  }
}

function checkLimit(limit: number | undefined, max: number): void {
  if (limit === undefined) return;
  if (!Number.isInteger(limit) || limit < 1 || limit > max) {
    throw new RangeError(`limit must be an integer from 1 to ${max}`);
  }
}
