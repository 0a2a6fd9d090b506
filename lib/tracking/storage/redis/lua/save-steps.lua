--[[
  saveStep: step transitions of runs already stored.
    KEYS[1]  the all-runs index (routing only)
    ARGV[1]  origin
    ARGV[2]  step records (records.ts `stepRecord`), each
             "<id>US<name tx>US<status char>US<contribution>US<rank char + step JSON>RS" (US \31, RS \30)
  Answers each write's version: 0 for an unknown run (or not a hash), -1 for a write refused as a
  backwards move.

  Atomic: the step value, the run's status chars (ss) and version, the step's rollup diff, the change
  log and the announcement. A step never moves backwards (its rank char is compared in the same
  script), so a late or redelivered write cannot undo a newer one. Consecutive step writes share one
  call (the write queue merges up to 128), so the per-call cost of a script is paid once per batch
  and their change lines go out as one PUBLISH.
]]
--- @include "includes/transport"
--- @include "includes/rollups"
--- @include "includes/changes"

local origin, data = ARGV[1], ARGV[2]
local out = {}
local pos = 1
while pos <= #data do
  local id, tname, ch, contrib, val, nxt = string.match(data, '^([^\31]*)\31([^\31]*)\31([^\31]*)\31([^\31]*)\31([^\30]*)\30()', pos)
  if not id then return redis.error_reply('ERR pipewatch: malformed step record') end
  pos = nxt
  local name = rx(tname)
  local K = runKey(id)
  local h = redis.pcall('HMGET', K, 'ix:' .. name, 's:' .. name, 'ss', 'c:' .. name, 'mdx', 'names', 'v')
  if h.err or not h[3] then
    table.insert(out, 0) -- unknown (or deleted, or foreign) run: ignored
  elseif h[2] and string.byte(h[2], 1) > string.byte(val, 1) then
    table.insert(out, -1) -- a step never moves backwards
  else
    local ix, old, ss, oldc, mdx = h[1], h[2], h[3], h[4], h[5]
    local fields = { 's:' .. name, val }
    if not ix then
      -- a step that was not declared when the run was saved: append it
      local names = cjson.decode(h[6] or '[]')
      table.insert(names, name)
      ix = #names
      ss = ss .. 'P'
      table.insert(fields, 'ix:' .. name); table.insert(fields, ix)
      table.insert(fields, 'names'); table.insert(fields, cjson.encode(names))
    end
    local i = tonumber(ix)
    table.insert(fields, 'ss'); table.insert(fields, string.sub(ss, 1, i - 1) .. ch .. string.sub(ss, i + 1))
    local newc = false
    if contrib ~= '' and mdx then newc = mdx .. '|' .. contrib end
    if oldc ~= newc then
      diffStep(name, oldc, newc)
      if newc then table.insert(fields, 'c:' .. name); table.insert(fields, newc)
      else redis.call('HDEL', K, 'c:' .. name) end
    end
    local v = (tonumber(h[7]) or 0) + 1
    table.insert(fields, 'v'); table.insert(fields, v)
    redis.call('HSET', K, unpack(fields))
    table.insert(out, v)
    noteChange(v, 0, origin, id)
  end
end
flushRollups()
flushChanges()
return out
