--[[
  getMetrics: the rollup hashes of the days whose "~v" moved since the caller parsed them.
    KEYS[1]  the all-runs index (routing only)
    ARGV     per day "<YYYY-MM-DD>", then the "~v" the caller holds for it ('' none)
  Answers one entry per day: 0 when its "~v" is still the caller's, else
  { "~v" or '', counters, reasons, steps } (each hash as HGETALL lays it out).

  One script so that a 7-day window under live writes decodes today's three hashes, not 21, and the
  "~v" it answers belongs to the hashes it answers (no write lands between them).
]]

local out = {}
for i = 1, #ARGV, 2 do
  local dk = metricsDayKey(ARGV[i])
  local v = redis.call('HGET', dk, '~v')
  if v and v == ARGV[i + 1] then
    table.insert(out, 0)
  else
    table.insert(out, { v or '', redis.call('HGETALL', dk), redis.call('HGETALL', metricsReasonsKey(ARGV[i])), redis.call('HGETALL', metricsStepsKey(ARGV[i])) })
  end
end
return out
