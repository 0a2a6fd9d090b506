/**
 * The Lua scripts behind every multi-key write and the hot reads of the Redis storage, ready for
 * `defineCommand`. Each is one command file in lua/ (its header lists KEYS and ARGV and says what it
 * makes atomic) with its includes resolved into lua/scripts.generated.ts by scripts/build-lua.mjs,
 * behind a prelude made here at load time:
 *  - the key constants and key builders from keys.ts (RedisKeys.luaPrelude), so no script
 *    concatenates a key shape of its own;
 *  - the status set from models.ts (STATUSES, and which of them are finished), so no script holds a
 *    list of statuses of its own.
 * Why scripts at all: a transition must update the run hash, its indexes, the rollups, the change log
 * and announce itself as one step, so concurrent writers never interleave half-writes and a reader
 * never sees a run whose indexes disagree with it. Keys derived from stored values (an old status, an
 * old day) cannot be declared up front, hence the Cluster note in keys.ts.
 */
import type { RedisClient } from "./client";
import { STATUSES, isFinished } from "../../models";
import type { RedisKeys } from "./keys";
import { luaString } from "./keys";
import { LUA_SOURCES, type LuaCommandName } from "./lua/scripts.generated";

/**
 * Every script declares one key, the all-runs index (scripts that declare no key are sent to any node
 * of a Redis Cluster), except deleteRun, which declares the run; the others it builds share its slot
 * when the prefix has a hash tag (keys.ts).
 */
export interface ScriptDefinition {
  lua: string;
  numberOfKeys: number;
}

export type ScriptName = LuaCommandName;

/** STATUSES in their order (count replies follow it), and the finished / unfinished ones as sets. */
function statusPrelude(): string {
  const set = (names: readonly string[]) => `{ ${names.map((s) => `[${luaString(s)}] = true`).join(", ")} }`;
  return [
    "-- generated from models.ts (STATUSES, isFinished)",
    `local STATUSES = { ${STATUSES.map(luaString).join(", ")} }`,
    `local FINISHED = ${set(STATUSES.filter((s) => isFinished(s)))}`,
    `local UNFINISHED = ${set(STATUSES.filter((s) => !isFinished(s)))}`,
    "",
  ].join("\n");
}

export function buildScripts(keys: RedisKeys): Record<ScriptName, ScriptDefinition> {
  const head = keys.luaPrelude() + statusPrelude();
  const out = {} as Record<ScriptName, ScriptDefinition>;
  for (const name of Object.keys(LUA_SOURCES) as ScriptName[]) out[name] = { lua: head + LUA_SOURCES[name], numberOfKeys: 1 };
  return out;
}

/**
 * Defines every script on the client once (ioredis then sends EVALSHA, and loads the script itself
 * when Redis answers NOSCRIPT) and answers the command name of each. One command per script text:
 * the scripts embed the key layout, so two prefixes on one client are two sets of commands.
 */
export function defineScripts(redis: RedisClient, keys: RedisKeys): Record<ScriptName, string> {
  const commands = {} as Record<ScriptName, string>;
  for (const [name, def] of Object.entries(buildScripts(keys)) as [ScriptName, ScriptDefinition][]) {
    const command = `pipewatch_${name}_${hash(def.lua)}`;
    if (!(command in (redis as unknown as Record<string, unknown>))) redis.defineCommand(command, def);
    commands[name] = command;
  }
  return commands;
}

function hash(text: string): string {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return (h >>> 0).toString(36);
}
