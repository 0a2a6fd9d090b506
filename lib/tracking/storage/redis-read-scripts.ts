/**
 * The Lua behind the hot reads of the Redis storage (the dashboard's list and metrics calls). Why
 * scripts here too: a list page used to cost a reap script, an index range and one HMGET per run,
 * ~55 commands whose per-command client cost (command objects, promises, reply decoding) was most of
 * the time; a script answers a page, the counts or the changed metrics days in one command. Each
 * first drops the index entries of runs Redis expired (reapDue: one range read when none is due), so
 * the lists and counts never show a run whose record is gone, without a separate call per read.
 */

/**
 * KEYS[1] the all-runs index (routing only); ARGV: index key to walk, status filter ('' none),
 * entries wanted, cursor score ('' from the newest), cursor id, now ms, reap batch, '1' to count too.
 * Walks the index newest first from just after the cursor and answers { reaped, packed, skipped, counts }:
 * up to `wanted` runs whose record exists, packed into one string (one reply to decode, not five per
 * run) as "<id>US<score>US<doc>US<ss>US<names>RS" with NAK for a missing field (JSON never holds a
 * control character, so a field that does is not ours: skipped), and skipped as { id, reason, ... }.
 * Index entries of records gone behind the storage's back are dropped (as `cleanup` drops them)
 * after the walk, so the walk's offsets do not move under it. With ARGV[8] '1', counts holds the
 * runs per status after that (a list request also wants them: one call instead of two).
 */
export function listPage(statuses: readonly string[]): string {
  return `
local key, status, want = ARGV[1], ARGV[2], tonumber(ARGV[3])
local afterScore, afterId = tonumber(ARGV[4]), ARGV[5]
local reaped = reapDue(ARGV[6], tonumber(ARGV[7]))
local out, bad, gone = {}, {}, {}
local n, offset = 0, 0
local chunk = math.min(500, math.max(20, want))
local max = '+inf'
if afterScore then max = ARGV[4] end
-- plain finds: a pattern with a character class costs more than the rest of the script
local function clean(v)
  return not v or not (string.find(v, '\\30', 1, true) or string.find(v, '\\31', 1, true) or string.find(v, '\\21', 1, true))
end
while n < want do
  local r = redis.call('ZREVRANGEBYSCORE', key, max, '-inf', 'WITHSCORES', 'LIMIT', offset, chunk)
  offset = offset + chunk
  for i = 1, #r, 2 do
    local id, score = r[i], r[i + 1]
    if not afterScore or tonumber(score) < afterScore or bytesLess(id, afterId) then
      local h = redis.pcall('HMGET', P_RUN .. '{' .. id .. '}', 'doc', 'ss', 'names', 'st')
      if h.err then
        table.insert(bad, id); table.insert(bad, 'not a hash')
      elseif not h[1] and not h[2] and not h[3] then
        table.insert(gone, id)
      elseif not (clean(h[1]) and clean(h[2]) and clean(h[3])) then
        table.insert(bad, id); table.insert(bad, 'control characters in its fields')
      elseif status == '' or h[4] == status then
        table.insert(out, id .. '\\31' .. score .. '\\31' .. (h[1] or '\\21') .. '\\31' .. (h[2] or '\\21') .. '\\31' .. (h[3] or '\\21') .. '\\30')
        n = n + 1
        if n >= want then break end
      end
    end
  end
  if #r < 2 * chunk then break end
end
local STATUSES = { ${statuses.map((s) => JSON.stringify(s)).join(", ")} }
for _, id in ipairs(gone) do
  unindex(id, false, false, false, false)
  for _, s in ipairs(STATUSES) do redis.call('ZREM', P_STATUS .. s, id) end
end
local counts = {}
if ARGV[8] == '1' then
  for _, s in ipairs(STATUSES) do table.insert(counts, redis.call('ZCARD', P_STATUS .. s)) end
end
return { reaped, table.concat(out), bad, counts }
`;
}

/** KEYS[1] the all-runs index (routing only); ARGV: now ms, reap batch. Answers { reaped, count per status }. */
export function countByStatus(statuses: readonly string[]): string {
  return `
local out = { reapDue(ARGV[1], tonumber(ARGV[2])) }
for _, s in ipairs({ ${statuses.map((s) => JSON.stringify(s)).join(", ")} }) do table.insert(out, redis.call('ZCARD', P_STATUS .. s)) end
return out
`;
}

/**
 * KEYS[1] the all-runs index (routing only); ARGV: per day "<YYYY-MM-DD>", then the "~v" the
 * caller holds for it ('' none). Answers one entry per day: 0 when its "~v" is still the caller's,
 * else { "~v" or '', counters, reasons, steps } (each hash as HGETALL lays it out).
 */
export function rollupDays(): string {
  return `
local out = {}
for i = 1, #ARGV, 2 do
  local dk = P_METRICS .. ARGV[i]
  local v = redis.call('HGET', dk, '~v')
  if v and v == ARGV[i + 1] then
    table.insert(out, 0)
  else
    table.insert(out, { v or '', redis.call('HGETALL', dk), redis.call('HGETALL', dk .. P_REASONS), redis.call('HGETALL', dk .. P_STEPS) })
  end
end
return out
`;
}
