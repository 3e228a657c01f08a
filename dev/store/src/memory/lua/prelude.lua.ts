/**
 * Lua code run once per Lua state: Lua 5.1 compatibility (what Redis' Lua has and 5.3 lacks),
 * Redis' error handler, and the read-only protection of globals and library tables.
 * It receives two JS functions (readonly error, missing-global error) and returns the
 * environment table user scripts run in.
 */
export const PRELUDE = String.raw`
local ro_error, missing_global = ...
local G = _G
local dbg = debug
local setmetatable, rawset, next, type, tostring, select, pairs = setmetatable, rawset, next, type, tostring, select, pairs
local floor, ceil, huge = math.floor, math.ceil, math.huge
local unpack = table.unpack

function __redis__err__handler(err)
  local i = dbg.getinfo(2,'nSl')
  if i and (i.what == 'C' or i.what == 'J') then -- 'J': a JS function (fengari's C functions)
    i = dbg.getinfo(3,'nSl')
  end
  if type(err) ~= 'table' then
    err = {err='ERR ' .. tostring(err)}
  end
  if i then
    err['source'] = i.source
    err['line'] = i.currentline
  end
  return err
end

-- Redis' pcall turns a caught error table {err=...} into its message.
local raw_pcall = pcall
local function pcall_result(ok, ...)
  if ok then return ok, ... end
  local e = ...
  if type(e) == 'table' then
    local m = e.err
    if type(m) == 'string' or type(m) == 'number' then e = m end
  end
  return false, e
end
pcall = function(...) return pcall_result(raw_pcall(...)) end

-- Lua 5.1 names missing from 5.3
rawset(G, 'unpack', unpack)
loadstring = load
gcinfo = function() return floor(collectgarbage("count")) end
math.pow = function(x, y) return x ^ y end
math.mod = math.fmod
math.log10 = function(x) return math.log(x, 10) end
math.atan2 = function(y, x) return math.atan(y, x) end
math.cosh = function(x) return (math.exp(x) + math.exp(-x)) / 2 end
math.sinh = function(x) return (math.exp(x) - math.exp(-x)) / 2 end
math.tanh = function(x) local a, b = math.exp(x), math.exp(-x) return (a - b) / (a + b) end
math.ldexp = function(m, e) return m * 2.0 ^ e end
math.frexp = function(x)
  if x == 0 or x ~= x or x == huge or x == -huge then return x, 0 end
  local e = floor(math.log(math.abs(x), 2)) + 1
  local m = x / 2.0 ^ e
  if math.abs(m) >= 1 then m, e = m / 2, e + 1 elseif math.abs(m) < 0.5 then m, e = m * 2, e - 1 end
  return m, e
end
string.gfind = string.gmatch
table.getn = function(t) return #t end
table.setn = function() error("'setn' is obsolete", 2) end
table.maxn = function(t)
  local n = 0
  for k in pairs(t) do if type(k) == 'number' and k > n then n = k end end
  return n
end
table.foreach = function(t, f)
  for k, v in pairs(t) do local r = f(k, v) if r ~= nil then return r end end
end
table.foreachi = function(t, f)
  for i = 1, #t do local r = f(i, t[i]) if r ~= nil then return r end end
end

for _, name in ipairs({'print', 'require', 'os', 'io', 'dofile', 'loadfile', 'package', 'debug', 'utf8',
                       'rawlen', 'module', 'newproxy'}) do
  G[name] = nil
end
for _, name in ipairs({'tointeger', 'type', 'ult', 'maxinteger', 'mininteger'}) do math[name] = nil end
string.pack, string.unpack, string.packsize = nil, nil, nil
table.pack, table.unpack, table.move = nil, nil, nil
_VERSION = 'Lua 5.1'

-- Read-only library tables and globals, as Redis 7 does.
local function readonly(t)
  return setmetatable({}, {
    __index = t,
    __newindex = ro_error,
    __pairs = function() return next, t, nil end,
    __len = function() return #t end,
    __metatable = false,
  })
end
for _, name in ipairs({'string', 'math', 'table', 'coroutine', 'redis', 'cjson', 'bit'}) do
  rawset(G, name, readonly(G[name]))
end
setmetatable(G, {__index = missing_global, __newindex = ro_error, __metatable = false})
return setmetatable({}, {__index = G, __newindex = ro_error, __metatable = false})
`;
