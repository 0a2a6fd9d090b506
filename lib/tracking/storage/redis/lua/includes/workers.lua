--[[
  The worker registry's clock and its pruning, shared by record-worker and list-workers.
]]

-- Redis TIME in ms: every worker is judged by this one clock, never by its host's
local function workerClock()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- drops the workers last heard from before `cutoff` (ms), from the zset and their heartbeat hash
local function dropWorkersBefore(cutoff)
  local stale = redis.call('ZRANGEBYSCORE', WORKERS_KEY, '-inf', '(' .. cutoff)
  for i = 1, #stale, 1000 do
    redis.call('HDEL', WORKER_INFO_KEY, unpack(stale, i, math.min(i + 999, #stale)))
  end
  if #stale > 0 then redis.call('ZREMRANGEBYSCORE', WORKERS_KEY, '-inf', '(' .. cutoff) end
end
