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

/** The day (UTC) a run's rollups go to. */
export const runDay = (run: StoredRun): string => utcDate(new Date(run.startedAt));

export class RollupDeltas {
  private readonly adds = new Map<string, number>();
  private readonly maxes = new Map<string, number>();

  get size(): number {
    return this.adds.size + this.maxes.size;
  }

  /** Adds (sign 1) or takes back (sign -1) a run's own contribution and every step's. */
  run(run: StoredRun, sign: 1 | -1): void {
    const day = runDay(run);
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
    for (const [key, n] of this.adds) {
      if (n === 0) continue;
      const [day, kind, field] = key.split(SEP) as [string, string, string];
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
      statements.max.run(day, Number(kind), field, d);
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
  read: Statement;
  expire: Statement;
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
    read: db.prepare("SELECT day, kind, field, value FROM rollups WHERE day >= ? AND day <= ?"),
    expire: db.prepare("DELETE FROM rollups WHERE day < ?"),
  };
}

/** `PipelineMetrics` from the window's rollup rows: O(days), however many runs are stored. */
export function readMetrics(statements: RollupStatements, query: MetricsQuery): PipelineMetrics {
  const { days } = windowDays(query);
  const hashes = new Map<string, [Record<string, string>, Record<string, string>, Record<string, string>]>();
  for (const day of days) hashes.set(day, [{}, {}, {}]);
  const rows = statements.read.raw().all(days[0], days[days.length - 1]) as [string, number, string, number][];
  for (const [day, kind, field, value] of rows) {
    const hash = hashes.get(day)?.[kind];
    if (hash) hash[field] = String(value);
  }
  const perDay: DayRollup[] = days.map((day) => {
    const [c, reasons, steps] = hashes.get(day)!;
    return parseDay(c, reasons, steps);
  });
  return assembleMetrics(query, perDay);
}
