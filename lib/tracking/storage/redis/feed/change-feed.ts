/**
 * The Redis storage's change feed: one subscriber connection of its own (a `duplicate()` of the
 * caller's client), subscribed again every time it becomes ready. ioredis's own resubscription only
 * covers channels it had subscribed: a first SUBSCRIBE issued while Redis was down, rejected by the
 * client's retry limit, was never retried, and the process missed every change for its lifetime.
 * The connection reconnects for as long as the storage is open (past a retry strategy that gives up).
 *
 * Messages (messages.ts) carry each change's seq, and every write also logs the run id under that
 * seq (keys.ts: the change log). The feed remembers the last seq it heard. Messages published while
 * its connection was down are lost to pub/sub, so once it is subscribed again it asks the log for
 * every run changed after that seq (the changesSince script, a page at a time) and delivers each as
 * an ordinary change with the run's current version: a subscriber that dedupes by version drops what
 * it already had. When the dataset changed meanwhile (a new epoch: Redis restarted empty, or was
 * flushed) or the log was trimmed past the gap, it also calls `onReset`: the subscriber may have
 * missed changes nobody can replay.
 */
import { Redis, type RedisOptions } from "ioredis";
import { isCluster, type RedisClient } from "../client";
import type { Logger } from "../../../../logger";
import type { StorageChange } from "../../types";
import { parseChangeLine, parseChangeMessage } from "./messages";
import { FeedOutageLog } from "./outage-log";

/** The subscriber's reconnect back-off when the client's own retry strategy gives up. */
const MAX_RECONNECT_DELAY_MS = 2_000;
/** Runs per replay call (a script blocks Redis while it runs). */
export const REPLAY_PAGE = 1000;
const MAX_REPLAY_RETRY_MS = 2_000;

/** The changesSince script's answer: the dataset's epoch ('' none yet), its head and floor seqs, change lines. */
export interface ReplayPage {
  epoch: string;
  head: number;
  floor: number;
  lines: string;
}

/** Runs the changesSince script: `since` null for the head only. */
export type ReplayFetch = (since: number | null, limit: number) => Promise<ReplayPage>;

/** A ReplayFetch over the changesSince script, given a function that runs it with these ARGV. */
export function changesSinceFetch(runScript: (args: (string | number)[]) => Promise<unknown>): ReplayFetch {
  return async (since, limit) => {
    const [epoch, head, floor, lines] = (await runScript([since === null ? "" : since, limit])) as [string, string, string, string];
    return { epoch, head: Number(head), floor: Number(floor), lines };
  };
}

export interface ChangeFeedHandlers {
  deliver(change: StorageChange): void;
  reset(): void;
}

export class RedisChangeFeed {
  private sub: Redis | null = null;
  private running = false;
  /** Subscribed on the current connection (health reports it). */
  private live = false;
  private readonly outage: FeedOutageLog;
  /** The dataset the feed follows: null before it knows, '' while Redis holds no epoch yet. */
  private epoch: string | null = null;
  /** The highest change seq heard (live or replayed) in that dataset. */
  private lastSeq = 0;
  /** Subscribed at least once: the next subscribe follows a gap. */
  private subscribed = false;
  private catchUp: Promise<void> = Promise.resolve();
  /** The log's head when start() was called: the first subscribe replays what changed since. */
  private startHead: Promise<ReplayPage | null> = Promise.resolve(null);
  private readonly caughtUpWaiters: (() => void)[] = [];

  constructor(
    private readonly redis: RedisClient,
    private readonly channel: string,
    private readonly logger: Logger,
    private readonly handlers: ChangeFeedHandlers,
    private readonly fetchSince: ReplayFetch,
  ) {
    this.outage = new FeedOutageLog(logger);
  }

  get started(): boolean {
    return this.running;
  }

  /** "live" while the subscriber connection is up and subscribed; "reconnecting" otherwise (health reports it). */
  get state(): "live" | "reconnecting" {
    return this.live && this.sub?.status === "ready" ? "live" : "reconnecting";
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    // A subscriber hears every change made after it subscribed, also those made while the
    // subscriber connection was still opening (a Cluster client needs its slot map first).
    this.startHead = this.fetchSince(null, 0).catch(() => null);
    this.open(0);
  }

  /** Opens the subscriber connection; on a Cluster the n-th one goes to the n-th node (feedConnection). */
  private open(attempt: number): void {
    // A wait for a Cluster's "ready" left over from before a close() and start() finds one open.
    if (!this.running || this.sub) return;
    const sub = feedConnection(this.redis, attempt);
    if (!sub) {
      // A Cluster client that knows no node yet: once it is connected.
      this.redis.once("ready", () => this.open(attempt));
      if (this.redis.status === "wait") this.redis.connect().catch(() => undefined);
      return;
    }
    this.sub = sub;
    sub.on("error", (err: Error) => this.outage.error(err));
    sub.on("close", () => {
      if (this.sub === sub) this.live = false;
    });
    // Only a Cluster's feed connection gives up (its node may be gone for good): try the next node.
    sub.on("end", () => {
      if (this.sub !== sub) return;
      this.sub = null;
      this.live = false;
      this.open(attempt + 1);
    });
    sub.on("ready", () => {
      this.outage.ready();
      // Where the gap starts, read before SUBSCRIBE: messages that arrive in the same read as its
      // reply are handled before the promise continues, and would move lastSeq past the gap.
      const from = { seq: this.lastSeq, epoch: this.epoch };
      sub.subscribe(this.channel).then(
        () => {
          if (this.sub !== sub) return;
          const gap = this.subscribed;
          this.subscribed = true;
          this.live = sub.status === "ready";
          this.catchUp = this.catchUp.then(() => this.followUp(sub, gap ? from : null));
        },
        (err: unknown) => {
          // A connection lost meanwhile subscribes again on its next "ready"; anything else is logged.
          if (sub.status === "ready") this.logger.error({ err }, "could not subscribe to the change feed");
        },
      );
    });
    sub.on("message", (_channel: string, message: string) => this.onMessage(message));
  }

  close(): void {
    this.running = false;
    const sub = this.sub;
    this.sub = null;
    sub?.disconnect();
    this.live = false;
    // A feed started again later begins at the log's head: its new subscribers never asked for the
    // changes made while it was closed (replaying them re-read every run recorded meanwhile).
    this.subscribed = false;
    this.epoch = null;
    this.lastSeq = 0;
    for (const resolve of this.caughtUpWaiters.splice(0)) resolve();
  }

  /** Resolves once the feed has (re)subscribed and caught up: after the next replay, or the first baseline. */
  nextCatchUp(): Promise<void> {
    return new Promise((resolve) => this.caughtUpWaiters.push(resolve));
  }

  private onMessage(message: string): void {
    const { epoch, changes } = parseChangeMessage(message);
    if (epoch !== undefined) this.follow(epoch);
    for (const { seq, change } of changes) {
      if (seq > this.lastSeq) this.lastSeq = seq;
      this.handlers.deliver(change);
    }
  }

  /**
   * Moves to `epoch`; leaving a known dataset for another one is a reset (versions started over).
   * Answers whether it reset.
   */
  private follow(epoch: string): boolean {
    if (epoch === this.epoch) return false;
    const known = this.epoch;
    this.epoch = epoch;
    this.lastSeq = 0;
    if (!known) return false;
    this.handlers.reset();
    return true;
  }

  /**
   * After a subscribe: the first one replays what changed since start() (or, when the log's head
   * could not be read then, learns where the log stands), a later one replays the gap.
   */
  private async followUp(sub: Redis, gap: { seq: number; epoch: string | null } | null): Promise<void> {
    for (let attempt = 1; this.sub === sub; attempt++) {
      try {
        if (gap) await this.replay(gap.seq, gap.epoch);
        else await this.sinceStart();
        break;
      } catch (err) {
        // The storage's own connection may still be reconnecting: try again while the feed is open.
        if (attempt === 1) this.logger.warn({ err }, "could not read the change log after subscribing (retrying)");
        await new Promise((r) => setTimeout(r, Math.min(100 * attempt, MAX_REPLAY_RETRY_MS)));
      }
    }
    for (const resolve of this.caughtUpWaiters.splice(0)) resolve();
  }

  private async sinceStart(): Promise<void> {
    const start = await this.startHead;
    this.startHead = Promise.resolve(null); // a retry after a failed replay falls back to the baseline
    if (!start) return this.baseline();
    if (this.epoch === null) this.epoch = start.epoch;
    if (start.epoch === this.epoch && start.head > this.lastSeq) this.lastSeq = start.head;
    await this.replay(start.head, start.epoch);
  }

  private async baseline(): Promise<void> {
    const page = await this.fetchSince(null, 0);
    if (this.epoch === null) this.epoch = page.epoch;
    if (page.epoch === this.epoch && page.head > this.lastSeq) this.lastSeq = page.head;
  }

  /** Delivers every run changed after `since` (the last seq heard in `startEpoch`), page by page. */
  private async replay(from: number, startEpoch: string | null): Promise<void> {
    let since = from;
    let page = await this.fetchSince(since, REPLAY_PAGE);
    let reset = false;
    if (page.epoch !== startEpoch) {
      // Another dataset: what the feed knew counts for nothing; replay the new one from its start.
      // (A live message of the new dataset may have switched over already, and reset then.)
      if (this.epoch === startEpoch) reset = this.follow(page.epoch);
      if (since !== 0) {
        since = 0;
        page = await this.fetchSince(since, REPLAY_PAGE);
      }
    }
    // The log lost entries after `since`: deliver what it holds, and say that some are missing.
    if (since < page.floor && !reset) this.handlers.reset();
    for (;;) {
      const lines = page.lines ? page.lines.split("\n") : [];
      for (const line of lines) {
        const parsed = parseChangeLine(line, page.epoch || undefined);
        if (!parsed) continue;
        since = Math.max(since, parsed.seq);
        if (page.epoch === this.epoch && parsed.seq > this.lastSeq) this.lastSeq = parsed.seq;
        this.handlers.deliver(parsed.change);
      }
      if (lines.length < REPLAY_PAGE) return;
      page = await this.fetchSince(since, REPLAY_PAGE);
    }
  }
}

/** Attempts to reconnect a Cluster node's feed connection before it moves to the next node. */
const CLUSTER_NODE_ATTEMPTS = 3;

/**
 * The feed's own connection: it waits for Redis however long it takes (no per-command retry limit,
 * an offline queue), connects now (not lazily), and subscribes itself on "ready" (no auto-resubscribe).
 *
 * On a Cluster it is a plain connection to one node (the `attempt`-th the cluster client knows; null
 * while it knows none): a PUBLISH reaches every node's subscribers, and the cluster client's own
 * subscriber moves between nodes without an event, so a gap would go unnoticed and unreplayed. It
 * gives up after a few failed reconnects ("end"), and the feed opens one to the next node.
 */
function feedConnection(redis: RedisClient, attempt: number): Redis | null {
  if (isCluster(redis)) {
    const nodes = redis.nodes("all");
    const node = nodes[attempt % Math.max(1, nodes.length)];
    if (!node) return null;
    return new Redis({
      ...node.options,
      readOnly: false,
      autoResubscribe: false,
      lazyConnect: false,
      enableOfflineQueue: true,
      maxRetriesPerRequest: null,
      retryStrategy: (times: number) => (times > CLUSTER_NODE_ATTEMPTS ? null : Math.min(100 * times, MAX_RECONNECT_DELAY_MS)),
    });
  }
  const own = redis.options.retryStrategy;
  const overrides: Partial<RedisOptions> = {
    autoResubscribe: false,
    lazyConnect: false,
    enableOfflineQueue: true,
    maxRetriesPerRequest: null,
    retryStrategy: (times: number) => {
      const delay = own?.(times);
      return typeof delay === "number" ? delay : Math.min(100 * times, MAX_RECONNECT_DELAY_MS);
    },
  };
  return redis.duplicate(overrides);
}
