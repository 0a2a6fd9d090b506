--[[
  Whole-run saves, shared by save-status.lua and finish-status.lua.

  ARGV[2] holds run records (records.ts `runRecord`), each
  "<id>US<status>US<startedMs>US<has name>US<name tx>US<lowercase name tx, '' if equal>US<run contribution tx>
  US<expire-at ms, 0 never>US<ss>US<doc>US<result JSON>US<names JSON>", then per step
  "GS<name tx>US<contribution>US<rank char + step JSON>", then RS (US \31, GS \29, RS \30).
  Fields that did not change (a finished step re-sent with the final state, the step names, the
  name indexes) are not rewritten.
]]
--- @include "transport"
--- @include "rollups"
--- @include "changes"
--- @include "indexes"

-- "C" or "F" when a stored step value ended (rank 2, COMPLETED or FAILED) and the given one is
-- another state, else false. The status is the first ',"status":"' of the JSON (stepJson writes it
-- right after the name, whose JSON literal cannot hold an unescaped quote).
local function endedStep(stored, given)
  if not stored or stored == given or string.byte(stored, 1) ~= 50 then return false end
  local was = string.match(stored, ',"status":"(%u+)"')
  if (was ~= 'COMPLETED' and was ~= 'FAILED') or was == string.match(given, ',"status":"(%u+)"') then return false end
  return was == 'COMPLETED' and 'C' or 'F'
end

local function saveRun(finish, id, st, t, hn, nm, lnm, mc, exp, ss, doc, res, names, sn, sc, sv)
  local K = runKey(id)
  local o = redis.pcall('HMGET', K, 'st', 'nm', 'hn', 'names', 'xm', 'mc', 't', 'v', 'lw')
  if o.err then return o end
  local fresh = not o[1]
  local mdx = string.match(mc, '^[^|]*|[^|]*')
  local xm = false
  if exp ~= '0' then xm = expiryMember(st, hn, id, nm) end
  local sameNames = o[4] == names
  if not fresh then
    if o[1] ~= st then redis.call('ZREM', statusIndexKey(o[1]), id) end
    if o[3] == '1' and (hn ~= '1' or o[2] ~= nm) then redis.call('ZREM', nameIndexKey(o[2]), id) end
    if o[5] and o[5] ~= xm then redis.call('ZREM', EXPIRY_INDEX_KEY, o[5]) end
    if not sameNames then
      local keep = {}
      for _, n in ipairs(sn) do keep[n] = true end
      for _, old in ipairs(cjson.decode(o[4] or '[]')) do
        if not keep[old] then
          local c = redis.call('HGET', K, 'c:' .. old)
          if c then applyStep(old, c, -1) end
          redis.call('HDEL', K, 's:' .. old, 'ix:' .. old, 'c:' .. old)
        end
      end
    end
  end
  local v = (tonumber(o[8]) or 0) + 1
  local fields = { 'doc', doc, 'res', res, 'ss', ss, 'st', st, 't', t, 'nm', nm, 'hn', hn, 'mdx', mdx, 'mc', mc, 'v', v }
  if not sameNames then table.insert(fields, 'names'); table.insert(fields, names) end
  if xm then table.insert(fields, 'xm'); table.insert(fields, xm) end
  local old = {}
  if not fresh and #sn > 0 then
    local q = {}
    for i, n in ipairs(sn) do q[2 * i - 1] = 's:' .. n; q[2 * i] = 'c:' .. n end
    old = hmgetAll(K, q)
  end
  for i, n in ipairs(sn) do
    local oldc = old[2 * i] or false
    local newc = false
    if sc[i] ~= '' then newc = mdx .. '|' .. sc[i] end
    local held = finish and endedStep(old[2 * i - 1], sv[i])
    if held then
      -- keep the stored step, its contribution and its status char
      sv[i] = old[2 * i - 1]; newc = oldc
      ss = string.sub(ss, 1, i - 1) .. held .. string.sub(ss, i + 1); fields[6] = ss
    end
    if oldc ~= newc then
      diffStep(n, oldc, newc)
      if newc then table.insert(fields, 'c:' .. n); table.insert(fields, newc)
      elseif oldc then redis.call('HDEL', K, 'c:' .. n) end
    end
    if old[2 * i - 1] ~= sv[i] then table.insert(fields, 's:' .. n); table.insert(fields, sv[i]) end
    if not sameNames then table.insert(fields, 'ix:' .. n); table.insert(fields, i) end
  end
  if o[6] ~= mc then
    if o[6] then applyRun(o[6], -1) end
    applyRun(mc, 1)
  end
  hsetAll(K, fields)
  -- an ended run has no process to renew it any more (renew-leases.lua)
  if FINISHED[st] and o[9] then redis.call('ZREM', LEASES_KEY, id) end
  redis.call('ZADD', ALL_INDEX_KEY, t, id)
  redis.call('ZADD', statusIndexKey(st), t, id)
  local moved = fresh or o[7] ~= t
  if moved then redis.call('ZADD', ID_LEX_KEY, 0, lexMember(string.lower(id), id)) end
  if hn == '1' and (moved or o[3] ~= '1' or o[2] ~= nm) then
    redis.call('ZADD', nameIndexKey(nm), t, id)
    if lnm == '' then lnm = nm end
    redis.call('ZADD', NAME_LEX_KEY, 0, lexMember(lnm, nm))
  end
  if xm then
    redis.call('PEXPIREAT', K, exp)
    redis.call('ZADD', EXPIRY_INDEX_KEY, exp, xm)
  elseif not fresh then
    redis.call('PERSIST', K)
    if o[5] then redis.call('HDEL', K, 'xm') end
  end
  return v
end

-- Saves every record of ARGV[2]; with `finish`, a run is written only if it is stored and not
-- finished yet (checked in the same script as the write). Answers each run's version: 0 not stored,
-- -1 already finished (both only with `finish`, and announced as nothing), or an error for that run
-- alone (a foreign key under the run's name).
local function saveRuns(finish)
  local origin, data = ARGV[1], ARGV[2]
  local out = {}
  local pos = 1
  local head = '^' .. string.rep('([^\31]*)\31', 11) .. '([^\29\30]*)()'
  while pos <= #data do
    local id, st, t, hn, nm, lnm, mc, exp, ss, doc, res, names, nxt = string.match(data, head, pos)
    if not id then return redis.error_reply('ERR pipewatch: malformed run record') end
    pos = nxt
    local sn, sc, sv = {}, {}, {}
    while string.byte(data, pos) == 29 do
      local n, c, v, after = string.match(data, '^\29([^\31]*)\31([^\31]*)\31([^\29\30]*)()', pos)
      if not n then return redis.error_reply('ERR pipewatch: malformed step in a run record') end
      table.insert(sn, rx(n)); table.insert(sc, c); table.insert(sv, v)
      pos = after
    end
    if string.byte(data, pos) ~= 30 then return redis.error_reply('ERR pipewatch: malformed run record end') end
    pos = pos + 1
    local v = nil
    if finish then
      local cur = redis.pcall('HGET', runKey(id), 'st')
      if type(cur) == 'table' and cur.err then v = cur
      elseif not cur then v = 0
      elseif not UNFINISHED[cur] then v = -1 end
    end
    if v == nil then v = saveRun(finish, id, st, t, hn, rx(nm), lnm == '' and '' or rx(lnm), rx(mc), exp, ss, doc, res, names, sn, sc, sv) end
    table.insert(out, v)
    if type(v) == 'number' and v > 0 then noteChange(v, 0, origin, id) end
  end
  flushRollups()
  flushChanges()
  return out
end
