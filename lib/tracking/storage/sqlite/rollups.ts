/**
 * Metrics rollups in SQLite: the per-day counters the Redis storage keeps (redis/rollups.ts makes
 * the contribution strings and assembles metrics from parsed days), as rows of one table keyed by
 * (day, kind, field). A write subtracts a run's or step's old contribution and adds the new one;
 * the deltas of a whole write batch are summed here and written once, so a batch of transitions of
 * one day costs a few upserts. Per-hour counts are the "h<hour>" fields of each day's counters.
 */
import { utcDate } from "../../metrics";
import type { MetricsQuery, PipelineMetrics } from "../../metrics-types";
import type { PipelineStatus } from "../../models";
import type { StoredRun, StoredStep } from "../compact";
import { assembleMetrics, parseDay, runContribution, stepContribution, windowDays, type DayRollup } from "../redis/rollups";
import type { Database, Statement } from "./driver";

const COUNTERS = 0;
const REASONS = 1;
const STEPS = 2;
const SEP = "\x1f";

const DAY_MS = 86_400_000;
const dayNames = new Map<number, string>();

/** The day (UTC) a run's rollups go to ("YYYY-MM-DD", computed once per day number: every step write asks). */
export function runDay(run: StoredRun): string {
  const dayNumber = Math.floor(run.startedAt / DAY_MS);
  let name = dayNames.get(dayNumber);
  if (name === undefined) {
    if (dayNames.size > 10_000) dayNames.clear();
    dayNames.set(dayNumber, (name = utcDate(new Date(dayNumber * DAY_MS))));
  }
  return name;
}

export class RollupDeltas {
  private readonly adds = new Map<string, number>();
  private readonly maxes = new Map<string, number>();

  get size(): number {
    return this.adds.size + this.maxes.size;
  }

  /** Adds (sign 1) or takes back (sign -1) a run's own contribution and every step's. */
  run(run: StoredRun, sign: 1 | -1): void {
    const day = runDay(run);
    // runContribution takes a PipelineStatus; these four fields are all it reads.
    const view = {
      status: run.status,
      durationMs: run.durationMs,
      error: run.error,
      startedAt: new Date(run.startedAt),
    } as PipelineStatus;
    // "<day>|<exp>|<hour>|<status>|<duration>|<bucket>|<reason>" (the expiry is Redis's; unused here)
    const parts = runContribution(view, `${day}|`).split("|");
    const [, , hour, status, duration, bucket] = parts;
    const reason = parts.slice(6).join("|");
    this.add(day, COUNTERS, "t", sign);
    this.add(day, COUNTERS, `s:${status}`, sign);
    this.add(day, COUNTERS, `h${hour}`, sign);
    if (duration !== "") {
      this.add(day, COUNTERS, "ds", sign * Number(duration));
      this.add(day, COUNTERS, "dc", sign);
      this.add(day, COUNTERS, `b${bucket}`, sign);
    }
    if (status === "FAILED") this.add(day, REASONS, reason, sign);
    for (const step of run.steps) this.step(day, step, sign);
  }

  /** A step's contribution to its run's day (only finished steps with a duration add any). */
  step(day: string, step: StoredStep, sign: 1 | -1): void {
    const c = stepContribution(step as unknown as Parameters<typeof stepContribution>[0]);
    if (c === "") return;
    const [failed, duration, bucket] = c.split("|");
    const name = step.stepName;
    const d = Number(duration);
    this.add(day, STEPS, `c|${name}`, sign);
    if (failed === "1") this.add(day, STEPS, `f|${name}`, sign);
    this.add(day, STEPS, `s|${name}`, sign * d);
    this.add(day, STEPS, `b${bucket}|${name}`, sign);
    if (sign === 1) {
      const key = `${day}${SEP}${STEPS}${SEP}m|${name}`;
      const held = this.maxes.get(key);
      if (held === undefined || held < d) this.maxes.set(key, d);
    }
  }

  private add(day: string, kind: number, field: string, n: number): void {
    const key = `${day}${SEP}${kind}${SEP}${field}`;
    this.adds.set(key, (this.adds.get(key) ?? 0) + n);
  }

  /**
   * Writes the summed deltas. A reason whose count drops to 0 goes; so do a step's fields once its
   * count does. The step max is a high-water mark (a deleted run cannot take it back), as in Redis.
   */
  write(statements: RollupStatements): void {
    const gone: [string, string][] = [];
    const days = new Set<string>();
    for (const [key, n] of this.adds) {
      if (n === 0) continue;
      const [day, kind, field] = key.split(SEP) as [string, string, string];
      days.add(day);
      statements.add.run(day, Number(kind), field, n);
      if (n < 0 && Number(kind) === REASONS) statements.dropEmpty.run(day, REASONS, field);
      if (n < 0 && Number(kind) === STEPS && field.startsWith("c|")) gone.push([day, field.slice(2)]);
    }
    for (const [day, name] of gone) {
      const count = statements.value.pluck().get(day, STEPS, `c|${name}`) as number | undefined;
      if (count === undefined || count <= 0) {
        for (const kind of ["c", "f", "s", "m"]) statements.drop.run(day, STEPS, `${kind}|${name}`);
      }
    }
    for (const [key, d] of this.maxes) {
      const [day, kind, field] = key.split(SEP) as [string, string, string];
      days.add(day);
      statements.max.run(day, Number(kind), field, d);
    }
    if (days.size > 0) {
      const version = Number(statements.nextVersion.get());
      for (const day of days) statements.bumpDay.run(day, version);
    }
    this.adds.clear();
    this.maxes.clear();
  }
}

export interface RollupStatements {
  add: Statement;
  max: Statement;
  value: Statement;
  drop: Statement;
  dropEmpty: Statement;
  readDay: Statement;
  dayVersions: Statement;
  nextVersion: Statement;
  bumpDay: Statement;
  expire: Statement;
  expireDays: Statement;
}

export function prepareRollupStatements(db: Database): RollupStatements {
  return {
    add: db.prepare(
      "INSERT INTO rollups (day, kind, field, value) VALUES (?, ?, ?, ?) ON CONFLICT (day, kind, field) DO UPDATE SET value = value + excluded.value",
    ),
    max: db.prepare(
      "INSERT INTO rollups (day, kind, field, value) VALUES (?, ?, ?, ?) ON CONFLICT (day, kind, field) DO UPDATE SET value = max(value, excluded.value)",
    ),
    value: db.prepare("SELECT value FROM rollups WHERE day = ? AND kind = ? AND field = ?"),
    drop: db.prepare("DELETE FROM rollups WHERE day = ? AND kind = ? AND field = ?"),
    dropEmpty: db.prepare("DELETE FROM rollups WHERE day = ? AND kind = ? AND field = ? AND value <= 0"),
    readDay: db.prepare("SELECT kind, field, value FROM rollups WHERE day = ?").raw(),
    dayVersions: db.prepare("SELECT day, version FROM rollup_days WHERE day >= ? AND day <= ?").raw(),
    nextVersion: db
      .prepare(
        "INSERT INTO meta (key, value) VALUES ('rollup_version', 1) ON CONFLICT (key) DO UPDATE SET value = value + 1 RETURNING value",
      )
      .pluck(),
    bumpDay: db.prepare("INSERT INTO rollup_days (day, version) VALUES (?, ?) ON CONFLICT (day) DO UPDATE SET version = excluded.version"),
    expire: db.prepare("DELETE FROM rollups WHERE day < ?"),
    expireDays: db.prepare("DELETE FROM rollup_days WHERE day < ?"),
  };
}

const EMPTY_DAY = parseDay({}, {}, {});
const MAX_CACHED_DAYS = 400;

/**
 * `PipelineMetrics` from the window's rollups: O(days), however many runs are stored. Each day is
 * parsed once per version (rollup_days) and kept: a week's metrics under live load re-read today only.
 */
export class MetricsReader {
  private readonly days = new Map<string, { version: number; parsed: DayRollup }>();

  constructor(private readonly statements: RollupStatements) {}

  read(query: MetricsQuery): PipelineMetrics {
    const { days } = windowDays(query);
    const versions = new Map(this.statements.dayVersions.all(days[0], days[days.length - 1]) as [string, number][]);
    const perDay = days.map((day) => {
      const version = versions.get(day);
      if (version === undefined) return EMPTY_DAY;
      const held = this.days.get(day);
      if (held && held.version === version) return held.parsed;
      const hashes: [Record<string, string>, Record<string, string>, Record<string, string>] = [{}, {}, {}];
      for (const [kind, field, value] of this.statements.readDay.all(day) as [number, string, number][]) {
        const hash = hashes[kind];
        if (hash) hash[field] = String(value);
      }
      const parsed = parseDay(...hashes);
      if (this.days.size >= MAX_CACHED_DAYS) this.days.clear();
      this.days.set(day, { version, parsed });
      return parsed;
    });
    return assembleMetrics(query, perDay);
  }
}
