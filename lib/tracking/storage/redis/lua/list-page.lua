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
  the index newest first from just after the cursor with one SORT ... BY nosort GET (the summary
  fields of every run in one command), drops index entries of records gone behind the storage's back
  (as cleanup.lua does), and with the counts flag counts the runs per status after that, so a page
  and its counts agree (one call per list request, not two).
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
local RUN = RUN_KEY_PATTERN
local pieces, ids, rows, bad, gone = {}, {}, {}, {}, {}
local n = 0
while n < want do
  local need = want - n
  local r = redis.call('SORT', key, 'BY', 'nosort', 'LIMIT', pos, need, 'DESC',
    'GET', '#', 'GET', RUN .. '->doc', 'GET', RUN .. '->ss', 'GET', RUN .. '->names')
  local got = #r / 4
  pos = pos + got
  local whole = not raw
  if whole then
    for i = 2, #r, 4 do
      if not (r[i] and r[i + 1] and r[i + 2]) then whole = false; break end
    end
  end
  if whole then
    if got > 0 then table.insert(pieces, table.concat(r, US)) end
    for i = 1, #r, 4 do table.insert(ids, r[i]) end
    n = n + got
  else
    for i = 1, #r, 4 do
      local id = r[i]
      if not (r[i + 1] or r[i + 2] or r[i + 3]) then
        local t = redis.call('TYPE', runKey(id)).ok
        if t == 'none' then table.insert(gone, id)
        else table.insert(bad, id); table.insert(bad, t == 'hash' and 'no summary fields' or 'not a hash') end
      else
        table.insert(ids, id)
        n = n + 1
        if raw then
          local k = #rows
          rows[k + 1] = id; rows[k + 2] = r[i + 1]; rows[k + 3] = r[i + 2]; rows[k + 4] = r[i + 3]
        else
          table.insert(pieces, id .. US .. (r[i + 1] or NAK) .. US .. (r[i + 2] or NAK) .. US .. (r[i + 3] or NAK))
        end
      end
    end
  end
  if got < need then break end
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
