/**
 * Reads the per-day rollups for getMetrics, keeping each day it parsed with that day's "~v" (a value
 * every rollup write replaces with a fresh one, see bumpDays in lua/includes/rollups.lua). One script
 * call per read answers only the days whose "~v" moved, so a 7-day window under live writes decodes
 * today's three hashes instead of 21: decoding them (thousands of fields with the step histograms)
 * was most of getMetrics' time. A day without "~v" (written before it existed) is never kept.
 */
import { parseDay, type DayRollup } from "../rollups";

/** Parsed days kept at most (a 90-day window plus the odd other one); past it, days out of the last read go. */
const MAX_KEPT_DAYS = 120;

type DayReply = 0 | [string, string[], string[], string[]];

export class RollupReader {
  private readonly kept = new Map<string, { version: string; day: DayRollup }>();

  /** `fetch` runs the rollupDays script (lua/rollup-days.lua) with its ARGV. */
  constructor(private readonly fetch: (args: string[]) => Promise<unknown>) {}

  async read(days: readonly string[]): Promise<DayRollup[]> {
    // What is held now: a concurrent read may replace or drop an entry before this one's reply.
    const held = days.map((day) => this.kept.get(day));
    const args: string[] = [];
    days.forEach((day, i) => args.push(day, held[i]?.version ?? ""));
    const reply = (await this.fetch(args)) as DayReply[];
    if (!Array.isArray(reply) || reply.length !== days.length) throw new Error("pipewatch: unexpected rollupDays reply");
    const out = days.map((day, i) => {
      const entry = reply[i]!;
      const mine = held[i];
      if (entry === 0 && mine) return mine.day;
      if (!Array.isArray(entry)) throw new Error("pipewatch: unexpected rollupDays reply");
      const [version, counters, reasons, steps] = entry;
      const parsed = parseDay(toHash(counters), toHash(reasons), toHash(steps));
      if (version) this.kept.set(day, { version, day: parsed });
      else this.kept.delete(day);
      return parsed;
    });
    if (this.kept.size > MAX_KEPT_DAYS) {
      const wanted = new Set(days);
      for (const day of this.kept.keys()) if (!wanted.has(day)) this.kept.delete(day);
    }
    return out;
  }
}

function toHash(flat: string[]): Record<string, string> {
  // No prototype: a failure reason may be "__proto__".
  const hash = Object.create(null) as Record<string, string>;
  for (let i = 0; i + 1 < flat.length; i += 2) hash[flat[i]!] = flat[i + 1]!;
  return hash;
}
