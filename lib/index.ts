/**
 * Pipewatch's one public entry (the `pipewatch` package; see README.md's library tour). Usable from any Node process: no Next.js, no React.
 */
export { Pipeline, type PipelineOptions, type KiqOptions } from "./pipeline/pipeline";
export { PipelineTask } from "./pipeline/task";
export type { TaskResult } from "./pipeline/execution";
export {
  InMemoryBroker,
  type Broker,
  type InMemoryBrokerOptions,
  type StepContext,
  type StepFunction,
  type StepInvocation,
} from "./pipeline/broker";
export { PipelineDefinitionError, type StepOptions, type StepBackoff } from "./pipeline/definition";
export { PipelineScheduler, type ScheduleHandle, type ScheduleOptions } from "./pipeline/scheduler";

export {
  PipelineTrackingManager,
  NO_STORAGE_MESSAGE,
  SHUTDOWN_MESSAGE,
  SHUTTING_DOWN_MESSAGE,
  DEFAULT_LEASE_MS,
  type TrackingManagerOptions,
  type ShutdownOptions,
  type CancelOutcome,
  type ChangeStreamEvents,
  type StatusChange,
} from "./tracking/manager";
export { InMemoryPipelineStorage, type InMemoryStorageOptions } from "./tracking/storage/memory";
export { RedisPipelineStorage, type RedisStorageOptions } from "./tracking/storage/redis/storage";
export {
  redisFromEnv,
  readRedisEnv,
  connectRedis,
  RedisEnvError,
  DEFAULT_CLUSTER_KEY_PREFIX,
  type RedisFromEnv,
  type RedisEnvOptions,
  type RedisEnvSettings,
  type ClusterNodeAddress,
} from "./connection/redis-env";
export { SqlitePipelineStorage, SqliteStorageError, type SqliteStorageOptions } from "./tracking/storage/sqlite/storage";
export type {
  TrackingStorage,
  ListFilter,
  PageQuery,
  Page,
  HistoryQuery,
  StorageChange,
  FeedEvents,
  WriteOptions,
  FinishOutcome,
  CleanupOptions,
  ExpiredLease,
} from "./tracking/storage/types";
export { WORKER_LOST_PREFIX, lostWorkerStatus } from "./tracking/storage/lease-end";
export { InvalidCursorError } from "./tracking/storage/cursor";
export { StorageUnavailableError } from "./tracking/storage/errors";
export {
  STATUSES,
  isFinished,
  isValidPipelineId,
  summarize,
  serializeStatus,
  parseStatus,
  PIPELINE_ID_PATTERN,
  type Status,
  type PipelineStatus,
  type StepStatus,
  type PipelineSummary,
  type PipelineType,
  type PipelineStatusJSON,
  type StepStatusJSON,
} from "./tracking/models";
export type { PipelineMetrics, DailyMetrics, StepMetrics } from "./tracking/metrics-types";
export { computeMetrics } from "./tracking/metrics";
export { toJsonSafe, DEFAULT_MAX_RESULT_BYTES, type TruncatedResult } from "./tracking/json-safe";
export type { TrackingListener, TrackingListenerObject, TrackingListenerFunction } from "./tracking/listeners";
export { renderStatus, type RenderOptions } from "./tracking/console";

export { HookManager, type HookEvents, type HookEventName, type HookHandler } from "./hooks/hook-manager";
export { TrackingEventBroadcaster } from "./hooks/tracking-event-broadcaster";
export type { ServerToClientEvents, ClientToServerEvents } from "./events";
export {
  WORKER_HEARTBEAT_MS,
  WORKER_OFFLINE_AFTER_MS,
  WORKER_LISTED_FOR_MS,
  type WorkerInfo,
  type WorkerRecord,
  type WorkerRegistry,
  type ActiveStep,
  type HeartbeatOptions,
  type PipelineDefinitionInfo,
} from "./workers/types";
export { BullMQBroker, type BullMQBrokerOptions } from "./broker/bullmq/broker";
export { type StartWorkerOptions, type WorkerHandle, DEFAULT_WORKER_GRACE_MS } from "./broker/bullmq/worker";
export { PayloadError, DEFAULT_MAX_PAYLOAD_BYTES } from "./broker/bullmq/payload";
export { serializeWorker, definitionsOf, listStoredWorkers, type WorkerJSON, type DefinitionJSON } from "./workers/json";
export { WorkerHeartbeat, TOUCH_MIN_INTERVAL_MS, type WorkerHeartbeatOptions } from "./workers/heartbeat";
export { startProcessWorker, type ProcessWorker, type ProcessWorkerOptions } from "./workers/process-worker";
