/**
 * The Lua scripts behind every multi-key write of the Redis storage. Why scripts: a transition must
 * update the run hash, its indexes, the rollups and announce itself as one step, so concurrent
 * writers (steps of one dataflow run in several processes) never interleave half-writes, and a
 * reader never sees a run whose indexes disagree with it. Why they look like this:
 *  - key names are generated into the script from `keyParts` (keys.ts), so the wire carries only the
 *    run key and the values; keys derived from stored values (an old status, an old day) cannot be
 *    declared up front, hence the Cluster note in keys.ts.
 *  - rollups are applied as diffs of a stored "contribution" string per run and per step: subtract
 *    the old one, add the new one, skip when equal. A redelivered or retried write (the write queue
 *    resends after a reconnect) therefore never double-counts, and a status change moves counters.
 *  - numbers from JS stay strings (HINCRBYFLOAT, the max), so Lua's 14-digit tostring never rounds.
 *  - a step write reads everything it needs with one HMGET and ends with one HSET, and consecutive
 *    step writes share one script call and one PUBLISH, to stay cheap at tens of thousands of
 *    transitions per second.
 */
import type { KeyParts } from "./keys";

const lit = (s: string): string => JSON.stringify(s); // a JSON string is a valid Lua string literal here

function prelude(k: KeyParts): string {
  return `
local P_ALL, P_STATUS, P_NAME = ${lit(k.all)}, ${lit(k.status)}, ${lit(k.name)}
local P_LEXIDS, P_LEXNAMES, P_EXPIRY, P_METRICS = ${lit(k.lexIds)}, ${lit(k.lexNames)}, ${lit(k.expiry)}, ${lit(k.metrics)}
local P_REASONS, P_STEPS, P_CHANNEL, P_RUN = ${lit(k.reasonsSuffix)}, ${lit(k.stepsSuffix)}, ${lit(k.channel)}, ${lit(k.run)}

local function neg(s) if string.sub(s, 1, 1) == '-' then return string.sub(s, 2) end return '-' .. s end

-- run contribution "<day>|<exp>|<hour>|<status>|<dur>|<bucket>|<reason>"
local function applyRun(c, sign)
  local day, exp, hour, st, dur, b, reason = string.match(c, '^([^|]*)|([^|]*)|([^|]*)|([^|]*)|([^|]*)|([^|]*)|(.*)$')
  if not day then return end
  local dk = P_METRICS .. day
  redis.call('HINCRBY', dk, 't', sign)
  redis.call('HINCRBY', dk, 's:' .. st, sign)
  redis.call('HINCRBY', dk, 'h' .. hour, sign)
  if dur ~= '' then
    redis.call('HINCRBYFLOAT', dk, 'ds', sign == 1 and dur or neg(dur))
    redis.call('HINCRBY', dk, 'dc', sign)
    redis.call('HINCRBY', dk, 'b' .. b, sign)
  end
  redis.call('PEXPIREAT', dk, exp)
  if st == 'FAILED' then
    local rk = dk .. P_REASONS
    if redis.call('HINCRBY', rk, reason, sign) <= 0 then redis.call('HDEL', rk, reason) end
    redis.call('PEXPIREAT', rk, exp)
  end
end

-- step contribution "<day>|<exp>|<failed>|<dur>|<bucket>"
local function applyStep(name, c, sign)
  local day, exp, f, dur, b = string.match(c, '^([^|]*)|([^|]*)|([^|]*)|([^|]*)|(.*)$')
  if not day then return end
  local sk = P_METRICS .. day .. P_STEPS
  local n = redis.call('HINCRBY', sk, 'c|' .. name, sign)
  if f == '1' then redis.call('HINCRBY', sk, 'f|' .. name, sign) end
  redis.call('HINCRBYFLOAT', sk, 's|' .. name, sign == 1 and dur or neg(dur))
  redis.call('HINCRBY', sk, 'b' .. b .. '|' .. name, sign)
  if n <= 0 then
    redis.call('HDEL', sk, 'c|' .. name, 'f|' .. name, 's|' .. name, 'm|' .. name)
  elseif sign == 1 then
    -- the max is a high-water mark: a deleted run cannot take it back
    local m = redis.call('HGET', sk, 'm|' .. name)
    if not m or tonumber(m) < tonumber(dur) then redis.call('HSET', sk, 'm|' .. name, dur) end
  end
  redis.call('PEXPIREAT', sk, exp)
end

local function diffStep(name, old, new)
  if old == new then return end
  if old then applyStep(name, old, -1) end
  if new then applyStep(name, new, 1) end
end

-- remove a run from every index (not from the rollups)
local function unindex(id, st, hn, nm, xm)
  redis.call('ZREM', P_ALL, id)
  if st then redis.call('ZREM', P_STATUS .. st, id) end
  if hn == '1' then redis.call('ZREM', P_NAME .. nm, id) end
  redis.call('ZREM', P_LEXIDS, string.lower(id) .. '\\0' .. id)
  if xm then redis.call('ZREM', P_EXPIRY, xm) end
end

local function announce(v, deleted, origin, id)
  redis.call('PUBLISH', P_CHANNEL, v .. '|' .. deleted .. '|' .. origin .. '|' .. id)
end
`;
}

/**
 * ARGV: (run key, step name, rank char + step JSON, status char, contribution ("" none), origin, id)
 * tuples. Consecutive step writes share one script call (the write queue merges them), so the
 * per-call cost of a script is paid once per batch; their change messages go out as one PUBLISH,
 * one line each. Answers each write's version (0 unknown run, -1 refused as a backwards move).
 */
function saveSteps(): string {
  return `
local out, lines = {}, {}
for j = 1, #ARGV, 7 do
  local K, name = ARGV[j], ARGV[j + 1]
  local val = ARGV[j + 2]
  local h = redis.call('HMGET', K, 'ix:' .. name, 's:' .. name, 'ss', 'c:' .. name, 'mdx', 'names')
  local ix, old, ss, oldc, mdx = h[1], h[2], h[3], h[4], h[5]
  if not ss then
    table.insert(out, 0) -- unknown (or deleted) run: ignored
  elseif old and string.byte(old, 1) > string.byte(val, 1) then
    table.insert(out, -1) -- a step never moves backwards
  else
    local fields = { 's:' .. name, val }
    if not ix then
      -- a step that was not declared when the run was saved: append it
      local names = cjson.decode(h[6] or '[]')
      table.insert(names, name)
      ix = #names
      ss = ss .. 'P'
      table.insert(fields, 'ix:' .. name); table.insert(fields, ix)
      table.insert(fields, 'names'); table.insert(fields, cjson.encode(names))
    end
    local i = tonumber(ix)
    table.insert(fields, 'ss'); table.insert(fields, string.sub(ss, 1, i - 1) .. ARGV[j + 3] .. string.sub(ss, i + 1))
    local newc = false
    if ARGV[j + 4] ~= '' and mdx then newc = mdx .. '|' .. ARGV[j + 4] end
    if oldc ~= newc then
      diffStep(name, oldc, newc)
      if newc then table.insert(fields, 'c:' .. name); table.insert(fields, newc)
      else redis.call('HDEL', K, 'c:' .. name) end
    end
    redis.call('HSET', K, unpack(fields))
    local v = redis.call('HINCRBY', K, 'v', 1)
    table.insert(out, v)
    table.insert(lines, v .. '|0|' .. ARGV[j + 5] .. '|' .. ARGV[j + 6])
  end
end
if #lines > 0 then redis.call('PUBLISH', P_CHANNEL, table.concat(lines, '\\n')) end
return out
`;
}

/**
 * KEYS[1] run; ARGV: 1 id, 2 status, 3 startedMs, 4 name, 5 has name, 6 lex id, 7 lex name, 8 doc,
 * 9 result, 10 names JSON, 11 ss, 12 mdx, 13 run contribution, 14 expire-at ms (0 = never),
 * 15 expiry member, 16 origin, 17.. (step name, rank char + JSON, contribution) triples.
 */
function saveStatus(): string {
  return `
local K, id, st, t, nm, hn = KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local mdx, exp, xm = ARGV[12], ARGV[14], ARGV[15]
local o = redis.call('HMGET', K, 'st', 'nm', 'hn', 'names', 'xm', 'mc')
local keep = {}
for j = 17, #ARGV, 3 do keep[ARGV[j]] = true end
if o[1] then
  if o[1] ~= st then redis.call('ZREM', P_STATUS .. o[1], id) end
  if o[3] == '1' and (hn ~= '1' or o[2] ~= nm) then redis.call('ZREM', P_NAME .. o[2], id) end
  if o[5] and o[5] ~= xm then redis.call('ZREM', P_EXPIRY, o[5]) end
  for _, old in ipairs(cjson.decode(o[4] or '[]')) do
    if not keep[old] then
      local c = redis.call('HGET', K, 'c:' .. old)
      if c then applyStep(old, c, -1) end
      redis.call('HDEL', K, 's:' .. old, 'ix:' .. old, 'c:' .. old)
    end
  end
end
local fields = { 'doc', ARGV[8], 'res', ARGV[9], 'names', ARGV[10], 'ss', ARGV[11], 'st', st, 't', t,
  'nm', nm, 'hn', hn, 'mdx', mdx, 'mc', ARGV[13] }
local i = 0
for j = 17, #ARGV, 3 do
  i = i + 1
  local name = ARGV[j]
  local oldc = redis.call('HGET', K, 'c:' .. name)
  local newc = false
  if ARGV[j + 2] ~= '' then newc = mdx .. '|' .. ARGV[j + 2] end
  diffStep(name, oldc, newc)
  if newc then table.insert(fields, 'c:' .. name); table.insert(fields, newc)
  elseif oldc then redis.call('HDEL', K, 'c:' .. name) end
  table.insert(fields, 's:' .. name); table.insert(fields, ARGV[j + 1])
  table.insert(fields, 'ix:' .. name); table.insert(fields, i)
end
if o[6] ~= ARGV[13] then
  if o[6] then applyRun(o[6], -1) end
  applyRun(ARGV[13], 1)
end
redis.call('HSET', K, unpack(fields))
redis.call('ZADD', P_ALL, t, id)
redis.call('ZADD', P_STATUS .. st, t, id)
redis.call('ZADD', P_LEXIDS, 0, ARGV[6])
if hn == '1' then
  redis.call('ZADD', P_NAME .. nm, t, id)
  redis.call('ZADD', P_LEXNAMES, 0, ARGV[7])
end
if exp ~= '0' then
  redis.call('PEXPIREAT', K, exp)
  redis.call('ZADD', P_EXPIRY, exp, xm)
  redis.call('HSET', K, 'xm', xm)
else
  redis.call('PERSIST', K)
  redis.call('HDEL', K, 'xm')
end
local v = redis.call('HINCRBY', K, 'v', 1)
announce(v, 0, ARGV[16], id)
return v
`;
}

/** KEYS[1] run; ARGV: id, origin. Takes the run out of indexes and rollups; answers its last version or 0. */
function deleteRun(): string {
  return `
local K, id = KEYS[1], ARGV[1]
local h = redis.call('HGETALL', K)
if #h == 0 then return 0 end
local f = {}
for j = 1, #h, 2 do f[h[j]] = h[j + 1] end
unindex(id, f.st, f.hn, f.nm, f.xm)
if f.mc then applyRun(f.mc, -1) end
for field, value in pairs(f) do
  if string.sub(field, 1, 2) == 'c:' then applyStep(string.sub(field, 3), value, -1) end
end
redis.call('DEL', K)
local v = (tonumber(f.v) or 0) + 1
announce(v, 1, ARGV[2], id)
return v
`;
}

/**
 * ARGV: ids. Retention: deletes the finished ones (record and index entries, never rollups), drops
 * the index entries of ids whose record is gone; answers { deleted, kept (unfinished) }.
 */
function cleanup(): string {
  return `
local n, kept = 0, 0
for _, id in ipairs(ARGV) do
  local K = P_RUN .. '{' .. id .. '}'
  local h = redis.call('HMGET', K, 'st', 'hn', 'nm', 'xm', 'v')
  if not h[1] then
    unindex(id, false, false, false, false)
    for _, s in ipairs({ 'PENDING', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED' }) do redis.call('ZREM', P_STATUS .. s, id) end
  elseif h[1] == 'COMPLETED' or h[1] == 'FAILED' or h[1] == 'CANCELLED' then
    unindex(id, h[1], h[2], h[3], h[4])
    redis.call('DEL', K)
    announce((tonumber(h[5]) or 0) + 1, 1, '', id)
    n = n + 1
  else
    kept = kept + 1
  end
end
return { n, kept }
`;
}

/** ARGV: now ms, batch size. Drops index entries of runs Redis expired; answers how many it looked at. */
function reap(): string {
  return `
local due = redis.call('ZRANGEBYSCORE', P_EXPIRY, '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, m in ipairs(due) do
  local st, hn, id, nm = string.match(m, '^([^|]*)|([01])|([^|]*)|(.*)$')
  if not st then
    redis.call('ZREM', P_EXPIRY, m)
  else
    local K = P_RUN .. '{' .. id .. '}'
    local xm = redis.call('HGET', K, 'xm')
    if not xm then
      if redis.call('EXISTS', K) == 0 then unindex(id, st, hn, nm, false) end
      redis.call('ZREM', P_EXPIRY, m)
    elseif xm ~= m then
      redis.call('ZREM', P_EXPIRY, m)
    else
      local ttl = redis.call('PTTL', K)
      if ttl > 0 then redis.call('ZADD', P_EXPIRY, tonumber(ARGV[1]) + ttl, m) else redis.call('ZREM', P_EXPIRY, m) end
    end
  end
end
return #due
`;
}

export interface ScriptDefinition {
  lua: string;
  numberOfKeys: number;
}

export type ScriptName = "saveSteps" | "saveStatus" | "deleteRun" | "cleanup" | "reap";

export function buildScripts(parts: KeyParts): Record<ScriptName, ScriptDefinition> {
  const head = prelude(parts);
  const withHead = (body: string, numberOfKeys: number): ScriptDefinition => ({ lua: head + body, numberOfKeys });
  return {
    saveSteps: withHead(saveSteps(), 0),
    saveStatus: withHead(saveStatus(), 1),
    deleteRun: withHead(deleteRun(), 1),
    cleanup: withHead(cleanup(), 0),
    reap: withHead(reap(), 0),
  };
}
