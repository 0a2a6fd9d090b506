/** The change feed's outage log on a fake clock: first error, one summary per interval with a count, one "reconnected". */
import { describe, expect, it } from "vitest";
import { pino } from "pino";
import { FeedOutageLog, parseChange } from "../../lib/tracking/storage/redis/feed/change-feed";

describe("FeedOutageLog", () => {
  it("logs the first error, then at most one summary per interval, and one info when back", () => {
    const lines: { level: number; msg: string; errors?: number }[] = [];
    const logger = pino({ level: "debug" }, { write: (s: string) => void lines.push(JSON.parse(s) as never) });
    let now = 1_000;
    const log = new FeedOutageLog(logger, 30_000, () => now);
    log.ready(); // a first connection with no errors logs nothing
    for (let i = 0; i < 150; i++, now += 500) log.error(new Error("ECONNREFUSED")); // 75 s at 2 attempts/s
    const warns = lines.filter((l) => l.level === 40);
    expect(warns).toHaveLength(3); // t=0, t=30 s, t=60 s
    expect(warns.slice(1).map((w) => w.errors)).toEqual([60, 60]);
    log.ready();
    log.ready();
    const infos = lines.filter((l) => l.level === 30);
    expect(infos).toHaveLength(1);
    expect(infos[0]).toMatchObject({ msg: "Redis change feed reconnected", errors: 150 });
    log.error(new Error("again")); // a new outage starts with a warning again
    expect(lines.filter((l) => l.level === 40)).toHaveLength(4);
  });
});

describe("parseChange", () => {
  it("reads a change line with the message's epoch", () => {
    expect(parseChange("7|0|origin|a|b|run-1", "123.4")).toEqual({ pipelineId: "run-1", version: 7, origin: "origin|a|b", deleted: false, epoch: "123.4" });
    expect(parseChange("3|1||run-2")).toEqual({ pipelineId: "run-2", version: 3, origin: null, deleted: true });
    expect(parseChange("x|0||run")).toBeNull();
  });
});
