--[[
  renewLeases: extends the leases of runs that a live process executes.
    KEYS[1]  the all-runs index (routing only)
    ARGV[1]  lease length, ms
    ARGV[2]  the holder's worker id
    ARGV[3]  run ids, each followed by RS (\30); several calls' ids concatenated by the write queue
  Answers one reply per id: 1 leased, 0 not stored or already finished (no lease made).

  Expiry is this server's TIME plus the length, so no two hosts' clocks are ever compared. The check
  and the ZADD are one step: a run that ended (its end removes the lease) is never leased again. The
  holder and the length are written into the run hash only when they change, so a renewal is one
  HMGET and one ZADD per run.
]]
local t = redis.call('TIME')
local expires = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ARGV[1])
local length, worker = ARGV[1], ARGV[2]
local out = {}
for id in string.gmatch(ARGV[3], '([^\30]*)\30') do
  local K = runKey(id)
  local h = redis.call('HMGET', K, 'st', 'lw', 'll')
  if h[1] and UNFINISHED[h[1]] then
    redis.call('ZADD', LEASES_KEY, expires, id)
    if h[2] ~= worker or h[3] ~= length then redis.call('HSET', K, 'lw', worker, 'll', length) end
    table.insert(out, 1)
  else
    table.insert(out, 0)
  end
end
return out
