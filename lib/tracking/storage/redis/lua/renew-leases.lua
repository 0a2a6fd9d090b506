--[[
  renewLeases: extends the leases of runs that a live process executes.
    KEYS[1]  the all-runs index (routing only)
    ARGV[1]  lease length, ms
    ARGV[2]  the holder's worker id
    ARGV[3]  run ids, each followed by RS (\30); several calls' ids concatenated by the write queue
  Answers one reply per id: 1 leased, 0 not stored or already finished (no lease made).

  Expiry is this server's TIME plus the length, so no two hosts' clocks are ever compared. A run that
  holds a lease is unfinished (every end removes it in its own script), so renewing existing leases
  is one ZMSCORE and one ZADD XX for the whole call, whatever the number of runs. Only a run without
  a lease yet (its first) is checked, stored and unfinished, before it gets one, in the same step: a
  run that ended is never leased again. The holder and the length go into the run hash then.
]]
local t = redis.call('TIME')
local expires = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ARGV[1])
local length, worker = ARGV[1], ARGV[2]
local ids = {}
for id in string.gmatch(ARGV[3], '([^\30]*)\30') do table.insert(ids, id) end
local held = {}
for i = 1, #ids, 1000 do
  local part = { unpack(ids, i, math.min(i + 999, #ids)) }
  local scores = redis.pcall('ZMSCORE', LEASES_KEY, unpack(part))
  if type(scores) == 'table' and scores.err then
    -- a Redis before 6.2: one ZSCORE each
    scores = {}
    for j, id in ipairs(part) do scores[j] = redis.call('ZSCORE', LEASES_KEY, id) end
  end
  for j = 1, #part do held[i + j - 1] = scores[j] and true or false end
end
local out, renew = {}, {}
for i, id in ipairs(ids) do
  if held[i] then
    table.insert(renew, expires); table.insert(renew, id)
    out[i] = 1
  else
    local K = runKey(id)
    local h = redis.call('HMGET', K, 'st', 'lw', 'll')
    if h[1] and UNFINISHED[h[1]] then
      redis.call('ZADD', LEASES_KEY, expires, id)
      if h[2] ~= worker or h[3] ~= length then redis.call('HSET', K, 'lw', worker, 'll', length) end
      out[i] = 1
    else
      out[i] = 0
    end
  end
end
-- XX: a lease removed since the ZMSCORE above cannot come back (nothing in between, but say so)
for i = 1, #renew, 1000 do redis.call('ZADD', LEASES_KEY, 'XX', unpack(renew, i, math.min(i + 999, #renew))) end
return out
