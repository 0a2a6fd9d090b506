--[[
  claimLeases: picks runs whose lease expired, for a sweep to end them.
    KEYS[1]  the all-runs index (routing only)
    ARGV[1]  at most this many
    ARGV[2]  claim length, ms: how long a claimed lease is withheld from other sweepers
  Answers { now ms, id, holder, id, holder, ... } by this server's TIME.

  Atomic: choosing the expired leases and pushing each claimed one's expiry forward by the claim
  length, so two sweepers never pick the same run at once. The sweeper then ends each run through
  finishStatus (the compare-and-set every end goes through: the indexes, rollups, change log and
  announcement are written exactly as for any end, and a late end by the run's own process and the
  sweep cannot both win); that end removes the lease. A sweeper that dies between the two leaves a
  claim that expires in its turn, and the next sweep ends the run. Leases of runs already finished or
  gone are dropped here.
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local due = redis.call('ZRANGEBYSCORE', LEASES_KEY, '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
local out = { now }
for _, id in ipairs(due) do
  local h = redis.call('HMGET', runKey(id), 'st', 'lw')
  if h[1] and UNFINISHED[h[1]] then
    redis.call('ZADD', LEASES_KEY, now + tonumber(ARGV[2]), id)
    table.insert(out, id)
    table.insert(out, h[2] or '')
  else
    redis.call('ZREM', LEASES_KEY, id)
  end
end
return out
