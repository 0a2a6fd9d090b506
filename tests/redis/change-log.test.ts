/**
 * The change log the write scripts keep (keys.ts): one entry per run under its latest change seq,
 * trimmed to a bound with the highest trimmed seq kept as the floor, deleted runs' versions beside
 * it, and the changesSince script answering the runs changed after a seq. Run with the bound made
 * tiny (the scripts' text with other constants), so a trim happens after a few writes.
 */
import { afterAll, describe, expect, it } from "vitest";
import { makeRun } from "../../lib/tracking/storage/contract/helpers";
import { RedisKeys } from "../../lib/tracking/storage/redis/keys";
import { runRecord } from "../../lib/tracking/storage/redis/records";
import { dayStamp, runContribution, stepContribution } from "../../lib/tracking/storage/redis/rollups";
import { buildScripts } from "../../lib/tracking/storage/redis/scripts";
import { connect, deleteKeys, uniquePrefix } from "./helpers";

const redis = connect();
const keys = new RedisKeys(uniquePrefix("changelog"));

afterAll(async () => {
  await deleteKeys(redis, keys.prefix);
  redis.disconnect();
});

const BOUND_LINE = /local CHANGE_LOG_LIMIT, CHANGE_LOG_TRIM_EVERY = \d+, \d+/;
function withTinyLog(lua: string): string {
  expect(lua).toMatch(BOUND_LINE);
  return lua.replace(BOUND_LINE, "local CHANGE_LOG_LIMIT, CHANGE_LOG_TRIM_EVERY = 5, 2");
}

describe("the change log", () => {
  const scripts = buildScripts(keys);
  const save = withTinyLog(scripts.saveStatus.lua);
  const remove = withTinyLog(scripts.deleteRun.lua);
  const since = (seq: string) =>
    redis.eval(scripts.changesSince.lua, 1, keys.allIndex, seq, 100) as Promise<[string, string, string, string]>;
  const recordOf = (id: string) => {
    const status = makeRun(id);
    return runRecord({ status, contribution: runContribution(status, dayStamp(status.startedAt, 90)), expireAt: 0, stepContribution });
  };
  const saveRun = (id: string) => redis.eval(save, 1, keys.allIndex, "w", recordOf(id));

  it("logs every change, keeps the newest runs within the bound, and remembers where it trimmed", async () => {
    expect(await since("")).toEqual(["", "0", "0", ""]);
    await saveRun("gone");
    expect(await redis.eval(remove, 1, keys.run("gone"), "gone", "w")).toBe(2);
    expect(await redis.hget(keys.changeGone, "gone")).toBe("2");
    for (let i = 0; i < 18; i++) await saveRun(`t${i}`);
    // 20 changes: "gone" twice (seqs 1, 2), t0..t17 (seqs 3..20); trimmed at every even seq to 5 runs.
    expect(await redis.get(keys.changeSeq)).toBe("20");
    expect(await redis.zrange(keys.changeLog, "0", "-1", "WITHSCORES")).toEqual([
      "t13",
      "16",
      "t14",
      "17",
      "t15",
      "18",
      "t16",
      "19",
      "t17",
      "20",
    ]);
    expect(await redis.get(keys.changeFloor)).toBe("15");
    expect(await redis.hexists(keys.changeGone, "gone")).toBe(0);

    const [epoch, head, floor, lines] = await since("17");
    expect(epoch).toBe(await redis.get(keys.epoch));
    expect([head, floor]).toEqual(["20", "15"]);
    expect(lines.split("\n")).toEqual(["18|1|0||t15", "19|1|0||t16", "20|1|0||t17"]);
  });

  it("answers a deleted run with the version of its delete", async () => {
    await saveRun("late");
    await redis.eval(remove, 1, keys.run("late"), "late", "w");
    const [, head, , lines] = await since("20");
    expect(head).toBe("22");
    expect(lines).toBe("22|2|1||late");
  });

  it("logs a run saved twice in one call once, under its latest seq", async () => {
    expect(await redis.eval(save, 1, keys.allIndex, "w", recordOf("twice") + recordOf("twice"))).toEqual([1, 2]);
    expect(await redis.zscore(keys.changeLog, "twice")).toBe("24");
    const [, , , lines] = await since("22");
    expect(lines.split("\n")).toEqual(["24|2|0||twice"]);
  });
});
