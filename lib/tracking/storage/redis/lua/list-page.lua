--[[
  listPage without a search: the dashboard's list in one command.
    KEYS[1]  the all-runs index (routing only)
    ARGV[1]  the index to walk (all runs or one status)
    ARGV[2]  status filter ('' none; the caller checks it)
    ARGV[3]  entries wanted
    ARGV[4]  cursor score ('' from the newest)      ARGV[5]  cursor id
    ARGV[6]  now (ms)                               ARGV[7]  reap batch
    ARGV[8]  '1' to count per status too            ARGV[9]  '1' for raw rows
  Answers { reaped, packed, scores, listed, skipped, counts, rows }: `listed` runs whose record
  exists, their id, doc, ss and names joined by US into `packed` (NAK for a missing field), their
  scores joined by US; `skipped` { id, reason, ... } for keys that are not runs. A field holding US
  makes `packed` split into more than 4 x listed parts: the caller asks again with raw rows, and
  `rows` then holds { id, doc, ss, names, ... } (nil for missing) instead.

  Why one script: a page used to cost a reap, an index range and one HMGET per run, ~55 commands
  whose per-command client cost was most of the time. It first reaps runs Redis expired, then reads
  the index newest first from just after the cursor (ZREVRANGE by rank) and each run's summary
  fields with an HMGET inside the script, drops index entries of records gone behind the storage's
  back (as cleanup.lua does), and with the counts flag counts the runs per status after that, so a
  page and its counts agree (one call per list request, not two).
  Not SORT ... BY nosort GET <run key pattern>, which read the fields in one command: Redis Cluster
  refuses SORT's GET option (even for keys of one slot), and HMGETs inside a script cost about the
  same, since they never leave Redis.
]]
--- @include "includes/transport"
--- @include "includes/changes"
--- @include "includes/indexes"

local key, want = ARGV[1], tonumber(ARGV[3])
local afterScore, afterId, raw = ARGV[4], ARGV[5], ARGV[9] == '1'
local reaped = reapDue(ARGV[6], tonumber(ARGV[7]))
flushChanges()
local US, NAK = '\31', '\21'
-- how many entries sort before or at the cursor (newest first: score desc, then id desc)
local pos = 0
if afterScore ~= '' then
  local at = redis.call('ZSCORE', key, afterId)
  if at and tonumber(at) == tonumber(afterScore) then
    pos = redis.call('ZREVRANK', key, afterId) + 1
  else
    pos = redis.call('ZCOUNT', key, '(' .. afterScore, '+inf')
    for _, m in ipairs(redis.call('ZRANGEBYSCORE', key, afterScore, afterScore)) do
      if not bytesLess(m, afterId) then pos = pos + 1 end
    end
  end
end
local pieces, ids, rows, bad, gone = {}, {}, {}, {}, {}
local n = 0
while n < want do
  local need = want - n
  local page = redis.call('ZREVRANGE', key, pos, pos + need - 1)
  pos = pos + #page
  for _, id in ipairs(page) do
    local K = runKey(id)
    -- pcall: a foreign key under a run's name (not a hash) is reported below, not an error of the page
    local f = redis.pcall('HMGET', K, 'doc', 'ss', 'names')
    local doc, ss, names = false, false, false
    if not f.err then doc, ss, names = f[1], f[2], f[3] end
    if not (doc or ss or names) then
      local t = redis.call('TYPE', K).ok
      if t == 'none' then table.insert(gone, id)
      else table.insert(bad, id); table.insert(bad, t == 'hash' and 'no summary fields' or 'not a hash') end
    else
      table.insert(ids, id)
      n = n + 1
      if raw then
        -- false, not nil, for a missing field: it answers as a nil reply and keeps the array whole
        local k = #rows
        rows[k + 1] = id; rows[k + 2] = doc; rows[k + 3] = ss; rows[k + 4] = names
      else
        local k = #pieces
        pieces[k + 1] = id; pieces[k + 2] = doc or NAK; pieces[k + 3] = ss or NAK; pieces[k + 4] = names or NAK
      end
    end
  end
  if #page < need then break end
end
local scores = {}
if #ids > 0 then scores = redis.call('ZMSCORE', key, unpack(ids)) end
for _, id in ipairs(gone) do
  unindex(id, false, false, false, false)
  for _, s in ipairs(STATUSES) do redis.call('ZREM', statusIndexKey(s), id) end
end
local counts = {}
if ARGV[8] == '1' then
  for _, s in ipairs(STATUSES) do table.insert(counts, redis.call('ZCARD', statusIndexKey(s))) end
end
return { reaped, table.concat(pieces, US), table.concat(scores, US), n, bad, counts, rows }
