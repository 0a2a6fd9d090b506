--[[
  Announcing changes: every script that changes runs notes each change here (noteChange) and
  announces them all at its end (flushChanges), in the same script as the writes, so no change is
  ever logged or published without its write, nor the other way round.

  Each change gets the next number of one counter (CHANGE_SEQ_KEY); the run id goes into the change
  log (CHANGE_LOG_KEY, a sorted set id -> seq of the run's latest change), and one PUBLISH carries
  "@<epoch>" then one line per change, "<seq>|<version>|<deleted 0/1>|<origin>|<id>". A subscriber
  that missed messages (its connection dropped) asks the log for every id changed after the last
  seq it saw (changes-since.lua). The log keeps each run once, so it grows with runs, not writes; it
  is trimmed to CHANGE_LOG_LIMIT entries, only when the counter crosses a multiple of
  CHANGE_LOG_TRIM_EVERY (one ZCARD per that many changes, not one per call). The highest seq trimmed
  away is kept (CHANGE_FLOOR_KEY): a subscriber whose last seq is below it cannot replay its gap.
  A deleted run's last version stays in CHANGE_GONE_KEY while its id is in the log.
]]

-- The dataset's epoch, made by the first write after the data was lost: every change message starts
-- with it, so a subscriber knows when versions (and change seqs) started over.
local EPOCH
local function epoch()
  if EPOCH then return EPOCH end
  EPOCH = redis.call('GET', EPOCH_KEY)
  if not EPOCH then
    local t = redis.call('TIME')
    EPOCH = t[1] .. '.' .. t[2]
    redis.call('SET', EPOCH_KEY, EPOCH)
  end
  return EPOCH
end

local CH_IDS, CH_LINES, CH_GONE = {}, {}, {}

local function noteChange(v, deleted, origin, id)
  table.insert(CH_IDS, id)
  table.insert(CH_LINES, v .. '|' .. deleted .. '|' .. origin .. '|' .. id)
  if deleted == 1 then table.insert(CH_GONE, id); table.insert(CH_GONE, v) end
end

local function trimChangeLog()
  local over = redis.call('ZCARD', CHANGE_LOG_KEY) - CHANGE_LOG_LIMIT
  if over <= 0 then return end
  local old = redis.call('ZRANGE', CHANGE_LOG_KEY, 0, over - 1, 'WITHSCORES')
  redis.call('SET', CHANGE_FLOOR_KEY, old[#old])
  redis.call('ZREMRANGEBYRANK', CHANGE_LOG_KEY, 0, over - 1)
  local ids = {}
  for i = 1, #old, 2 do table.insert(ids, old[i]) end
  for i = 1, #ids, 1000 do redis.call('HDEL', CHANGE_GONE_KEY, unpack(ids, i, math.min(i + 999, #ids))) end
end

local function flushChanges()
  local n = #CH_IDS
  if n == 0 then return end
  local last = redis.call('INCRBY', CHANGE_SEQ_KEY, n)
  local first = last - n
  local pairs_, lines = {}, {}
  for i = 1, n do
    pairs_[2 * i - 1] = first + i; pairs_[2 * i] = CH_IDS[i]
    lines[i] = (first + i) .. '|' .. CH_LINES[i]
  end
  -- An id changed twice in one call: ZADD applies the pairs in order, so its latest seq stays.
  -- The ZADD (~0.8 us of Redis CPU per member) is most of what the log adds to a step write; the
  -- simple per-change line building here measured cheaper than deduplicating ids or prebuilt pieces.
  for i = 1, #pairs_, 1000 do redis.call('ZADD', CHANGE_LOG_KEY, unpack(pairs_, i, math.min(i + 999, #pairs_))) end
  for i = 1, #CH_GONE, 1000 do redis.call('HSET', CHANGE_GONE_KEY, unpack(CH_GONE, i, math.min(i + 999, #CH_GONE))) end
  if math.floor(last / CHANGE_LOG_TRIM_EVERY) ~= math.floor(first / CHANGE_LOG_TRIM_EVERY) then trimChangeLog() end
  redis.call('PUBLISH', CHANNEL_KEY, '@' .. epoch() .. '\n' .. table.concat(lines, '\n'))
end
