/**
 * Every Redis key the Redis storage uses, from pure functions under one prefix (default
 * "pipewatch:"). The Lua scripts (lua/*.lua) build the keys they derive at run time (an old status's
 * index, an old day's rollup) with functions generated from the same definitions (`luaKeyPrelude`,
 * prepended to every script), so this file stays the one source of every key shape.
 *
 *   <p>run:{<id>}              hash, one run. The id is a hash tag, so every key of a run maps to one
 *                              Redis Cluster slot. Fields:
 *                                doc    JSON of the run without steps and result
 *                                res    JSON of the result
 *                                names  JSON array of step names, declaration order
 *                                ss     one char per step (P R C F X), for summaries without steps
 *                                ix:<step>  1-based position of a step      s:<step>  rank char + step JSON
 *                                c:<step>   the step's rollup contribution  mc        the run's contribution
 *                                st t nm hn  status, start ms, name, has-name (to fix indexes on re-save)
 *                                mdx    "<day>|<rollup expire-at ms>" of the start day
 *                                xm     its member in <p>idx:expiry (finished runs with a ttl)
 *                                v      version, +1 on every write (the change feed carries it)
 *   <p>idx:all                 zset id → startedAt ms (ties sort by id: the list order)
 *   <p>idx:status:<STATUS>     zset id → startedAt ms, one per status
 *   <p>idx:name:<name>         zset id → startedAt ms, one per pipeline name
 *   <p>lex:ids                 zset, score 0, "<lowercase id>\0<id>": id-prefix search by ZRANGEBYLEX
 *   <p>lex:names               zset, score 0, "<lowercase name>\0<name>": name-prefix search
 *   <p>idx:expiry              zset "<STATUS>|<0/1 has name>|<id>|<name>" → expire-at ms: lets a read
 *                              drop the index entries of runs Redis expired (ttlSeconds)
 *   <p>m:<YYYY-MM-DD>          hash, rollups of runs started that UTC day: t (total), s:<STATUS>,
 *                              h<0-23>, ds/dc (duration sum/count), b<bucket> (duration histogram),
 *                              ~v (changes with every write to any of the day's three hashes; from m:seq)
 *   <p>m:seq                   counter behind every ~v, so a day that expires and comes back never
 *                              repeats one (readers keep parsed days by ~v: read/metrics.ts)
 *   <p>m:<day>:reasons         hash, failure reason → count
 *   <p>m:<day>:steps           hash, per step: c|<step> f|<step> s|<step> m|<step> b<bucket>|<step>
 *   <p>changes                 pub/sub channel: "@<epoch>" then one line per change,
 *                              "<seq>|<version>|<deleted 0/1>|<origin>|<id>" (feed/messages.ts)
 *   <p>changes:seq             counter numbering every change (the <seq> above), one INCRBY per script
 *   <p>changes:log             zset id -> seq of the run's latest change: what a subscriber that missed
 *                              messages replays (lua/changes-since.lua). One entry per run, trimmed to
 *                              the newest CHANGE_LOG_LIMIT (checked once per CHANGE_LOG_TRIM_EVERY changes)
 *   <p>changes:floor           the highest seq trimmed out of the log: a gap starting below it cannot
 *                              be replayed whole (the subscriber is told to read everything again)
 *   <p>changes:gone            hash id -> version of its delete, for deleted runs still in the log
 *   <p>leases                  zset id → lease expiry ms (Redis TIME), for runs whose process renews a
 *                              lease (lua/renew-leases.lua); the run hash holds its holder (lw) and length
 *                              (ll). A finished or deleted run leaves it; lua/claim-leases.lua picks the
 *                              expired ones for a sweep
 *   <p>workers                 zset workerId → its last heartbeat ms (Redis TIME): who is online, and
 *                              which workers to drop after WORKER_LISTED_FOR_MS (lua/record-worker.lua)
 *   <p>workers:info            hash workerId → its last heartbeat's JSON (redis/workers.ts), "stopped" included
 *   <p>epoch                   string naming this dataset, made by the first write (TIME): a Redis
 *                              that lost its data makes a new one, so subscribers know versions (and
 *                              change seqs) restarted
 *
 * Rollups expire `metricsRetentionDays` after their day and are NOT touched by retention
 * (`cleanupOlderThan`, ttl expiry): deleting old runs never rewrites history charts. Only an explicit
 * `deletePipeline` takes a run back out of them.
 *
 * Metrics with a pinned `now`: the rollups are per UTC day (the h<hour> counters count starts only,
 * not statuses, durations or steps), so `getMetrics({ now })` picks whole days: the window's last day
 * counts every run started that day, also those started after `now`. With `now` left out (the
 * present) nothing has started later, so this only matters for a `now` in the past; per-hour rollups
 * of every counter would double the rollup writes of each transition for that case alone.
 *
 * Redis Cluster: a run's keys share the `{<id>}` tag, but a transition's script also writes the global
 * indexes and rollups, which are not declared up front. On Cluster, give the prefix its own tag
 * (`keyPrefix: "{pipewatch}:"`): the first tag in a key wins, so every key then lives in one slot, the
 * scripts stay atomic, and each script declares the all-runs index so the client routes it to that
 * slot's node. The storage refuses a Cluster client with an untagged prefix. The default prefix has no
 * tag so that existing single-node data keeps its key names (a tag changes every key); where the
 * environment or a broker names a Cluster and no prefix, "{pipewatch}:" is the default instead.
 */
export const DEFAULT_KEY_PREFIX = "pipewatch:";
/** The prefix on a Cluster when none is named: its tag puts every key in one slot. */
export const DEFAULT_CLUSTER_KEY_PREFIX = "{pipewatch}:";
/** Between the lowercase and the original value in a lex-index member. */
const LEX_SEPARATOR = "\0";

/** Runs the change log keeps at most (plus up to CHANGE_LOG_TRIM_EVERY between trims). */
export const CHANGE_LOG_LIMIT = 100_000;
/** The log is trimmed when the change counter crosses a multiple of this: one ZCARD per that many changes. */
export const CHANGE_LOG_TRIM_EVERY = 1000;

/** Keys made of a fixed head, one variable part and a fixed tail: `head + part + tail`. */
interface KeyShape {
  head: string;
  tail: string;
}

/**
 * The keys with a variable part, by the name of their Lua builder (`<name>(part)` in every script).
 * RedisKeys builds the same keys from the same shapes.
 */
function shapesOf(prefix: string) {
  return {
    runKey: { head: `${prefix}run:{`, tail: "}" },
    statusIndexKey: { head: `${prefix}idx:status:`, tail: "" },
    nameIndexKey: { head: `${prefix}idx:name:`, tail: "" },
    metricsDayKey: { head: `${prefix}m:`, tail: "" },
    metricsReasonsKey: { head: `${prefix}m:`, tail: ":reasons" },
    metricsStepsKey: { head: `${prefix}m:`, tail: ":steps" },
  } satisfies Record<string, KeyShape>;
}

/** The keys without a variable part, by their Lua name. */
function fixedKeysOf(prefix: string) {
  return {
    ALL_INDEX_KEY: `${prefix}idx:all`,
    ID_LEX_KEY: `${prefix}lex:ids`,
    NAME_LEX_KEY: `${prefix}lex:names`,
    EXPIRY_INDEX_KEY: `${prefix}idx:expiry`,
    METRICS_SEQ_KEY: `${prefix}m:seq`,
    CHANNEL_KEY: `${prefix}changes`,
    CHANGE_SEQ_KEY: `${prefix}changes:seq`,
    CHANGE_LOG_KEY: `${prefix}changes:log`,
    CHANGE_FLOOR_KEY: `${prefix}changes:floor`,
    CHANGE_GONE_KEY: `${prefix}changes:gone`,
    EPOCH_KEY: `${prefix}epoch`,
    LEASES_KEY: `${prefix}leases`,
    WORKERS_KEY: `${prefix}workers`,
    WORKER_INFO_KEY: `${prefix}workers:info`,
  };
}

const shape = (s: KeyShape, part: string): string => s.head + part + s.tail;

export class RedisKeys {
  private readonly shapes: ReturnType<typeof shapesOf>;
  private readonly fixed: ReturnType<typeof fixedKeysOf>;
  constructor(readonly prefix: string = DEFAULT_KEY_PREFIX) {
    this.shapes = shapesOf(prefix);
    this.fixed = fixedKeysOf(prefix);
  }

  run(pipelineId: string): string {
    return shape(this.shapes.runKey, pipelineId);
  }
  get allIndex(): string {
    return this.fixed.ALL_INDEX_KEY;
  }
  statusIndex(status: string): string {
    return shape(this.shapes.statusIndexKey, status);
  }
  nameIndex(name: string): string {
    return shape(this.shapes.nameIndexKey, name);
  }
  get idLex(): string {
    return this.fixed.ID_LEX_KEY;
  }
  get nameLex(): string {
    return this.fixed.NAME_LEX_KEY;
  }
  get expiryIndex(): string {
    return this.fixed.EXPIRY_INDEX_KEY;
  }
  metricsDay(day: string): string {
    return shape(this.shapes.metricsDayKey, day);
  }
  metricsReasons(day: string): string {
    return shape(this.shapes.metricsReasonsKey, day);
  }
  metricsSteps(day: string): string {
    return shape(this.shapes.metricsStepsKey, day);
  }
  get metricsSeq(): string {
    return this.fixed.METRICS_SEQ_KEY;
  }
  get channel(): string {
    return this.fixed.CHANNEL_KEY;
  }
  get changeSeq(): string {
    return this.fixed.CHANGE_SEQ_KEY;
  }
  get changeLog(): string {
    return this.fixed.CHANGE_LOG_KEY;
  }
  get changeFloor(): string {
    return this.fixed.CHANGE_FLOOR_KEY;
  }
  get changeGone(): string {
    return this.fixed.CHANGE_GONE_KEY;
  }
  get leases(): string {
    return this.fixed.LEASES_KEY;
  }
  get workers(): string {
    return this.fixed.WORKERS_KEY;
  }
  get workerInfo(): string {
    return this.fixed.WORKER_INFO_KEY;
  }
  get epoch(): string {
    return this.fixed.EPOCH_KEY;
  }

  /**
   * The Lua every script starts with: each fixed key as a constant, each shaped key as a builder
   * function, and the lex-member builder. Generated here rather than passed in ARGV: the prefix is fixed for a storage's life, so embedding it costs nothing per
   * call (the wire carries only ids and values, and recording is bound by per-argument costs), and a
   * script can then derive keys from stored values (an old status, an old day) with the very
   * definitions the TS side uses. Two prefixes are two scripts (storage.ts names one command per text).
   */
  luaPrelude(): string {
    const lines = ["-- generated from keys.ts (RedisKeys.luaPrelude)"];
    for (const [name, key] of Object.entries(this.fixed)) lines.push(`local ${name} = ${luaString(key)}`);
    for (const [name, s] of Object.entries(this.shapes) as [string, KeyShape][]) {
      const tail = s.tail ? ` .. ${luaString(s.tail)}` : "";
      lines.push(`local function ${name}(part) return ${luaString(s.head)} .. part${tail} end`);
    }
    // lexMember below, with the lowercasing done by the caller (Lua's string.lower is ASCII only)
    lines.push(`local function lexMember(lower, original) return lower .. ${luaString(LEX_SEPARATOR)} .. original end`);
    lines.push(`local CHANGE_LOG_LIMIT, CHANGE_LOG_TRIM_EVERY = ${CHANGE_LOG_LIMIT}, ${CHANGE_LOG_TRIM_EVERY}`);
    return `${lines.join("\n")}\n`;
  }
}

/** A Lua string literal: printable ASCII as is, everything else as a decimal escape. */
export function luaString(text: string): string {
  let out = '"';
  for (const byte of Buffer.from(text, "utf8")) {
    if (byte >= 0x20 && byte < 0x7f && byte !== 0x22 && byte !== 0x5c) out += String.fromCharCode(byte);
    else out += `\\${String(byte).padStart(3, "0")}`;
  }
  return `${out}"`;
}

/** The lex-index member for a case-insensitive prefix search: "<lowercase>\0<original>". */
export function lexMember(value: string): string {
  return `${value.toLowerCase()}${LEX_SEPARATOR}${value}`;
}

/**
 * The original value of a lex-index member. A name may itself hold NULs; lowercasing keeps their
 * number, so the separator is the middle one.
 */
export function lexOriginal(member: string): string {
  const nuls: number[] = [];
  for (let i = member.indexOf(LEX_SEPARATOR); i >= 0; i = member.indexOf(LEX_SEPARATOR, i + 1)) nuls.push(i);
  const sep = nuls[(nuls.length - 1) >> 1];
  return sep === undefined ? member : member.slice(sep + 1);
}
