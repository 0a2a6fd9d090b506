--[[
  cleanupOlderThan (retention): one batch of candidate ids, oldest first.
    KEYS[1]  the all-runs index (routing only)
    ARGV     the ids (the caller read them from the all-runs index by start time)
  Answers { deleted, kept (unfinished) }.

  Atomic per batch: the finished-check with the delete, so a run that another process is still
  recording is never deleted under it; the record and its index entries go together and are
  announced (change log and PUBLISH) in the same step. Rollups are left alone: retention never
  rewrites history charts. Ids whose record is already gone lose their index entries only.
]]
--- @include "includes/changes"
--- @include "includes/indexes"

local n, kept = 0, 0
for _, id in ipairs(ARGV) do
  local K = runKey(id)
  local h = redis.call('HMGET', K, 'st', 'hn', 'nm', 'xm', 'v')
  if not h[1] then
    unindex(id, false, false, false, false)
    for _, s in ipairs(STATUSES) do redis.call('ZREM', statusIndexKey(s), id) end
  elseif FINISHED[h[1]] then
    unindex(id, h[1], h[2], h[3], h[4])
    redis.call('DEL', K)
    noteChange((tonumber(h[5]) or 0) + 1, 1, '', id)
    n = n + 1
  else
    kept = kept + 1
  end
end
flushChanges()
return { n, kept }
