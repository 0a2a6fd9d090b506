--[[
  countByStatus: the runs per status, after reaping runs Redis expired (so a count never includes a
  run whose record is gone).
    KEYS[1]  the all-runs index (routing only)
    ARGV[1]  now (ms)
    ARGV[2]  reap batch
  Answers { reaped, count per status in the order of STATUSES (models.ts) }.
]]
--- @include "includes/changes"
--- @include "includes/indexes"

local out = { reapDue(ARGV[1], tonumber(ARGV[2])) }
flushChanges()
for _, s in ipairs(STATUSES) do table.insert(out, redis.call('ZCARD', statusIndexKey(s))) end
return out
