/**
 * The list reads of the Redis storage: pages (listPage), whole runs (listPipelines, getHistory) and
 * the status counts. A page without a search is one script call (lua/list-page.lua: it walks the
 * index, reads each run's summary fields and drops entries of records that are gone); a search
 * merges the matching name indexes and id prefixes here (index-walk.ts) and reads the runs in
 * pipelines. Anything that does not decode is skipped and logged, and the page still fills up.
 */
import type { RedisClient } from "../client";
import type { Logger } from "../../../../logger";
import { STATUSES, type PipelineStatus, type PipelineSummary, type Status } from "../../../models";
import { encodeCursor } from "../../cursor";
import { lexOriginal, type RedisKeys } from "../keys";
import { IndexWalker, ListSource, MergedSource, type EntrySource, type IndexEntry } from "./index-walk";
import { CorruptRecordError, decodeRun, decodeSummary } from "../records";
import type { ScriptName } from "../scripts";
import type { Page, PageQuery } from "../../types";

const ID_MATCH_LIMIT = 5000;
const NAME_MATCH_LIMIT = 200;
/** Expiry entries a read script reaps at most per call (more wait for the next read, or loop in counts). */
export const REAP_BATCH = 500;
const MAX_REAP_ROUNDS = 20;

export type ScriptCall = (script: ScriptName, args: (string | number)[]) => Promise<unknown>;

/** The write queue's progress, for read-your-writes (write/queue.ts). */
export interface WriteProgress {
  readonly issued: number;
  doneUpTo(): number;
}

type Counts = Record<Status, number>;

/**
 * A countByStatus waiting to be sent. A list request asks for a page and the counts together
 * (server: Promise.all); the page's script call, sent first, counts too for every ticket whose
 * caller's earlier writes are all done, and the count call is not sent at all.
 */
interface CountTicket {
  /** The writes this process had issued when countByStatus was called (it must see them). */
  writes: number;
  rider: Promise<Counts> | null;
}

type Listed = { summary: PipelineSummary; entry: IndexEntry };

/** The listPage script's reply (lua/list-page.lua): reaped, packed, scores, listed, skipped, counts, rows. */
type PageReply = [number, string, string, number, string[], number[], (string | null)[]];

/** The listPage script's separator and its mark of a missing field. */
const US = "\x1f";
const NAK = "\x15";

/** id, doc, ss, names of each listed run (null when missing); null when the packing cannot be trusted. */
function unpackRows([, packed, , listed, , , rows]: PageReply): (string | null)[] | null {
  if (rows.length > 0 || listed === 0) return rows;
  const fields = packed.split(US);
  if (fields.length !== 4 * listed) return null;
  return fields.map((f) => (f === NAK ? null : f));
}

export class RedisListReader {
  private readonly tickets = new Set<CountTicket>();

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
    private readonly logger: Logger,
    private readonly call: ScriptCall,
    private readonly writes: WriteProgress,
  ) {}

  /**
   * Counts per status, by a page's script call sent meanwhile or else by its own. The ticket is taken
   * at once (a page requested in the same tick, before or after, can carry it); `read` runs the rest
   * as a guarded read, `ready` is what must come before the answer (this process's earlier writes).
   */
  async countByStatus(read: <T>(load: () => Promise<T>) => Promise<T>, ready: () => Promise<void>): Promise<Counts> {
    const ticket: CountTicket = { writes: this.writes.issued, rider: null };
    this.tickets.add(ticket);
    try {
      return await read(async () => {
        await ready();
        this.tickets.delete(ticket);
        if (ticket.rider) {
          try {
            return await ticket.rider;
          } catch {
            // The page call failed or left expiry entries due: count on our own.
          }
        }
        return this.ownCounts();
      });
    } finally {
      this.tickets.delete(ticket);
    }
  }

  /** Tickets a script call sent now may answer, and the promise they then wait on. */
  private takeTickets(): ((counts: Counts | Error) => void) | null {
    if (this.tickets.size === 0) return null;
    const done = this.writes.doneUpTo();
    const riders = [...this.tickets].filter((t) => t.rider === null && t.writes <= done);
    if (riders.length === 0) return null;
    let settle!: (counts: Counts | Error) => void;
    const rider = new Promise<Counts>((resolve, reject) => {
      settle = (counts) => (counts instanceof Error ? reject(counts) : resolve(counts));
    });
    rider.catch(() => undefined); // a ticket whose caller already failed does not wait on it
    for (const t of riders) t.rider = rider;
    return settle;
  }

  async page(query: PageQuery, limit: number, after: IndexEntry | null): Promise<Page> {
    const q = query.q?.toLowerCase() ?? "";
    const found = q ? await this.searchPage(q, query.status, limit, after) : await this.indexPage(query.status, limit, after);
    const items = found.slice(0, limit);
    const last = items[items.length - 1];
    return { items: items.map((f) => f.summary), nextCursor: found.length > limit && last ? encodeCursor(last.entry) : null };
  }

  /** limit + 1 runs (one more tells whether a next page exists) from the listPage script. */
  private async indexPage(status: Status | undefined, limit: number, after: IndexEntry | null): Promise<Listed[]> {
    const key = status ? this.keys.statusIndex(status) : this.keys.allIndex;
    const found: Listed[] = [];
    let from = after;
    for (;;) {
      const want = limit + 1 - found.length;
      const args = [
        this.keys.allIndex,
        key,
        status ?? "",
        want,
        from ? from.startedAtMs : "",
        from ? from.pipelineId : "",
        Date.now(),
        REAP_BATCH,
      ];
      const settle = this.takeTickets();
      let reply: PageReply;
      try {
        reply = (await this.call("listPage", [...args, settle ? "1" : "0", "0"])) as PageReply;
      } catch (err) {
        settle?.(err instanceof Error ? err : new Error(String(err)));
        throw err;
      }
      settle?.(reply[0] < REAP_BATCH ? countsOf(reply[5]) : new Error("expiry entries still due"));
      let rows = unpackRows(reply);
      // A field holding the separator (not a record of ours): the same rows once more, unpacked.
      if (!rows) rows = unpackRows((reply = (await this.call("listPage", [...args, "0", "1"])) as PageReply))!;
      const [, , scores, listed, bad] = reply;
      for (let i = 0; i + 1 < bad.length; i += 2) this.skipped(bad[i]!, new CorruptRecordError(bad[i]!, bad[i + 1]!));
      const startedAt = scores ? scores.split(US) : [];
      for (let k = 0; k < listed; k++) {
        const pipelineId = rows[4 * k] ?? "";
        const entry = { pipelineId, startedAtMs: Number(startedAt[k]) };
        from = entry;
        try {
          const summary = decodeSummary(pipelineId, rows[4 * k + 1] ?? null, rows[4 * k + 2] ?? null, rows[4 * k + 3] ?? null);
          if (summary && (!status || summary.status === status)) found.push({ summary, entry });
        } catch (err) {
          this.skipped(pipelineId, err);
        }
      }
      // Fewer than asked: the index has no more. Else some did not decode: read on after them.
      if (listed < want || found.length > limit) return found;
    }
  }

  private async searchPage(q: string, status: Status | undefined, limit: number, after: IndexEntry | null): Promise<Listed[]> {
    const chunk = Math.min(500, Math.max(20, limit + 1));
    const source = await this.searchSource(q, after, chunk);
    const found: Listed[] = [];
    while (found.length <= limit) {
      const batch = await take(source, chunk);
      if (batch.length === 0) break;
      const pipeline = this.redis.pipeline();
      for (const e of batch) pipeline.hmget(this.keys.run(e.pipelineId), "doc", "ss", "names");
      const replies = (await pipeline.exec()) ?? [];
      batch.forEach((entry, i) => {
        const summary = this.decodeListed(entry, replies[i], (v) => {
          const [doc, ss, names] = v as (string | null)[];
          return decodeSummary(entry.pipelineId, doc ?? null, ss ?? null, names ?? null);
        });
        if (summary && (!status || summary.status === status)) found.push({ summary, entry });
      });
      if (batch.length < chunk) break;
    }
    return found;
  }

  /** Whole runs, newest first, from an index walk. */
  async runs(source: EntrySource, limit: number): Promise<PipelineStatus[]> {
    const out: PipelineStatus[] = [];
    while (out.length < limit) {
      const batch = await take(source, 200);
      if (batch.length === 0) break;
      const pipeline = this.redis.pipeline();
      for (const e of batch) pipeline.hgetall(this.keys.run(e.pipelineId));
      const replies = (await pipeline.exec()) ?? [];
      batch.forEach((entry, i) => {
        const run = this.decodeListed(entry, replies[i], (v) => decodeRun(entry.pipelineId, v as Record<string, string>));
        if (run && out.length < limit) out.push(run);
      });
      if (batch.length < 200) break;
    }
    return out;
  }

  /** One script call (it reaps first); more rounds only while expired entries are still due. */
  private async ownCounts(): Promise<Counts> {
    for (let round = 1; ; round++) {
      const [reaped, ...counts] = (await this.call("countByStatus", [this.keys.allIndex, Date.now(), REAP_BATCH])) as number[];
      if (reaped! < REAP_BATCH || round >= MAX_REAP_ROUNDS) return countsOf(counts);
    }
  }

  /** Drops index entries of runs Redis expired (ttlSeconds), all that are due (in rounds). */
  async reap(): Promise<void> {
    for (let round = 0; round < MAX_REAP_ROUNDS; round++) {
      const looked = Number(await this.call("reap", [this.keys.allIndex, Date.now(), REAP_BATCH]));
      if (looked < REAP_BATCH) break;
    }
  }

  /** id-prefix matches (lex index, sorted by start here) merged with every matching name's index. */
  private async searchSource(q: string, after: IndexEntry | null, chunk: number): Promise<EntrySource> {
    const range = [`[${q}`, `[${q}\uffff`] as const;
    const [names, ids] = await Promise.all([
      this.redis.zrangebylex(this.keys.nameLex, range[0], range[1], "LIMIT", 0, NAME_MATCH_LIMIT),
      this.redis.zrangebylex(this.keys.idLex, range[0], range[1], "LIMIT", 0, ID_MATCH_LIMIT + 1),
    ]);
    const sources: EntrySource[] = names.map((m) => new IndexWalker(this.redis, this.keys.nameIndex(lexOriginal(m)), after, chunk));
    if (ids.length > ID_MATCH_LIMIT) {
      // Too many id matches to sort here: walk the time index and keep the matching ids (rare).
      sources.push(new PrefixFilter(new IndexWalker(this.redis, this.keys.allIndex, after, 500), q));
    } else if (ids.length > 0) {
      const plain = ids.map(lexOriginal);
      const scores = await this.redis.zmscore(this.keys.allIndex, ...plain);
      const entries: IndexEntry[] = [];
      plain.forEach((pipelineId, i) => {
        const s = scores[i];
        if (s !== null && s !== undefined) entries.push({ pipelineId, startedAtMs: Number(s) });
      });
      entries.sort((a, b) => b.startedAtMs - a.startedAtMs || (a.pipelineId < b.pipelineId ? 1 : -1));
      const start = after
        ? entries.findIndex(
            (e) => e.startedAtMs < after.startedAtMs || (e.startedAtMs === after.startedAtMs && e.pipelineId < after.pipelineId),
          )
        : 0;
      sources.push(new ListSource(start < 0 ? [] : entries.slice(start)));
    }
    return new MergedSource(sources);
  }

  /** One listed record: null (and the stale index entry dropped) when gone, null (logged) when corrupt. */
  private decodeListed<T>(entry: IndexEntry, reply: [Error | null, unknown] | undefined, decode: (value: unknown) => T | null): T | null {
    try {
      if (!reply) return null;
      if (reply[0]) throw /WRONGTYPE/.test(reply[0].message) ? new CorruptRecordError(entry.pipelineId, "not a hash") : reply[0];
      const value = decode(reply[1]);
      if (value === null) void this.call("cleanup", [this.keys.allIndex, entry.pipelineId]).catch(() => undefined);
      return value;
    } catch (err) {
      this.skipped(entry.pipelineId, err);
      return null;
    }
  }

  private skipped(pipelineId: string, err: unknown): void {
    this.logger.error({ err, pipelineId }, "skipped a pipeline record that could not be read");
  }
}

function countsOf(counts: readonly number[]): Counts {
  return Object.fromEntries(STATUSES.map((s, i) => [s, Number(counts[i] ?? 0)])) as Counts;
}

async function take(source: EntrySource, n: number): Promise<IndexEntry[]> {
  const batch: IndexEntry[] = [];
  for (let e = await source.next(); e; e = batch.length < n ? await source.next() : null) batch.push(e);
  return batch;
}

class PrefixFilter implements EntrySource {
  constructor(
    private readonly inner: EntrySource,
    private readonly prefix: string,
  ) {}
  async next(): Promise<IndexEntry | null> {
    for (let e = await this.inner.next(); e; e = await this.inner.next()) {
      if (e.pipelineId.toLowerCase().startsWith(this.prefix)) return e;
    }
    return null;
  }
}
