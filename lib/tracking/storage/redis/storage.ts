/**
 * RedisPipelineStorage (docs/storage.md): many worker and dashboard processes share
 * one Redis. One hash per run plus sorted-set indexes by start time (keys.ts); every transition is
 * one Lua script (lua/*.lua, loaded by scripts.ts) that also moves the metrics rollups (rollups.ts),
 * logs the change and announces it on a pub/sub channel (feed/change-feed.ts replays what a dropped
 * subscriber missed). Writes are batched and survive outages through write/queue.ts; reads wait
 * for this process's earlier writes, so a process reads its own. Reads live in read/.
 *
 * The client is the caller's, an ioredis Redis or Cluster (on a Cluster with a hash-tagged prefix,
 * keys.ts): `close()` releases only the subscriber connection this storage made.
 * The client's own `keyPrefix` option is not supported (use `keyPrefix` here).
 */
import type { RedisClient } from "./client";
import { defaultLogger, type Logger } from "../../../logger";
import { assertMetricsDays } from "../../metrics";
import type { MetricsQuery, PipelineMetrics } from "../../metrics-types";
import { isFinished, isValidPipelineId, type PipelineStatus, type Status, type StepStatus } from "../../models";
import { decodeCursor } from "../cursor";
import { checkCleanupLimit } from "../cleanup-limit";
import { RedisKeys } from "./keys";
import { checkStorageOptions, type RedisStorageOptions } from "./options";

export type { RedisStorageOptions } from "./options";
import { changesSinceFetch, RedisChangeFeed } from "./feed/change-feed";
import { FeedSubscribers } from "./feed/subscribers";
import { RedisListReader } from "./read/lists";
import { RollupReader } from "./read/metrics";
import { IndexWalker } from "./read/index-walk";
import { CorruptRecordError, decodeRun, runRecord, stepRecord } from "./records";
import { assembleMetrics, dayStamp, runContribution, stepContribution, windowDays } from "./rollups";
import { defineScripts, type ScriptName } from "./scripts";
import { RedisReadGuard } from "./read/guard";
import { RunStateReader, type RunState } from "./read/run-state";
import { RedisWriteQueue } from "./write/queue";
import { leaseRecord, sweepRedisLeases } from "./leases";
import { decodeWorkerList, heartbeatRecord } from "./workers";
import { WORKER_LISTED_FOR_MS, type HeartbeatOptions, type WorkerInfo, type WorkerRecord } from "../../../workers/types";
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
} from "../types";

const CLEANUP_BATCH = 100;
/** How long a read waits for this process's earlier writes (read-your-writes) while Redis is up. */
const READ_WAIT_MS = 1000;
/** Runs started here and not finished yet that finishStatus remembers (the oldest are forgotten). */
const MAX_TRACKED_STARTS = 100_000;

export class RedisPipelineStorage implements TrackingStorage {
  readonly kind = "redis";
  readonly keys: RedisKeys;
  readonly ttlSeconds: number | null;
  readonly metricsRetentionDays: number;
  private readonly logger: Logger;
  private readonly queue: RedisWriteQueue;
  private readonly commands: Record<ScriptName, string>;
  private readonly subscribers: FeedSubscribers;
  private readonly feed: RedisChangeFeed;
  private readonly guard: RedisReadGuard;
  /** Runs in progress stored by this storage: the write queue's connection epoch at their start. */
  private readonly startEpochs = new Map<string, number>();
  private readonly runStates: RunStateReader;
  private readonly lists: RedisListReader;
  private readonly rollups: RollupReader;

  constructor(
    readonly redis: RedisClient,
    options: RedisStorageOptions = {},
  ) {
    const { prefix, ttlSeconds, metricsRetentionDays } = checkStorageOptions(redis, options);
    this.keys = new RedisKeys(prefix);
    this.ttlSeconds = ttlSeconds;
    this.metricsRetentionDays = metricsRetentionDays;
    this.logger = options.logger ?? defaultLogger();
    this.queue = new RedisWriteQueue(redis, this.logger, { maxBuffered: options.maxBufferedWrites ?? 100_000 });
    this.guard = new RedisReadGuard(redis, () => this.queue.inOutage);
    this.commands = defineScripts(redis, this.keys);
    this.lists = new RedisListReader(redis, this.keys, this.logger, (script, args) => this.call(script, args), this.queue);
    this.runStates = new RunStateReader(redis);
    this.rollups = new RollupReader((args) => this.call("rollupDays", [this.keys.allIndex, ...args]));
    this.subscribers = new FeedSubscribers(this.logger);
    // The change log after a given seq, for the feed's replay after a gap.
    const changesSince = changesSinceFetch((args) => this.call("changesSince", [this.keys.allIndex, ...args]));
    this.feed = new RedisChangeFeed(redis, this.keys.channel, this.logger, this.subscribers, changesSince);
  }

  async saveStatus(status: PipelineStatus, options?: WriteOptions): Promise<void> {
    const record = this.runRecordOf(status);
    this.noteStart(status);
    await this.queue.push({ command: this.commands.saveStatus, args: [this.keys.allIndex, options?.origin ?? ""], record });
  }

  /**
   * The check and the write are one script (lua/finish-status.lua). Best-effort instead where the
   * answer cannot be known: a write buffered during an outage, or of a run whose start this storage
   * wrote before a reconnect (a Redis restarted without persistence may have lost it), is written
   * unconditionally and answers applied, as a plain save would (so such a run is never lost, and a
   * delete or cancel from elsewhere in that window may be overwritten).
   */
  async finishStatus(status: PipelineStatus, options?: WriteOptions): Promise<FinishOutcome> {
    if (!isFinished(status.status)) throw new TypeError(`finishStatus needs a finished status, not ${status.status}`);
    const record = this.runRecordOf(status);
    const startEpoch = this.startEpochs.get(status.pipelineId);
    this.startEpochs.delete(status.pipelineId);
    const args = [this.keys.allIndex, options?.origin ?? ""];
    if (startEpoch !== undefined && (startEpoch !== this.queue.epoch || this.queue.inOutage)) {
      await this.queue.push({ command: this.commands.saveStatus, args, record });
      return { applied: true, current: status };
    }
    const reply = await this.queue.push({ command: this.commands.finishStatus, fallback: this.commands.saveStatus, args, record });
    if (reply === undefined || Number(reply) > 0) return { applied: true, current: status };
    return { applied: false, current: Number(reply) === 0 ? null : await this.getStatus(status.pipelineId) };
  }

  /** Not async: this runs for every transition, and the queue's promise is all a caller needs. */
  saveStep(pipelineId: string, step: StepStatus, options?: WriteOptions): Promise<void> {
    if (!isValidPipelineId(pipelineId)) return Promise.resolve();
    const record = stepRecord(pipelineId, step, stepContribution(step));
    // Resolves with the script's reply (a version); callers of a Promise<void> ignore it.
    return this.queue.push({
      command: this.commands.saveSteps,
      args: [this.keys.allIndex, options?.origin ?? ""],
      record,
    }) as Promise<never>;
  }

  async getStatus(pipelineId: string): Promise<PipelineStatus | null> {
    if (!isValidPipelineId(pipelineId)) return null;
    return this.guard.read(async () => {
      await this.queue.barrier(READ_WAIT_MS);
      let hash: Record<string, string>;
      try {
        hash = await this.redis.hgetall(this.keys.run(pipelineId));
      } catch (err) {
        if (/WRONGTYPE/.test(String(err))) throw new CorruptRecordError(pipelineId, "not a hash");
        throw err;
      }
      return decodeRun(pipelineId, hash);
    });
  }

  /** A run's status and error alone (read/run-state.ts): what watchers of a run read on its changes. */
  async getRunState(pipelineId: string): Promise<RunState> {
    if (!isValidPipelineId(pipelineId)) return null;
    return this.guard.read(async () => {
      await this.queue.barrier(READ_WAIT_MS);
      return this.runStates.read(this.keys.run(pipelineId));
    });
  }

  async listPipelines(filter: ListFilter = {}): Promise<PipelineStatus[]> {
    return this.guard.read(async () => {
      await this.prepareRead();
      const key = filter.status ? this.keys.statusIndex(filter.status) : this.keys.allIndex;
      return this.lists.runs(new IndexWalker(this.redis, key, null, 200), filter.limit ?? Infinity);
    });
  }

  async getHistory(query: HistoryQuery = {}): Promise<PipelineStatus[]> {
    return this.guard.read(async () => {
      await this.prepareRead();
      const since = query.since?.getTime() ?? -Infinity;
      return this.lists.runs(new IndexWalker(this.redis, this.keys.allIndex, null, 200, since), query.limit ?? Infinity);
    });
  }

  /** Without a search: one script call that also reaps (read/lists.ts). */
  async listPage(query: PageQuery = {}): Promise<Page> {
    const limit = query.limit ?? DEFAULT_PAGE_LIMIT;
    const after = query.cursor ? decodeCursor(query.cursor) : null;
    return this.guard.read(async () => {
      if (query.q) await this.prepareRead();
      else await this.queue.barrier(READ_WAIT_MS);
      return this.lists.page(query, limit, after);
    });
  }

  /** One script call that also reaps, or none when a page requested with it counts too (read/lists.ts). */
  async countByStatus(): Promise<Record<Status, number>> {
    return this.lists.countByStatus(
      (load) => this.guard.read(load),
      () => this.queue.barrier(READ_WAIT_MS),
    );
  }

  /** Fails fast during an outage like a read: buffered, its answer (was there such a run?) would be a guess. */
  async deletePipeline(pipelineId: string, options?: WriteOptions): Promise<boolean> {
    if (!isValidPipelineId(pipelineId)) return false;
    await this.guard.whenReady();
    const v = await this.queue.push({
      command: this.commands.deleteRun,
      args: [this.keys.run(pipelineId), pipelineId, options?.origin ?? ""],
    });
    return Number(v) > 0;
  }

  /** In scripts of at most CLEANUP_BATCH ids, so no single script holds Redis for long. */
  async cleanupOlderThan(cutoff: Date, options?: CleanupOptions): Promise<number> {
    const limit = checkCleanupLimit(options?.limit) ?? Number.POSITIVE_INFINITY;
    return this.guard.read(async () => {
      await this.prepareRead();
      let deleted = 0;
      let kept = 0;
      while (deleted < limit) {
        const batch = Math.min(CLEANUP_BATCH, limit - deleted);
        const ids = await this.redis.zrangebyscore(this.keys.allIndex, "-inf", `(${cutoff.getTime()}`, "LIMIT", kept, batch);
        if (ids.length === 0) break;
        const [n, stay] = (await this.call("cleanup", [this.keys.allIndex, ...ids])) as [number, number];
        deleted += n;
        kept += stay;
        if (ids.length < batch) break;
      }
      return deleted;
    });
  }

  /** From the per-day rollups; with a `now` in the past its whole day counts (keys.ts explains). */
  async getMetrics(query: MetricsQuery): Promise<PipelineMetrics> {
    assertMetricsDays(query.days);
    return this.guard.read(async () => {
      await this.queue.barrier(READ_WAIT_MS);
      return assembleMetrics(query, await this.rollups.read(windowDays(query).days));
    });
  }

  /**
   * Changes missed while the feed's connection was down are replayed from the change log once it is
   * back (feed/change-feed.ts); `events.onReset` hears of a gap that cannot be replayed whole.
   */
  subscribe(handler: (change: StorageChange) => void, events?: FeedEvents): () => void {
    const unsubscribe = this.subscribers.add(handler, events);
    this.feed.start();
    return unsubscribe;
  }

  /** Queued like a step write (after the run's start, merged with other renewals); expiry by Redis TIME. */
  renewLeases(pipelineIds: readonly string[], leaseMs: number, workerId: string): Promise<void> {
    const ids = pipelineIds.filter(isValidPipelineId);
    if (ids.length === 0) return Promise.resolve();
    const args = [this.keys.allIndex, Math.max(1, Math.round(leaseMs)), workerId];
    return this.queue.push({ command: this.commands.renewLeases, args, record: leaseRecord(ids) }) as Promise<never>;
  }

  /** Fails fast during an outage like a read. `now` is ignored: expiry is Redis TIME (leases.ts). */
  async sweepExpiredLeases(_now?: Date): Promise<ExpiredLease[]> {
    // No read-your-writes barrier: a sweep must not wait behind a busy write queue, and an end of
    // this process still queued reaches Redis before the sweep's own (same queue), so it wins.
    return this.guard.read(async () => {
      return sweepRedisLeases({
        claim: (batch, claimMs) => this.call("claimLeases", [this.keys.allIndex, batch, claimMs]),
        logger: this.logger,
        readRun: async (id) => decodeRun(id, await this.redis.hgetall(this.keys.run(id))),
        finish: (status, options) => this.finishStatus(status, options),
      });
    });
  }

  /**
   * Sent at once, not through the write queue: a heartbeat buffered through an outage would arrive
   * stamped late and say nothing true. Fails fast during an outage (the heartbeat logs and retries).
   */
  async recordWorker(info: WorkerInfo, options?: HeartbeatOptions): Promise<void> {
    const args = [this.keys.allIndex, info.workerId, heartbeatRecord(info, options), WORKER_LISTED_FOR_MS];
    await this.guard.read(() => this.call("recordWorker", args));
  }

  async listWorkers(): Promise<WorkerRecord[]> {
    return decodeWorkerList(await this.guard.read(() => this.call("listWorkers", [this.keys.allIndex, WORKER_LISTED_FOR_MS])));
  }

  /** Waits (up to `timeoutMs`) until every write issued so far has reached Redis. */
  flush(timeoutMs = 10_000): Promise<boolean> {
    return this.queue.drain(timeoutMs);
  }

  /** Writes waiting to be sent (buffered during an outage, or not yet flushed). */
  get pendingWrites(): number {
    return this.queue.size;
  }

  /** Whether changes from other processes arrive now: "live" while the feed's connection is subscribed. */
  get changeFeedState(): "live" | "reconnecting" {
    return this.feed.state;
  }

  async close(): Promise<void> {
    await this.queue.drain(5000);
    this.queue.close();
    this.guard.close();
    this.subscribers.clear();
    this.feed.close();
  }

  // ---- internals ------------------------------------------------------------------------------

  /** Remembers in which connection epoch a run in progress was stored here (finishStatus uses it). */
  private noteStart(status: PipelineStatus): void {
    if (isFinished(status.status)) {
      this.startEpochs.delete(status.pipelineId);
      return;
    }
    // A start buffered during an outage may never reach Redis: NaN never equals an epoch.
    this.startEpochs.set(status.pipelineId, this.queue.inOutage ? NaN : this.queue.epoch);
    if (this.startEpochs.size > MAX_TRACKED_STARTS) this.startEpochs.delete(this.startEpochs.keys().next().value as string);
  }

  private runRecordOf(status: PipelineStatus): string {
    if (!isValidPipelineId(status.pipelineId)) throw new TypeError(`Invalid pipelineId ${JSON.stringify(status.pipelineId)}`);
    const expireAt = this.ttlSeconds && isFinished(status.status) ? Date.now() + Math.round(this.ttlSeconds * 1000) : 0;
    const contribution = runContribution(status, dayStamp(status.startedAt, this.metricsRetentionDays));
    return runRecord({ status, contribution, expireAt, stepContribution });
  }

  private call(script: ScriptName, args: (string | number)[]): Promise<unknown> {
    const fn = (this.redis as unknown as Record<string, (...a: (string | number)[]) => Promise<unknown>>)[this.commands[script]]!;
    return fn.apply(this.redis, args);
  }

  /** Our own earlier writes first, then drop index entries of runs Redis expired (ttlSeconds). */
  private async prepareRead(): Promise<void> {
    await this.queue.barrier(READ_WAIT_MS);
    await this.lists.reap();
  }
}
