/**
 * A distributed run's execution state in Redis, changed only by these scripts so that every decision
 * is atomic: which worker runs a step attempt, and which finish makes a dependent ready (it is
 * enqueued exactly once, however many workers finish its dependencies at the same moment).
 *
 *   <p>x:{<id>}  hash  g        the run's generation (a job of another generation is stale)
 *                      left     steps not finished yet
 *                      in       the run's input (payload.ts)
 *                      w:<step> dependencies still running or waiting
 *                      d:<step> "1" once the step finished (a second finish counts once)
 *                      o:<step> its output          a:<step> attempts started   t:<step> first start ms
 *   <p>x:open:<queue>  set   runs with steps enqueued or running on that queue (their workers renew
 *                            the runs' leases)
 *
 * A run that ends loses its state: a failed step drops it at once; after the last step it goes once the
 * run's end is written (pwxDrop); on a cancel or a lease sweep in the storage, the next script that
 * reads the run's stored status (the storage's `st` field) drops it, so no further step starts.
 */
import type { Cluster, Redis } from "ioredis";

type Client = Redis | Cluster;

const UNFINISHED = `local st = redis.call('HGET', KEYS[2], 'st')
local live = (st == 'RUNNING' or st == 'PENDING') and redis.call('HGET', KEYS[1], 'g') == ARGV[1]
if not live then
  if redis.call('HGET', KEYS[1], 'g') == ARGV[1] then redis.call('DEL', KEYS[1]) end
  redis.call('SREM', KEYS[3], ARGV[2])
end`;

const SCRIPTS = {
  /** KEYS exec, open. ARGV gen, id, input, ttl ms, then step, dependency count pairs. */
  pwxInit: {
    keys: 2,
    lua: `redis.call('DEL', KEYS[1])
local f = { 'g', ARGV[1], 'in', ARGV[3], 'left', (#ARGV - 4) / 2 }
for i = 5, #ARGV, 2 do table.insert(f, 'w:' .. ARGV[i]); table.insert(f, ARGV[i + 1]) end
redis.call('HSET', KEYS[1], unpack(f))
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('SADD', KEYS[2], ARGV[2])
return 1`,
  },
  /**
   * KEYS exec, run, open. ARGV gen, id, step, worker id, now ms, then the step's dependencies.
   * { "skip" } the run ended or the job is stale; { "done" } the step already finished (a duplicate);
   * { "run", attempt, first start ms, input | one output per dependency }.
   */
  pwxClaim: {
    keys: 3,
    lua: `${UNFINISHED}
if not live then return { 'skip' } end
local step = ARGV[3]
if redis.call('HEXISTS', KEYS[1], 'd:' .. step) == 1 then return { 'done' } end
local a = redis.call('HINCRBY', KEYS[1], 'a:' .. step, 1)
local t = redis.call('HGET', KEYS[1], 't:' .. step)
if not t then t = ARGV[5]; redis.call('HSET', KEYS[1], 't:' .. step, t) end
redis.call('HSET', KEYS[2], 'lw', ARGV[4])
local out = { 'run', a, t }
if #ARGV == 5 then
  table.insert(out, redis.call('HGET', KEYS[1], 'in') or '')
else
  for i = 6, #ARGV do table.insert(out, redis.call('HGET', KEYS[1], 'o:' .. ARGV[i]) or '') end
end
return out`,
  },
  /**
   * KEYS exec, run, open. ARGV gen, id, step, output, n, n dependents, then the sinks.
   * { "ended" }; { "ok", ready dependents… }; { "last", one output per sink }: every step finished. The
   * state stays (a repeated finish answers "last" again) until the run's end is written and pwxDrop
   * removes it, so a worker that dies in between leaves the end to the step's next delivery.
   */
  pwxComplete: {
    keys: 3,
    lua: `${UNFINISHED}
if not live then return { 'ended' } end
local step = ARGV[3]
local n = tonumber(ARGV[5])
local left
if redis.call('HSETNX', KEYS[1], 'd:' .. step, '1') == 1 then
  redis.call('HSET', KEYS[1], 'o:' .. step, ARGV[4])
  left = redis.call('HINCRBY', KEYS[1], 'left', -1)
  for i = 6, 5 + n do redis.call('HINCRBY', KEYS[1], 'w:' .. ARGV[i], -1) end
else
  left = tonumber(redis.call('HGET', KEYS[1], 'left'))
end
if left <= 0 then
  local out = { 'last' }
  for i = 6 + n, #ARGV do table.insert(out, redis.call('HGET', KEYS[1], 'o:' .. ARGV[i]) or '') end
  return out
end
local out = { 'ok' }
for i = 6, 5 + n do
  local d = ARGV[i]
  if tonumber(redis.call('HGET', KEYS[1], 'w:' .. d)) <= 0 and redis.call('HEXISTS', KEYS[1], 'd:' .. d) == 0 then table.insert(out, d) end
end
return out`,
  },
  /** KEYS exec, run, open. ARGV gen, id. 1 when this failure ends the run (its state is dropped), else 0. */
  pwxFail: {
    keys: 3,
    lua: `${UNFINISHED}
if not live then return 0 end
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[3], ARGV[2])
return 1`,
  },
  /** KEYS exec, open. ARGV gen, id. Drops the state of a run whose end was written. */
  pwxDrop: {
    keys: 2,
    lua: `if redis.call('HGET', KEYS[1], 'g') == ARGV[1] then redis.call('DEL', KEYS[1]) end
redis.call('SREM', KEYS[2], ARGV[2])
return 1`,
  },
  /**
   * KEYS open. ARGV the exec key head, the run key head (each followed by "{<id>}").
   * Drops runs that ended or lost their state; answers the ids still open.
   */
  pwxOpen: {
    keys: 1,
    lua: `local out = {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local st = redis.call('HGET', ARGV[2] .. '{' .. id .. '}', 'st')
  if (st == 'RUNNING' or st == 'PENDING') and redis.call('EXISTS', ARGV[1] .. '{' .. id .. '}') == 1 then
    table.insert(out, id)
  else
    redis.call('SREM', KEYS[1], id)
  end
end
return out`,
  },
} as const;

type ScriptName = keyof typeof SCRIPTS;
type Reply = (string | number)[];
export type ExecutionScripts = { [K in ScriptName]: (...args: (string | number)[]) => Promise<unknown> };

/** Defines the scripts on the client once (ioredis loads them by SHA, falling back to EVAL). */
export function executionScripts(redis: Client): ExecutionScripts {
  const client = redis as Client & Partial<ExecutionScripts>;
  for (const [name, { keys, lua }] of Object.entries(SCRIPTS)) {
    if (typeof client[name as ScriptName] !== "function") redis.defineCommand(name, { numberOfKeys: keys, lua });
  }
  return client as unknown as ExecutionScripts;
}

export type ClaimReply = { kind: "skip" } | { kind: "done" } | { kind: "run"; attempt: number; firstStartMs: number; inputs: string[] };
export type CompleteReply = { kind: "ended" } | { kind: "ok"; ready: string[] } | { kind: "last"; sinkOutputs: string[] };

export function parseClaim(reply: unknown): ClaimReply {
  const r = reply as Reply;
  if (r[0] === "run") return { kind: "run", attempt: Number(r[1]), firstStartMs: Number(r[2]), inputs: r.slice(3).map(String) };
  return { kind: r[0] === "done" ? "done" : "skip" };
}

export function parseComplete(reply: unknown): CompleteReply {
  const r = reply as Reply;
  if (r[0] === "ok") return { kind: "ok", ready: r.slice(1).map(String) };
  if (r[0] === "last") return { kind: "last", sinkOutputs: r.slice(1).map(String) };
  return { kind: "ended" };
}
