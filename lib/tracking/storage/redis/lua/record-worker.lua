--[[
  recordWorker: one worker's heartbeat.
    KEYS[1]  the all-runs index (routing only)
    ARGV[1]  the worker's id
    ARGV[2]  its heartbeat as JSON (redis/workers.ts), stored as given
    ARGV[3]  how long a worker stays listed after its last heartbeat, ms (WORKER_LISTED_FOR_MS)
  Answers the heartbeat's time, ms by this server's TIME.

  Atomic: the time, the heartbeat and its place in the zset, so a listing never sees a heartbeat
  without its time or the other way round. The time is Redis TIME, so no two hosts' clocks are ever
  compared. Each heartbeat also drops the workers gone for longer than ARGV[3]: the registry prunes
  itself without a timer of its own.
]]
--- @include "includes/workers"

local now = workerClock()
redis.call('ZADD', WORKERS_KEY, now, ARGV[1])
redis.call('HSET', WORKER_INFO_KEY, ARGV[1], ARGV[2])
dropWorkersBefore(now - tonumber(ARGV[3]))
return now
