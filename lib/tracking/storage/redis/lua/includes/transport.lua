--[[
  Decoding of the packed arguments and helpers for hashes too large for one command.
  Writes travel as one string of records per call (fields split by the ASCII unit separator \31,
  records by \30, a run's steps by \29; records.ts builds them), because the Node side of recording
  is dominated by per-command and per-argument costs.
]]

-- a transported string (records.ts "tx"): a JSON string literal; only one holding a backslash needs decoding
local function rx(s)
  if string.find(s, '\\', 1, true) then return cjson.decode(s) end
  return string.sub(s, 2, -2)
end

-- HSET / HMGET in slices: Lua's unpack refuses more than a few thousand values (a run of thousands of steps)
local function hsetAll(K, fields)
  for i = 1, #fields, 1000 do redis.call('HSET', K, unpack(fields, i, math.min(i + 999, #fields))) end
end
local function hmgetAll(K, names)
  local out = {}
  for i = 1, #names, 1000 do
    local part = redis.call('HMGET', K, unpack(names, i, math.min(i + 999, #names)))
    for j = 1, #part do out[i + j - 1] = part[j] end
  end
  return out
end

-- a < b byte by byte, as sorted sets order members (Lua's own < follows the server's locale)
local function bytesLess(a, b)
  for i = 1, math.min(#a, #b) do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return #a < #b
end
