--[[
  Metrics rollups as diffs of stored "contribution" strings (rollups.ts computes them): a write
  subtracts a run's or step's old contribution and adds the new one, skipping equal ones, so a
  redelivered or retried write never double-counts and a status change moves counters. The deltas
  of one call are summed here and written once at its end (flushRollups): a batch of transitions of
  the same day costs a few HINCRBYs, not a few per transition. Float sums go out with 17
  significant digits, so nothing is rounded away.
  Every rollup key is tracked with its day and kind ('day', 'reasons', 'steps'), so no key is ever
  taken apart again to find its day.
]]

local R_INT, R_FLOAT, R_MAX, R_MAXS, R_EXP, R_KEYS, R_DAY, R_KIND = {}, {}, {}, {}, {}, {}, {}, {}
local function rkey(k, day, kind)
  if not R_INT[k] then
    R_INT[k] = {}; R_FLOAT[k] = {}; R_MAX[k] = {}; R_MAXS[k] = {}; R_DAY[k] = day; R_KIND[k] = kind
    table.insert(R_KEYS, k)
  end
  return k
end
local function inc(k, f, n) local t = R_INT[k]; t[f] = (t[f] or 0) + n end
local function incf(k, f, n) local t = R_FLOAT[k]; t[f] = (t[f] or 0) + n end

-- run contribution "<day>|<exp>|<hour>|<status>|<dur>|<bucket>|<reason>"
local function applyRun(c, sign)
  local day, exp, hour, st, dur, b, reason = string.match(c, '^([^|]*)|([^|]*)|([^|]*)|([^|]*)|([^|]*)|([^|]*)|(.*)$')
  if not day then return end
  local dk = rkey(metricsDayKey(day), day, 'day')
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
    local rk = rkey(metricsReasonsKey(day), day, 'reasons')
    inc(rk, reason, sign)
    R_EXP[rk] = exp
  end
end

-- step contribution "<day>|<exp>|<failed>|<dur>|<bucket>"
local function applyStep(name, c, sign)
  local day, exp, f, dur, b = string.match(c, '^([^|]*)|([^|]*)|([^|]*)|([^|]*)|(.*)$')
  if not day then return end
  local sk = rkey(metricsStepsKey(day), day, 'steps')
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

-- Every day whose rollups a call changed gets a fresh "~v" in its counters hash, from one counter
-- that never repeats, not even for a day that expired and came back: a reader that cached a day's
-- parsed rollups reuses them while "~v" is unchanged (read/metrics.ts).
local function bumpDays()
  local counters, order = {}, {}
  for _, k in ipairs(R_KEYS) do
    local day = R_DAY[k]
    if counters[day] == nil then counters[day] = false; table.insert(order, day) end
    if R_KIND[k] == 'day' then counters[day] = true end
  end
  if #order == 0 then return end
  local seq = redis.call('INCR', METRICS_SEQ_KEY)
  for _, day in ipairs(order) do
    local dk = metricsDayKey(day)
    redis.call('HSET', dk, '~v', seq)
    -- a day touched through its steps or reasons alone: its counters hash may be new, give it the day's expiry
    if not counters[day] then
      local exp = R_EXP[metricsStepsKey(day)] or R_EXP[metricsReasonsKey(day)]
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
    local steps, reasons, gone = R_KIND[k] == 'steps', R_KIND[k] == 'reasons', {}
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
