/**
 * The Lua scripts behind every multi-key write of the Redis storage. Why scripts: a transition must
 * update the run hash, its indexes, the rollups and announce itself as one step, so concurrent
 * writers (steps of one dataflow run in several processes) never interleave half-writes, and a
 * reader never sees a run whose indexes disagree with it. Why they look like this:
 *  - key names are generated into the script from `keyParts` (keys.ts), so the wire carries only ids
 *    and values; keys derived from stored values (an old status, an old day) cannot be declared up
 *    front, hence the Cluster note in keys.ts.
 *  - rollups are applied as diffs of a stored "contribution" string per run and per step: subtract
 *    the old one, add the new one, skip when equal. A redelivered or retried write (the write queue
 *    resends after a reconnect) therefore never double-counts, and a status change moves counters.
 *    The deltas of one call are summed and written once at its end (flushRollups); float sums go
 *    out with 17 significant digits, so nothing is rounded away.
 *  - writes travel packed: one string of records per call (fields split by the ASCII unit separator,
 *    records by the record separator; values that may hold control characters travel as JSON string
 *    literals, see redis/records.ts), because the Node side of recording is dominated by per-command
 *    and per-argument costs. Consecutive saves of runs or steps share one call and one PUBLISH.
 */
import { STATUSES } from "../../models";
import { prelude } from "./lua-prelude";
import { countByStatus, listPage, rollupDays } from "./read-scripts";
import type { KeyParts } from "./keys";

/**
 * KEYS[1] the all-runs index (routing only); ARGV[1] origin, ARGV[2] step records (records.ts
 * `stepRecord`), each "<id>US<name tx>US<status char>US<contribution>US<rank char + step JSON>RS". Consecutive step writes
 * share one script call (the write queue merges them), so the per-call cost of a script is paid once
 * per batch; their change messages go out as one PUBLISH, one line each. Answers each write's version
 * (0 unknown run or not a hash, -1 refused as a backwards move).
 */
function saveSteps(): string {
  return `
local origin, data = ARGV[1], ARGV[2]
local out, lines = {}, {}
local pos = 1
while pos <= #data do
  local id, tname, ch, contrib, val, nxt = string.match(data, '^([^\\31]*)\\31([^\\31]*)\\31([^\\31]*)\\31([^\\31]*)\\31([^\\30]*)\\30()', pos)
  if not id then return redis.error_reply('ERR pipewatch: malformed step record') end
  pos = nxt
  local name = rx(tname)
  local K = P_RUN .. '{' .. id .. '}'
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
    table.insert(lines, v .. '|0|' .. origin .. '|' .. id)
  end
end
flushRollups()
if #lines > 0 then publish(table.concat(lines, '\\n')) end
return out
`;
}

/**
 * KEYS[1] the all-runs index (routing only); ARGV[1] origin, ARGV[2] run records (records.ts
 * `runRecord`), each "<id>US<status>US<startedMs>US<has name>US<name tx>US<lowercase name tx, '' if equal>US<run contribution tx>
 * US<expire-at ms, 0 never>US<ss>US<doc>US<result JSON>US<names JSON>", then per step
 * "GS<name tx>US<contribution>US<rank char + step JSON>", then RS. Consecutive saves share one call.
 * Fields that did not change (a finished step re-sent with the final state, the step names, the
 * name indexes) are not rewritten. Answers each run's version, or an error for that run alone
 * (a foreign key under the run's name).
 *
 * `finish` builds the terminal compare-and-set (finishStatus): a run is written only if it is stored
 * and still PENDING or RUNNING, checked in the same script as the write, so a cancel and a finish
 * from two processes cannot both win and a deleted run is never recreated. A refused run answers 0
 * (not stored) or -1 (already finished) and announces nothing. A step it holds as ended (COMPLETED
 * or FAILED) is kept, with its contribution, over another state in the final write (step-order.ts
 * keepsStoredStep): a cancel from another process may carry CANCELLED for a step ended since its read.
 */
function saveStatus(finish: boolean): string {
  return `
-- "C" or "F" when a stored step value ended (rank 2, COMPLETED or FAILED) and the given one is
-- another state, else false. The status is the first ',"status":"' of the JSON (stepJson writes it
-- right after the name, whose JSON literal cannot hold an unescaped quote).
local function endedStep(stored, given)
  if not stored or stored == given or string.byte(stored, 1) ~= 50 then return false end
  local was = string.match(stored, ',"status":"(%u+)"')
  if (was ~= 'COMPLETED' and was ~= 'FAILED') or was == string.match(given, ',"status":"(%u+)"') then return false end
  return was == 'COMPLETED' and 'C' or 'F'
end
local function saveRun(id, st, t, hn, nm, lnm, mc, exp, ss, doc, res, names, sn, sc, sv)
  local K = P_RUN .. '{' .. id .. '}'
  local o = redis.pcall('HMGET', K, 'st', 'nm', 'hn', 'names', 'xm', 'mc', 't', 'v')
  if o.err then return o end
  local fresh = not o[1]
  local mdx = string.match(mc, '^[^|]*|[^|]*')
  local xm = false
  if exp ~= '0' then xm = st .. '|' .. hn .. '|' .. id .. '|' .. nm end
  local sameNames = o[4] == names
  if not fresh then
    if o[1] ~= st then redis.call('ZREM', P_STATUS .. o[1], id) end
    if o[3] == '1' and (hn ~= '1' or o[2] ~= nm) then redis.call('ZREM', P_NAME .. o[2], id) end
    if o[5] and o[5] ~= xm then redis.call('ZREM', P_EXPIRY, o[5]) end
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
    local held = ${finish ? "endedStep(old[2 * i - 1], sv[i])" : "false"}
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
  redis.call('ZADD', P_ALL, t, id)
  redis.call('ZADD', P_STATUS .. st, t, id)
  local moved = fresh or o[7] ~= t
  if moved then redis.call('ZADD', P_LEXIDS, 0, string.lower(id) .. '\\0' .. id) end
  if hn == '1' and (moved or o[3] ~= '1' or o[2] ~= nm) then
    redis.call('ZADD', P_NAME .. nm, t, id)
    if lnm == '' then lnm = nm end
    redis.call('ZADD', P_LEXNAMES, 0, lnm .. '\\0' .. nm)
  end
  if xm then
    redis.call('PEXPIREAT', K, exp)
    redis.call('ZADD', P_EXPIRY, exp, xm)
  elseif not fresh then
    redis.call('PERSIST', K)
    if o[5] then redis.call('HDEL', K, 'xm') end
  end
  return v
end

local origin, data = ARGV[1], ARGV[2]
local out, lines = {}, {}
local pos = 1
local head = '^' .. string.rep('([^\\31]*)\\31', 11) .. '([^\\29\\30]*)()'
while pos <= #data do
  local id, st, t, hn, nm, lnm, mc, exp, ss, doc, res, names, nxt = string.match(data, head, pos)
  if not id then return redis.error_reply('ERR pipewatch: malformed run record') end
  pos = nxt
  local sn, sc, sv = {}, {}, {}
  while string.byte(data, pos) == 29 do
    local n, c, v, after = string.match(data, '^\\29([^\\31]*)\\31([^\\31]*)\\31([^\\29\\30]*)()', pos)
    if not n then return redis.error_reply('ERR pipewatch: malformed step in a run record') end
    table.insert(sn, rx(n)); table.insert(sc, c); table.insert(sv, v)
    pos = after
  end
  if string.byte(data, pos) ~= 30 then return redis.error_reply('ERR pipewatch: malformed run record end') end
  pos = pos + 1
  local v = nil
  if ${finish ? "true" : "false"} then
    local cur = redis.pcall('HGET', P_RUN .. '{' .. id .. '}', 'st')
    if type(cur) == 'table' and cur.err then v = cur
    elseif not cur then v = 0
    elseif cur ~= 'PENDING' and cur ~= 'RUNNING' then v = -1 end
  end
  if v == nil then v = saveRun(id, st, t, hn, rx(nm), lnm == '' and '' or rx(lnm), rx(mc), exp, ss, doc, res, names, sn, sc, sv) end
  table.insert(out, v)
  if type(v) == 'number' and v > 0 then table.insert(lines, v .. '|0|' .. origin .. '|' .. id) end
end
flushRollups()
if #lines > 0 then publish(table.concat(lines, '\\n')) end
return out
`;
}

/** KEYS[1] run; ARGV: id, origin. Takes the run out of indexes and rollups; answers its last version or 0. */
function deleteRun(): string {
  return `
local K, id = KEYS[1], ARGV[1]
local h = redis.call('HGETALL', K)
if #h == 0 then return 0 end
local f = {}
for j = 1, #h, 2 do f[h[j]] = h[j + 1] end
unindex(id, f.st, f.hn, f.nm, f.xm)
if f.mc then applyRun(f.mc, -1) end
for field, value in pairs(f) do
  if string.sub(field, 1, 2) == 'c:' then applyStep(string.sub(field, 3), value, -1) end
end
redis.call('DEL', K)
flushRollups()
local v = (tonumber(f.v) or 0) + 1
announce(v, 1, ARGV[2], id)
return v
`;
}

/**
 * KEYS[1] the all-runs index (routing only); ARGV: ids. Retention: deletes the finished ones (record
 * and index entries, never rollups), drops the index entries of ids whose record is gone; answers { deleted, kept (unfinished) }.
 */
function cleanup(): string {
  return `
local n, kept = 0, 0
for _, id in ipairs(ARGV) do
  local K = P_RUN .. '{' .. id .. '}'
  local h = redis.call('HMGET', K, 'st', 'hn', 'nm', 'xm', 'v')
  if not h[1] then
    unindex(id, false, false, false, false)
    for _, s in ipairs({ 'PENDING', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED' }) do redis.call('ZREM', P_STATUS .. s, id) end
  elseif h[1] == 'COMPLETED' or h[1] == 'FAILED' or h[1] == 'CANCELLED' then
    unindex(id, h[1], h[2], h[3], h[4])
    redis.call('DEL', K)
    announce((tonumber(h[5]) or 0) + 1, 1, '', id)
    n = n + 1
  else
    kept = kept + 1
  end
end
return { n, kept }
`;
}

/**
 * KEYS[1] the all-runs index (routing only); ARGV: now ms, batch size. Drops index entries of runs
 * Redis expired; answers how many it looked at.
 */
function reap(): string {
  return `
return reapDue(ARGV[1], tonumber(ARGV[2]))
`;
}

/**
 * Every script declares one key, the all-runs index (scripts that declare no key are sent to any node
 * of a Redis Cluster); the others it builds share its slot when the prefix has a hash tag (keys.ts).
 */
export interface ScriptDefinition {
  lua: string;
  numberOfKeys: number;
}

export type ScriptName =
  | "saveSteps" | "saveStatus" | "finishStatus" | "deleteRun" | "cleanup" | "reap" | "listPage" | "countByStatus" | "rollupDays";

export function buildScripts(parts: KeyParts): Record<ScriptName, ScriptDefinition> {
  const head = prelude(parts);
  const withHead = (body: string, numberOfKeys: number): ScriptDefinition => ({ lua: head + body, numberOfKeys });
  return {
    saveSteps: withHead(saveSteps(), 1),
    saveStatus: withHead(saveStatus(false), 1),
    finishStatus: withHead(saveStatus(true), 1),
    deleteRun: withHead(deleteRun(), 1),
    cleanup: withHead(cleanup(), 1),
    reap: withHead(reap(), 1),
    listPage: withHead(listPage(STATUSES), 1),
    countByStatus: withHead(countByStatus(STATUSES), 1),
    rollupDays: withHead(rollupDays(), 1),
  };
}
