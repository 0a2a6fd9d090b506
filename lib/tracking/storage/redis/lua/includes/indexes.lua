--[[
  The run indexes (keys.ts): removing a run from all of them, and dropping the entries of runs Redis
  expired (ttlSeconds), which nothing else would remove.
]]
--- @include "changes"

-- remove a run from every index (not from the rollups)
local function unindex(id, st, hn, nm, xm)
  redis.call('ZREM', ALL_INDEX_KEY, id)
  if st then redis.call('ZREM', statusIndexKey(st), id) end
  if hn == '1' then redis.call('ZREM', nameIndexKey(nm), id) end
  redis.call('ZREM', ID_LEX_KEY, lexMember(string.lower(id), id))
  if xm then redis.call('ZREM', EXPIRY_INDEX_KEY, xm) end
end

-- an expiry-index member: "<STATUS>|<0/1 has name>|<id>|<name>" (the id never holds '|')
local function expiryMember(st, hn, id, nm) return st .. '|' .. hn .. '|' .. id .. '|' .. nm end

-- Drops the index entries of runs Redis expired (ttlSeconds): at most `batch` due expiry entries,
-- answers how many it looked at (batch: there may be more). Cheap when none is due (one range read).
-- A run found gone is announced as deleted (version 0: its record, with its version, went with it).
local function reapDue(now, batch)
  local due = redis.call('ZRANGEBYSCORE', EXPIRY_INDEX_KEY, '-inf', now, 'LIMIT', 0, batch)
  for _, m in ipairs(due) do
    local st, hn, id, nm = string.match(m, '^([^|]*)|([01])|([^|]*)|(.*)$')
    if not st then
      redis.call('ZREM', EXPIRY_INDEX_KEY, m)
    else
      local K = runKey(id)
      local xm = redis.call('HGET', K, 'xm')
      if not xm then
        if redis.call('EXISTS', K) == 0 then
          unindex(id, st, hn, nm, false)
          noteChange(0, 1, '', id)
        end
        redis.call('ZREM', EXPIRY_INDEX_KEY, m)
      elseif xm ~= m then
        redis.call('ZREM', EXPIRY_INDEX_KEY, m)
      else
        local ttl = redis.call('PTTL', K)
        if ttl > 0 then redis.call('ZADD', EXPIRY_INDEX_KEY, tonumber(now) + ttl, m) else redis.call('ZREM', EXPIRY_INDEX_KEY, m) end
      end
    end
  end
  return #due
end
