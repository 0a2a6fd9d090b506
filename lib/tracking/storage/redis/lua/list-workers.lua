--[[
  listWorkers: every worker heard from within the listing window, with the time judged by.
    KEYS[1]  the all-runs index (routing only)
    ARGV[1]  how long a worker stays listed after its last heartbeat, ms (WORKER_LISTED_FOR_MS)
  Answers { now ms, id, last heartbeat ms, heartbeat JSON, id, ... } by this server's TIME.

  One script so that "now" and the heartbeat times come from the same clock at the same moment
  (the caller decides online/offline from them), and the pruning happens before the read. A worker
  whose hash entry is missing (written by nothing but this pair of scripts, so never) is skipped.
]]
--- @include "includes/workers"

local now = workerClock()
dropWorkersBefore(now - tonumber(ARGV[1]))
local seen = redis.call('ZRANGE', WORKERS_KEY, 0, -1, 'WITHSCORES')
local out = { now }
for i = 1, #seen, 2 do
  local info = redis.call('HGET', WORKER_INFO_KEY, seen[i])
  if info then
    table.insert(out, seen[i])
    table.insert(out, seen[i + 1])
    table.insert(out, info)
  end
end
return out
