--[[
  deletePipeline: one run, out of everything.
    KEYS[1]  the run's hash
    ARGV[1]  its id
    ARGV[2]  origin
  Answers the version the delete announced, or 0 when there was no such run.

  Atomic: the record, its index entries, its rollup contributions (run and steps: an explicit delete
  is the one thing that takes a run back out of the history charts), the change log and the
  announcement. A concurrent step write then finds no run and is dropped, never recreating half a run.
]]
--- @include "includes/rollups"
--- @include "includes/changes"
--- @include "includes/indexes"

local K, id = KEYS[1], ARGV[1]
local h = redis.call('HGETALL', K)
if #h == 0 then return 0 end
local f = {}
for j = 1, #h, 2 do f[h[j]] = h[j + 1] end
unindex(id, f.st, f.hn, f.nm, f.xm)
if f.mc then applyRun(f.mc, -1) end
for field, value in pairs(f) do
  if string.sub(field, 1, 2) == 'c:' then applyStep(string.sub(field, 3), value, -1) end
end
redis.call('DEL', K)
if f.lw then redis.call('ZREM', LEASES_KEY, id) end
flushRollups()
local v = (tonumber(f.v) or 0) + 1
noteChange(v, 1, ARGV[2], id)
flushChanges()
return v
