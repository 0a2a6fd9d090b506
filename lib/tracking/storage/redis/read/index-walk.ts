/**
 * Newest-first walks over the sorted-set indexes (score = startedAt ms, ties by id descending, which
 * is ZREVRANGEBYSCORE's own order), resumable from a cursor position, fetched in chunks. Several walks
 * merge into one stream (a name search reads every matching name's index), duplicates dropped.
 */
import type { RedisClient } from "../client";
import { compareNewestFirst, type CursorPosition } from "../../cursor";

export interface IndexEntry {
  pipelineId: string;
  startedAtMs: number;
}

export interface EntrySource {
  next(): Promise<IndexEntry | null>;
}

/** Walks one index from just after `after` (or from the newest), `chunk` entries per round trip. */
export class IndexWalker implements EntrySource {
  private buffer: IndexEntry[] = [];
  private done = false;
  private maxMs: number;
  /** Entries already consumed at score `maxMs` (they are skipped by offset on the next fetch). */
  private tiesSeen = 0;

  constructor(
    private readonly redis: RedisClient,
    private readonly key: string,
    private readonly after: CursorPosition | null,
    private readonly chunk = 100,
    private readonly minMs = -Infinity,
  ) {
    this.maxMs = after ? after.startedAtMs : Infinity;
  }

  async next(): Promise<IndexEntry | null> {
    while (this.buffer.length === 0 && !this.done) await this.fetch();
    return this.buffer.shift() ?? null;
  }

  private async fetch(): Promise<void> {
    const max = this.maxMs === Infinity ? "+inf" : String(this.maxMs);
    const min = this.minMs === -Infinity ? "-inf" : String(this.minMs);
    const reply = await this.redis.zrevrangebyscore(this.key, max, min, "WITHSCORES", "LIMIT", this.tiesSeen, this.chunk);
    if (reply.length < this.chunk * 2) this.done = true;
    for (let i = 0; i < reply.length; i += 2) {
      const entry = { pipelineId: reply[i]!, startedAtMs: Number(reply[i + 1]) };
      if (entry.startedAtMs === this.maxMs) this.tiesSeen++;
      else {
        this.maxMs = entry.startedAtMs;
        this.tiesSeen = 1;
      }
      // Resuming inside a run of equal start times: skip what the cursor already covered.
      if (this.after && compareNewestFirst(entry, this.after) <= 0) continue;
      this.buffer.push(entry);
    }
  }
}

/** A fixed, already sorted list (the id-prefix matches) as a source. */
export class ListSource implements EntrySource {
  private i = 0;
  constructor(private readonly entries: IndexEntry[]) {}
  async next(): Promise<IndexEntry | null> {
    return this.entries[this.i++] ?? null;
  }
}

/** Merges newest-first sources into one newest-first stream without duplicates. */
export class MergedSource implements EntrySource {
  private heads: (IndexEntry | null | undefined)[];
  private last: IndexEntry | null = null;

  constructor(private readonly sources: EntrySource[]) {
    this.heads = sources.map(() => undefined);
  }

  async next(): Promise<IndexEntry | null> {
    for (;;) {
      await Promise.all(
        this.heads.map(async (h, i) => {
          if (h === undefined) this.heads[i] = await this.sources[i]!.next();
        }),
      );
      let best = -1;
      this.heads.forEach((h, i) => {
        if (h && (best < 0 || compareNewestFirst(h, this.heads[best]!) < 0)) best = i;
      });
      if (best < 0) return null;
      const entry = this.heads[best]!;
      this.heads[best] = undefined;
      if (this.last && this.last.pipelineId === entry.pipelineId && this.last.startedAtMs === entry.startedAtMs) continue;
      this.last = entry;
      return entry;
    }
  }
}
