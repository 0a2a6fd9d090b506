/** The change feed's outage log on a fake clock: first error, one summary per interval with a count, one "reconnected". */
import { describe, expect, it } from "vitest";
import { pino } from "pino";
import { parseChangeLine, parseChangeMessage } from "../../lib/tracking/storage/redis/feed/messages";
import { FeedOutageLog } from "../../lib/tracking/storage/redis/feed/outage-log";

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

describe("parseChangeLine", () => {
  it("reads a change line (seq, version, deleted, origin, id) with the message's epoch", () => {
    expect(parseChangeLine("41|7|0|origin|a|b|run-1", "123.4")).toEqual({
      seq: 41,
      change: { pipelineId: "run-1", version: 7, origin: "origin|a|b", deleted: false, epoch: "123.4" },
    });
    expect(parseChangeLine("42|3|1||run-2")).toEqual({ seq: 42, change: { pipelineId: "run-2", version: 3, origin: null, deleted: true } });
  });

  it("refuses lines that are not changes", () => {
    expect(parseChangeLine("x|1|0||run")).toBeNull(); // seq not a number
    expect(parseChangeLine("|1|0||run")).toBeNull(); // no seq
    expect(parseChangeLine("1|x|0||run")).toBeNull(); // version not a number
    expect(parseChangeLine("1||0||run")).toBeNull(); // no version
    expect(parseChangeLine("3|1||run-2")).toBeNull(); // the format without a seq
    expect(parseChangeLine("1|1|0||bad id")).toBeNull(); // not a pipeline id
    expect(parseChangeLine("")).toBeNull();
  });
});

describe("parseChangeMessage", () => {
  it("reads the epoch line and every change line after it, skipping lines that do not parse", () => {
    const { epoch, changes } = parseChangeMessage("@1700000000.12\n5|2|0|w1|a\ngarbage\n6|1|1||b");
    expect(epoch).toBe("1700000000.12");
    expect(changes).toEqual([
      { seq: 5, change: { pipelineId: "a", version: 2, origin: "w1", deleted: false, epoch: "1700000000.12" } },
      { seq: 6, change: { pipelineId: "b", version: 1, origin: null, deleted: true, epoch: "1700000000.12" } },
    ]);
  });

  it("reads a message without an epoch line", () => {
    expect(parseChangeMessage("9|4|0||c")).toEqual({
      epoch: undefined,
      changes: [{ seq: 9, change: { pipelineId: "c", version: 4, origin: null, deleted: false } }],
    });
  });
});
