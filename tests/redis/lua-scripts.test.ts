/**
 * The Lua scripts as loaded: the generated module matches the .lua sources, every script compiles in
 * a real Redis (SCRIPT LOAD: a syntax error fails here, not on the first write), the key builders
 * the scripts get produce exactly the keys keys.ts does, and no .lua file spells a key shape or a
 * status list of its own.
 */
import { execFile } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { STATUSES, isFinished } from "../../lib/tracking/models";
import { RedisKeys, lexMember } from "../../lib/tracking/storage/redis/keys";
import { LUA_SOURCES } from "../../lib/tracking/storage/redis/lua/scripts.generated";
import { buildScripts } from "../../lib/tracking/storage/redis/scripts";
import { connect } from "./helpers";

const LUA_DIR = join(__dirname, "../../lib/tracking/storage/redis/lua");
const redis = connect();

afterAll(() => {
  redis.disconnect();
});

function luaFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? luaFiles(join(dir, e.name)) : e.name.endsWith(".lua") ? [join(dir, e.name)] : [],
  );
}

describe("the Redis storage's Lua scripts", () => {
  it("the generated module is up to date with the .lua files (npm run lua)", async () => {
    await expect(promisify(execFile)(process.execPath, ["scripts/build-lua.mjs", "--check"])).resolves.toBeDefined();
  });

  it("has one command per lua/*.lua file", () => {
    const commands = readdirSync(LUA_DIR).filter((f) => f.endsWith(".lua")).length;
    expect(Object.keys(LUA_SOURCES)).toHaveLength(commands);
  });

  it("every script compiles in Redis (SCRIPT LOAD)", async () => {
    const scripts = buildScripts(new RedisKeys("pwtest:lua:{tag}:"));
    for (const [name, def] of Object.entries(scripts)) {
      const sha = await redis.script("LOAD", def.lua).catch((err: unknown) => {
        throw new Error(`${name}: ${String(err)}`);
      });
      expect(sha, name).toMatch(/^[0-9a-f]{40}$/);
    }
  });

  it("the key builders the scripts get make the keys keys.ts makes", async () => {
    const keys = new RedisKeys('pwtest:lua:"odd\\prefix\x01:');
    const probe = `${keys.luaPrelude()}
return { runKey(ARGV[1]), statusIndexKey('RUNNING'), nameIndexKey(ARGV[2]), metricsDayKey('2026-11-30'),
  metricsReasonsKey('2026-11-30'), metricsStepsKey('2026-11-30'), lexMember(string.lower(ARGV[1]), ARGV[1]),
  ALL_INDEX_KEY, ID_LEX_KEY, NAME_LEX_KEY, EXPIRY_INDEX_KEY, METRICS_SEQ_KEY, CHANNEL_KEY, CHANGE_SEQ_KEY, CHANGE_LOG_KEY,
  CHANGE_FLOOR_KEY, CHANGE_GONE_KEY, EPOCH_KEY }`;
    const got = await redis.eval(probe, 0, "Run-1", "näme");
    expect(got).toEqual([
      keys.run("Run-1"),
      keys.statusIndex("RUNNING"),
      keys.nameIndex("näme"),
      keys.metricsDay("2026-11-30"),
      keys.metricsReasons("2026-11-30"),
      keys.metricsSteps("2026-11-30"),
      lexMember("Run-1"),
      keys.allIndex,
      keys.idLex,
      keys.nameLex,
      keys.expiryIndex,
      keys.metricsSeq,
      keys.channel,
      keys.changeSeq,
      keys.changeLog,
      keys.changeFloor,
      keys.changeGone,
      keys.epoch,
    ]);
  });

  it("the scripts get the status set of models.ts", async () => {
    const { lua } = buildScripts(new RedisKeys("pwtest:lua:"))["countByStatus"];
    const head = lua.slice(0, lua.indexOf("--[["));
    const probe = `${head}
local finished = {}
for _, s in ipairs(STATUSES) do if FINISHED[s] then table.insert(finished, s) end end
return { STATUSES, finished }`;
    expect(await redis.eval(probe, 0)).toEqual([[...STATUSES], STATUSES.filter((s) => isFinished(s))]);
  });

  it("no .lua file builds a key shape or lists statuses by hand", () => {
    for (const file of luaFiles(LUA_DIR)) {
      const code = readFileSync(file, "utf8")
        .replace(/--\[\[[\s\S]*?\]\]/g, "")
        .replace(/--.*$/gm, "");
      const literals = code.match(/'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"/g) ?? [];
      for (const literal of literals) {
        expect(literal, file).not.toMatch(/run:|idx:|lex:|m:|changes|epoch|:reasons|:steps|[{}]/);
        expect(literal, file).not.toMatch(/^.(PENDING|RUNNING|CANCELLED).$/);
      }
    }
  });
});
