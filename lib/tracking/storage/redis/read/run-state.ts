/**
 * A run's status and error alone, for watchers of runs (a producer waiting for its runs, a worker
 * listening for a cancel), which look again on changes of them: two fields of the run's hash, no
 * steps decoded. Many are asked at once under load, so the reads asked for in one tick go to Redis
 * as one pipeline (one socket write, one read by Redis) instead of one each.
 */
import { isCluster, type RedisClient } from "../client";
import { isFinished, type Status } from "../../../models";

export type RunState = { status: Status; error: string | null } | null;

interface StateRead {
  key: string;
  resolve: (fields: (string | null)[]) => void;
  reject: (err: unknown) => void;
}

export class RunStateReader {
  /** Reads waiting for the end of this tick. */
  private pending: StateRead[] | null = null;

  constructor(private readonly redis: RedisClient) {}

  /** `runKey`: the run's hash; null when there is no such run. */
  async read(runKey: string): Promise<RunState> {
    const [st, doc] = await this.fields(runKey);
    if (st === null || st === undefined) return null;
    const status = st as Status;
    // The error is read only once the run ended (it is in the run's doc, a small JSON object).
    if (!isFinished(status)) return { status, error: null };
    const error = doc ? (JSON.parse(doc) as { error?: unknown }).error : null;
    return { status, error: typeof error === "string" ? error : null };
  }

  private fields(key: string): Promise<(string | null)[]> {
    return new Promise((resolve, reject) => {
      if (!this.pending) {
        const batch: StateRead[] = (this.pending = []);
        process.nextTick(() => {
          this.pending = null;
          void this.send(batch);
        });
      }
      this.pending.push({ key, resolve, reject });
    });
  }

  private async send(batch: StateRead[]): Promise<void> {
    // A cluster's pipeline must stay in one slot, and runs' keys may not share one: a read each there.
    if (batch.length === 1 || isCluster(this.redis)) {
      for (const read of batch) this.redis.hmget(read.key, "st", "doc").then(read.resolve, read.reject);
      return;
    }
    const pipeline = this.redis.pipeline();
    for (const read of batch) pipeline.hmget(read.key, "st", "doc");
    try {
      const replies = (await pipeline.exec()) ?? [];
      batch.forEach((read, i) => {
        const [err, fields] = replies[i] ?? [new Error("no reply to a run state read")];
        if (err) read.reject(err);
        else read.resolve(fields as (string | null)[]);
      });
    } catch (err) {
      for (const read of batch) read.reject(err);
    }
  }
}
