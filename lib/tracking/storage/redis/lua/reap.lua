--[[
  Drops the index entries of runs Redis expired (ttlSeconds), before a read that walks the indexes.
    KEYS[1]  the all-runs index (routing only)
    ARGV[1]  now (ms)
    ARGV[2]  batch size
  Answers how many due expiry entries it looked at (a full batch: call again).

  Atomic: the existence check with the index removal and the announcement of each run found gone,
  so a run re-saved meanwhile (a new expiry member) keeps its entries.
]]
--- @include "includes/changes"
--- @include "includes/indexes"

local n = reapDue(ARGV[1], tonumber(ARGV[2]))
flushChanges()
return n
