/**
 * Every Redis key the Redis storage uses, from pure functions under one prefix (default
 * "pipewatch:"). The Lua scripts build the keys they derive at run time (an old status's index, an
 * old day's rollup) by concatenating the same parts (`keyParts`), so this file stays the one source.
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
 *                              repeats one (readers keep parsed days by ~v: redis/read/metrics.ts)
 *   <p>m:<day>:reasons         hash, failure reason → count
 *   <p>m:<day>:steps           hash, per step: c|<step> f|<step> s|<step> m|<step> b<bucket>|<step>
 *   <p>changes                 pub/sub channel: "@<epoch>" then one line per change,
 *                              "<version>|<deleted 0/1>|<origin>|<id>"
 *   <p>epoch                   string naming this dataset, made by the first write (TIME): a Redis
 *                              that lost its data makes a new one, so subscribers know versions restarted
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
 * tag so that existing single-node data keeps its key names (a tag changes every key).
 */
export const DEFAULT_KEY_PREFIX = "pipewatch:";

export interface KeyParts {
  run: string;
  all: string;
  status: string;
  name: string;
  lexIds: string;
  lexNames: string;
  expiry: string;
  metrics: string;
  reasonsSuffix: string;
  stepsSuffix: string;
  channel: string;
  epoch: string;
}

export function keyParts(prefix: string = DEFAULT_KEY_PREFIX): KeyParts {
  return {
    run: `${prefix}run:`,
    all: `${prefix}idx:all`,
    status: `${prefix}idx:status:`,
    name: `${prefix}idx:name:`,
    lexIds: `${prefix}lex:ids`,
    lexNames: `${prefix}lex:names`,
    expiry: `${prefix}idx:expiry`,
    metrics: `${prefix}m:`,
    reasonsSuffix: ":reasons",
    stepsSuffix: ":steps",
    channel: `${prefix}changes`,
    epoch: `${prefix}epoch`,
  };
}

export class RedisKeys {
  readonly parts: KeyParts;
  constructor(readonly prefix: string = DEFAULT_KEY_PREFIX) {
    this.parts = keyParts(prefix);
  }

  run(pipelineId: string): string {
    return `${this.parts.run}{${pipelineId}}`;
  }
  get allIndex(): string {
    return this.parts.all;
  }
  statusIndex(status: string): string {
    return this.parts.status + status;
  }
  nameIndex(name: string): string {
    return this.parts.name + name;
  }
  get idLex(): string {
    return this.parts.lexIds;
  }
  get nameLex(): string {
    return this.parts.lexNames;
  }
  get expiryIndex(): string {
    return this.parts.expiry;
  }
  metricsDay(day: string): string {
    return this.parts.metrics + day;
  }
  metricsReasons(day: string): string {
    return this.parts.metrics + day + this.parts.reasonsSuffix;
  }
  metricsSteps(day: string): string {
    return this.parts.metrics + day + this.parts.stepsSuffix;
  }
  get channel(): string {
    return this.parts.channel;
  }
}

/** The lex-index member for a case-insensitive prefix search: "<lowercase>\0<original>". */
export function lexMember(value: string): string {
  return `${value.toLowerCase()}\0${value}`;
}

/**
 * The original value of a lex-index member. A name may itself hold NULs; lowercasing keeps their
 * number, so the separator is the middle one.
 */
export function lexOriginal(member: string): string {
  const nuls: number[] = [];
  for (let i = member.indexOf("\0"); i >= 0; i = member.indexOf("\0", i + 1)) nuls.push(i);
  const sep = nuls[(nuls.length - 1) >> 1];
  return sep === undefined ? member : member.slice(sep + 1);
}
