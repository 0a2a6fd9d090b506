--[[
  The change feed's replay after a gap: which runs changed after a given change seq.
    KEYS[1]  the all-runs index (routing only)
    ARGV[1]  the last seq the subscriber saw ('' for none: answers the head only)
    ARGV[2]  page size
  Answers { epoch or '', head seq, floor seq, lines }: `lines` holds, oldest first, up to a page of
  "<seq>|<version>|<deleted 0/1>||<id>" (the format of a published line, origin left empty), one per
  run whose latest change is after ARGV[1], with the run's current version, or, for a run that no
  longer exists, the version of its delete (0 when Redis expired it). A subscriber whose last seq is
  below `floor` lost changes the log no longer holds; one whose epoch differs saw another dataset.

  One script so the epoch, the counters and the page describe the same moment.
]]

local epochNow = redis.call('GET', EPOCH_KEY) or ''
local head = redis.call('GET', CHANGE_SEQ_KEY) or '0'
local floor = redis.call('GET', CHANGE_FLOOR_KEY) or '0'
local lines = {}
if ARGV[1] ~= '' then
  local page = redis.call('ZRANGEBYSCORE', CHANGE_LOG_KEY, '(' .. ARGV[1], '+inf', 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[2]))
  for i = 1, #page, 2 do
    local id, seq = page[i], page[i + 1]
    local v = redis.pcall('HGET', runKey(id), 'v')
    if type(v) == 'table' then v = false end
    if v then
      table.insert(lines, seq .. '|' .. v .. '|0||' .. id)
    else
      table.insert(lines, seq .. '|' .. (redis.call('HGET', CHANGE_GONE_KEY, id) or '0') .. '|1||' .. id)
    end
  end
end
return { epochNow, head, floor, table.concat(lines, '\n') }
