// PLACEHOLDER — replaced by the Redis storage implementation (issue 3).
import type { Redis } from "ioredis";
import type { MetricsQuery, PipelineMetrics } from "../metrics-types";
import type { PipelineStatus, Status, StepStatus } from "../models";
import type { HistoryQuery, ListFilter, Page, PageQuery, StorageChange, TrackingStorage } from "./types";

export interface RedisStorageOptions {
  keyPrefix?: string;
  ttlSeconds?: number;
}

const notYet = (): never => {
  throw new Error("RedisPipelineStorage is not implemented yet");
};

export class RedisPipelineStorage implements TrackingStorage {
  readonly kind = "redis";
  constructor(readonly redis: Redis, readonly options: RedisStorageOptions = {}) {}
  saveStatus(_status: PipelineStatus): Promise<void> { return notYet(); }
  saveStep(_id: string, _step: StepStatus): Promise<void> { return notYet(); }
  getStatus(_id: string): Promise<PipelineStatus | null> { return notYet(); }
  listPipelines(_f?: ListFilter): Promise<PipelineStatus[]> { return notYet(); }
  listPage(_q?: PageQuery): Promise<Page> { return notYet(); }
  countByStatus(): Promise<Record<Status, number>> { return notYet(); }
  getHistory(_q?: HistoryQuery): Promise<PipelineStatus[]> { return notYet(); }
  deletePipeline(_id: string): Promise<boolean> { return notYet(); }
  cleanupOlderThan(_cutoff: Date): Promise<number> { return notYet(); }
  getMetrics(_q: MetricsQuery): Promise<PipelineMetrics> { return notYet(); }
  subscribe(_h: (c: StorageChange) => void): () => void { return notYet(); }
  close(): Promise<void> { return notYet(); }
}
