/**
 * The Lua every Redis script starts with (redis/scripts.ts explains why the scripts look the way
 * they do): key prefixes generated from keys.ts, decoding of transported strings, rollup deltas
 * summed per call and written once (flushRollups), index removal and change announcements.
 */
import type { KeyParts } from "./keys";

const lit = (s: string): string => JSON.stringify(s); // a JSON string is a valid Lua string literal here

/** Shared by every script: key prefixes, transport decoding, rollup deltas, index removal, announcements. */
export function prelude(k: KeyParts): string {
  return `
local P_ALL, P_STATUS, P_NAME = ${lit(k.all)}, ${lit(k.status)}, ${lit(k.name)}
local P_LEXIDS, P_LEXNAMES, P_EXPIRY, P_METRICS = ${lit(k.lexIds)}, ${lit(k.lexNames)}, ${lit(k.expiry)}, ${lit(k.metrics)}
local P_REASONS, P_STEPS, P_CHANNEL, P_RUN = ${lit(k.reasonsSuffix)}, ${lit(k.stepsSuffix)}, ${lit(k.channel)}, ${lit(k.run)}
local P_EPOCH = ${lit(k.epoch)}

-- a transported string (records.ts "tx"): a JSON string literal; only one holding a backslash needs decoding
local function rx(s)
  if string.find(s, '\\\\', 1, true) then return cjson.decode(s) end
  return string.sub(s, 2, -2)
end

-- Rollup deltas are summed here and written once per script call (flushRollups), so a batch of
-- transitions of the same day costs a few HINCRBYs, not a few per transition.
local R_INT, R_FLOAT, R_MAX, R_MAXS, R_EXP, R_KEYS = {}, {}, {}, {}, {}, {}
local function rkey(k)
  if not R_INT[k] then R_INT[k] = {}; R_FLOAT[k] = {}; R_MAX[k] = {}; R_MAXS[k] = {}; table.insert(R_KEYS, k) end
end
local function inc(k, f, n) rkey(k); local t = R_INT[k]; t[f] = (t[f] or 0) + n end
local function incf(k, f, n) rkey(k); local t = R_FLOAT[k]; t[f] = (t[f] or 0) + n end

-- run contribution "<day>|<exp>|<hour>|<status>|<dur>|<bucket>|<reason>"
local function applyRun(c, sign)
  local day, exp, hour, st, dur, b, reason = string.match(c, '^([^|]*)|([^|]*)|([^|]*)|([^|]*)|([^|]*)|([^|]*)|(.*)$')
  if not day then return end
  local dk = P_METRICS .. day
  inc(dk, 't', sign)
  inc(dk, 's:' .. st, sign)
  inc(dk, 'h' .. hour, sign)
  if dur ~= '' then
    incf(dk, 'ds', sign * tonumber(dur))
    inc(dk, 'dc', sign)
    inc(dk, 'b' .. b, sign)
  end
  R_EXP[dk] = exp
  if st == 'FAILED' then
    local rk = dk .. P_REASONS
    inc(rk, reason, sign)
    R_EXP[rk] = exp
  end
end

-- step contribution "<day>|<exp>|<failed>|<dur>|<bucket>"
local function applyStep(name, c, sign)
  local day, exp, f, dur, b = string.match(c, '^([^|]*)|([^|]*)|([^|]*)|([^|]*)|(.*)$')
  if not day then return end
  local sk = P_METRICS .. day .. P_STEPS
  local d = tonumber(dur)
  inc(sk, 'c|' .. name, sign)
  if f == '1' then inc(sk, 'f|' .. name, sign) end
  incf(sk, 's|' .. name, sign * d)
  inc(sk, 'b' .. b .. '|' .. name, sign)
  if sign == 1 and (not R_MAX[sk][name] or R_MAX[sk][name] < d) then R_MAX[sk][name] = d; R_MAXS[sk][name] = dur end
  R_EXP[sk] = exp
end

local function diffStep(name, old, new)
  if old == new then return end
  if old then applyStep(name, old, -1) end
  if new then applyStep(name, new, 1) end
end

-- HSET / HMGET in slices: Lua's unpack refuses more than a few thousand values (a run of thousands of steps)
local function hsetAll(K, fields)
  for i = 1, #fields, 1000 do redis.call('HSET', K, unpack(fields, i, math.min(i + 999, #fields))) end
end
local function hmgetAll(K, names)
  local out = {}
  for i = 1, #names, 1000 do
    local part = redis.call('HMGET', K, unpack(names, i, math.min(i + 999, #names)))
    for j = 1, #part do out[i + j - 1] = part[j] end
  end
  return out
end

local function endsWith(s, suffix) return string.sub(s, -#suffix) == suffix end

-- Every day whose rollups a call changed gets a fresh "~v" in its counters hash (m:<day>), from one
-- counter (m:seq) that never repeats, not even for a day that expired and came back: a reader that
-- cached a day's parsed rollups reuses them while "~v" is unchanged (redis/read/metrics.ts).
local function bumpDays()
  local days, order = {}, {}
  for _, k in ipairs(R_KEYS) do
    local dk = k
    if endsWith(k, P_STEPS) then dk = string.sub(k, 1, -#P_STEPS - 1)
    elseif endsWith(k, P_REASONS) then dk = string.sub(k, 1, -#P_REASONS - 1) end
    if days[dk] == nil then days[dk] = k == dk; table.insert(order, dk) end
    if k == dk then days[dk] = true end
  end
  if #order == 0 then return end
  local seq = redis.call('INCR', P_METRICS .. 'seq')
  for _, dk in ipairs(order) do
    redis.call('HSET', dk, '~v', seq)
    -- a day touched through its steps or reasons alone: its counters hash may be new, give it the day's expiry
    if not days[dk] then
      local exp = R_EXP[dk .. P_STEPS] or R_EXP[dk .. P_REASONS]
      if exp then redis.call('PEXPIREAT', dk, exp) end
    end
  end
end

-- Writes the summed deltas. A failure reason or a step whose count drops to 0 leaves its hash; the
-- step max is a high-water mark (a deleted run cannot take it back).
local function flushRollups()
  for _, k in ipairs(R_KEYS) do
    for f, n in pairs(R_FLOAT[k]) do
      if n ~= 0 then redis.call('HINCRBYFLOAT', k, f, string.format('%.17g', n)) end
    end
    local steps, reasons, gone = endsWith(k, P_STEPS), endsWith(k, P_REASONS), {}
    for f, n in pairs(R_INT[k]) do
      if n ~= 0 and redis.call('HINCRBY', k, f, n) <= 0 then
        if reasons then
          redis.call('HDEL', k, f)
        elseif steps and string.sub(f, 1, 2) == 'c|' then
          local name = string.sub(f, 3)
          gone[name] = true
          redis.call('HDEL', k, f, 'f|' .. name, 's|' .. name, 'm|' .. name)
        end
      end
    end
    for name, d in pairs(R_MAX[k]) do
      if not gone[name] then
        local m = redis.call('HGET', k, 'm|' .. name)
        if not m or tonumber(m) < d then redis.call('HSET', k, 'm|' .. name, R_MAXS[k][name]) end
      end
    end
    if R_EXP[k] then redis.call('PEXPIREAT', k, R_EXP[k]) end
  end
  bumpDays()
end

-- remove a run from every index (not from the rollups)
local function unindex(id, st, hn, nm, xm)
  redis.call('ZREM', P_ALL, id)
  if st then redis.call('ZREM', P_STATUS .. st, id) end
  if hn == '1' then redis.call('ZREM', P_NAME .. nm, id) end
  redis.call('ZREM', P_LEXIDS, string.lower(id) .. '\\0' .. id)
  if xm then redis.call('ZREM', P_EXPIRY, xm) end
end

-- Drops the index entries of runs Redis expired (ttlSeconds): at most \`batch\` due expiry entries,
-- answers how many it looked at (batch: there may be more). Cheap when none is due (one range read).
local function reapDue(now, batch)
  local due = redis.call('ZRANGEBYSCORE', P_EXPIRY, '-inf', now, 'LIMIT', 0, batch)
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
        if ttl > 0 then redis.call('ZADD', P_EXPIRY, tonumber(now) + ttl, m) else redis.call('ZREM', P_EXPIRY, m) end
      end
    end
  end
  return #due
end

-- a < b byte by byte, as sorted sets order members (Lua's own < follows the server's locale)
local function bytesLess(a, b)
  for i = 1, math.min(#a, #b) do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return #a < #b
end

-- The dataset's epoch (keys.ts), made by the first write after the data was lost: every change
-- message starts with it, so a subscriber knows when versions started over.
local EPOCH
local function epoch()
  if EPOCH then return EPOCH end
  EPOCH = redis.call('GET', P_EPOCH)
  if not EPOCH then
    local t = redis.call('TIME')
    EPOCH = t[1] .. '.' .. t[2]
    redis.call('SET', P_EPOCH, EPOCH)
  end
  return EPOCH
end

local function publish(text)
  redis.call('PUBLISH', P_CHANNEL, '@' .. epoch() .. '\\n' .. text)
end

local function announce(v, deleted, origin, id)
  publish(v .. '|' .. deleted .. '|' .. origin .. '|' .. id)
end
`;
}
