/**
 * The Lua behind the hot reads of the Redis storage (the dashboard's list and metrics calls). Why
 * scripts here too: a list page used to cost a reap script, an index range and one HMGET per run,
 * ~55 commands whose per-command client cost (command objects, promises, reply decoding) was most of
 * the time; a script answers a page, the counts or the changed metrics days in one command. Each
 * first drops the index entries of runs Redis expired (reapDue: one range read when none is due), so
 * the lists and counts never show a run whose record is gone, without a separate call per read.
 */

/**
 * KEYS[1] the all-runs index (routing only); ARGV: index key to walk, status filter ('' none; the
 * caller checks it), entries wanted, cursor score ('' from the newest), cursor id, now ms, reap
 * batch, '1' to count too, '1' for raw rows.
 * Reads the index newest first from just after the cursor with one SORT ... BY nosort GET (the
 * summary fields of every run in one command: a call per run was most of the script's time) and
 * answers { reaped, packed, scores, listed, skipped, counts, rows }: `listed` runs whose record
 * exists, their id, doc, ss and names joined by US into `packed` (NAK for a missing field), their
 * scores joined by US; `skipped` { id, reason, ... } for keys that are not runs. A field holding US
 * makes `packed` split into more than 4 × listed parts: the caller asks again with raw rows, and
 * `rows` then holds { id, doc, ss, names, ... } (nil for missing) instead. Index entries of records
 * gone behind the storage's back are dropped after the walk (as `cleanup` drops them). With the
 * counts flag, `counts` holds the runs per status after that (one call per list request, not two).
 */
export function listPage(statuses: readonly string[]): string {
  return `
local key, want = ARGV[1], tonumber(ARGV[3])
local afterScore, afterId, raw = ARGV[4], ARGV[5], ARGV[9] == '1'
local reaped = reapDue(ARGV[6], tonumber(ARGV[7]))
local STATUSES = { ${statuses.map((s) => JSON.stringify(s)).join(", ")} }
local US, NAK = '\\31', '\\21'
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
local RUN = P_RUN .. '{*}'
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
        local t = redis.call('TYPE', P_RUN .. '{' .. id .. '}').ok
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
  for _, s in ipairs(STATUSES) do redis.call('ZREM', P_STATUS .. s, id) end
end
local counts = {}
if ARGV[8] == '1' then
  for _, s in ipairs(STATUSES) do table.insert(counts, redis.call('ZCARD', P_STATUS .. s)) end
end
return { reaped, table.concat(pieces, US), table.concat(scores, US), n, bad, counts, rows }
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
