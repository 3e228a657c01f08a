/** The extra libraries Redis gives scripts: cjson (lua-cjson 2.1) and bit (LuaBitOp). */
import { formatLuaNumber, fengari, type LuaState } from "./fengari.ts";
import { luaString, pushString } from "./convert.ts";

/** cjson.null: a light userdata every decode and comparison shares. */
export const JSON_NULL = { cjsonNull: true };

type JsFn = (L: LuaState) => number;

function fail(L: LuaState, message: string): never {
  const { lauxlib, to_luastring } = fengari();
  return lauxlib.luaL_error(L, to_luastring("%s"), to_luastring(message)) as never;
}

function escapeJson(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.charCodeAt(0);
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (ch === "/") out += "\\/";
    else if (ch === "\b") out += "\\b";
    else if (ch === "\f") out += "\\f";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (c < 0x20 || c === 0x7f) out += "\\u" + c.toString(16).padStart(4, "0");
    else out += ch;
  }
  return out + '"';
}

function encodeValue(L: LuaState, idx: number, depth: number): string {
  const { lua } = fengari();
  switch (lua.lua_type(L, idx)) {
    case lua.LUA_TNIL:
      return "null";
    case lua.LUA_TBOOLEAN:
      return lua.lua_toboolean(L, idx) ? "true" : "false";
    case lua.LUA_TNUMBER: {
      const n = lua.lua_tonumber(L, idx);
      if (!Number.isFinite(n)) fail(L, "Cannot serialise number: must not be NaN or Inf");
      return formatLuaNumber(n);
    }
    case lua.LUA_TSTRING:
      return escapeJson(luaString(L, idx));
    case lua.LUA_TLIGHTUSERDATA:
      if (lua.lua_touserdata(L, idx) === JSON_NULL) return "null";
      break;
    case lua.LUA_TTABLE:
      return encodeTable(L, idx, depth + 1);
  }
  return fail(L, `Cannot serialise ${luaTypeName(L, idx)}: type not supported`);
}

function luaTypeName(L: LuaState, idx: number): string {
  const { lua } = fengari();
  return new TextDecoder().decode(lua.lua_typename(L, lua.lua_type(L, idx)));
}

function encodeTable(L: LuaState, idx: number, depth: number): string {
  const { lua } = fengari();
  if (depth > 1000) fail(L, `Cannot serialise, excessive nesting (${depth})`);
  lua.lua_checkstack(L, 4);
  // lua_array_length: every key a positive integer, and not excessively sparse.
  let max = 0;
  let items = 0;
  let isArray = true;
  lua.lua_pushnil(L);
  while (lua.lua_next(L, idx)) {
    const k = lua.lua_type(L, -2) === lua.LUA_TNUMBER ? lua.lua_tonumber(L, -2) : NaN;
    lua.lua_pop(L, 1);
    if (Number.isInteger(k) && k >= 1) {
      max = Math.max(max, k);
      items++;
    } else isArray = false;
  }
  if (isArray && max > 10 && max > items * 2) fail(L, "Cannot serialise table: excessively sparse array");
  if (isArray && max > 0) {
    const parts: string[] = [];
    for (let i = 1; i <= max; i++) {
      lua.lua_rawgeti(L, idx, i);
      parts.push(encodeValue(L, lua.lua_gettop(L), depth));
      lua.lua_pop(L, 1);
    }
    return "[" + parts.join(",") + "]";
  }
  const parts: string[] = [];
  lua.lua_pushnil(L);
  while (lua.lua_next(L, idx)) {
    const kt = lua.lua_type(L, -2);
    let key: string;
    if (kt === lua.LUA_TSTRING) key = luaString(L, -2);
    else if (kt === lua.LUA_TNUMBER) key = formatLuaNumber(lua.lua_tonumber(L, -2));
    else fail(L, "Cannot serialise table: table key must be a number or string");
    parts.push(escapeJson(key!) + ":" + encodeValue(L, lua.lua_gettop(L), depth));
    lua.lua_pop(L, 1);
  }
  return "{" + parts.join(",") + "}";
}

function pushJson(L: LuaState, v: unknown): void {
  const { lua } = fengari();
  lua.lua_checkstack(L, 3);
  if (v === null) lua.lua_pushlightuserdata(L, JSON_NULL);
  else if (typeof v === "boolean") lua.lua_pushboolean(L, v);
  else if (typeof v === "number") lua.lua_pushnumber(L, v);
  else if (typeof v === "string") pushString(L, v);
  else if (Array.isArray(v)) {
    lua.lua_createtable(L, v.length, 0);
    v.forEach((item, i) => {
      pushJson(L, item);
      lua.lua_rawseti(L, -2, i + 1);
    });
  } else {
    const entries = Object.entries(v as Record<string, unknown>);
    lua.lua_createtable(L, 0, entries.length);
    for (const [k, item] of entries) {
      pushString(L, k);
      pushJson(L, item);
      lua.lua_rawset(L, -3);
    }
  }
}

export const cjson: Record<string, JsFn> = {
  encode(L) {
    const { lua } = fengari();
    if (lua.lua_gettop(L) !== 1) fail(L, "bad argument #1 to 'encode' (expected 1 argument)");
    pushString(L, encodeValue(L, 1, 0));
    return 1;
  },
  decode(L) {
    const { lua, lauxlib } = fengari();
    if (lua.lua_gettop(L) !== 1) fail(L, "bad argument #1 to 'decode' (expected 1 argument)");
    lauxlib.luaL_checkstring(L, 1);
    const text = luaString(L, 1);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return fail(L, "Expected value but found invalid token at character 1");
    }
    pushJson(L, value);
    return 1;
  },
};

/** LuaBitOp argument normalisation: round to integer (ties to even), wrap to signed 32 bits. */
function bitArg(L: LuaState, i: number): number {
  const { lauxlib } = fengari();
  const x = lauxlib.luaL_checknumber(L, i) as number;
  const r = Math.round(x);
  const even = Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
  return even | 0;
}

const fold =
  (op: (a: number, b: number) => number): JsFn =>
  (L) => {
    const { lua } = fengari();
    let acc = bitArg(L, 1);
    for (let i = 2; i <= lua.lua_gettop(L); i++) acc = op(acc, bitArg(L, i));
    lua.lua_pushnumber(L, acc | 0);
    return 1;
  };

const binary =
  (op: (a: number, n: number) => number): JsFn =>
  (L) => {
    fengari().lua.lua_pushnumber(L, op(bitArg(L, 1), bitArg(L, 2) & 31) | 0);
    return 1;
  };

export const bit: Record<string, JsFn> = {
  tobit: fold((a) => a),
  bnot: (L) => (fengari().lua.lua_pushnumber(L, ~bitArg(L, 1)), 1),
  band: fold((a, b) => a & b),
  bor: fold((a, b) => a | b),
  bxor: fold((a, b) => a ^ b),
  lshift: binary((a, n) => a << n),
  rshift: binary((a, n) => a >>> n),
  arshift: binary((a, n) => a >> n),
  rol: binary((a, n) => (a << n) | (a >>> (32 - n))),
  ror: binary((a, n) => (a >>> n) | (a << (32 - n))),
  bswap: (L) => {
    const a = bitArg(L, 1);
    const r = ((a & 0xff) << 24) | ((a & 0xff00) << 8) | ((a >>> 8) & 0xff00) | ((a >>> 24) & 0xff);
    fengari().lua.lua_pushnumber(L, r | 0);
    return 1;
  },
  tohex: (L) => {
    const { lua } = fengari();
    const x = bitArg(L, 1);
    let n = lua.lua_isnoneornil(L, 2) ? 8 : bitArg(L, 2);
    const upper = n < 0;
    if (upper) n = -n;
    n = Math.min(n, 8);
    let s = (x >>> 0).toString(16).padStart(8, "0").slice(8 - n);
    if (upper) s = s.toUpperCase();
    pushString(L, s);
    return 1;
  },
};

/** Lua 5.1's `error` and `assert`: numbers get a position too; assert's message must be a string. */
export const base51: Record<string, JsFn> = {
  error(L) {
    const { lua, lauxlib } = fengari();
    const level = lauxlib.luaL_optinteger(L, 2, 1);
    lua.lua_settop(L, 1);
    const t = lua.lua_type(L, 1);
    if ((t === lua.LUA_TSTRING || t === lua.LUA_TNUMBER) && level > 0) {
      lauxlib.luaL_where(L, level);
      lua.lua_pushvalue(L, 1);
      lua.lua_concat(L, 2);
    }
    return lua.lua_error(L);
  },
  assert(L) {
    const { lua, lauxlib, to_luastring } = fengari();
    if (lua.lua_toboolean(L, 1)) return lua.lua_gettop(L);
    lauxlib.luaL_checkany(L, 1);
    const msg = lauxlib.luaL_optstring(L, 2, to_luastring("assertion failed!"));
    return lauxlib.luaL_error(L, to_luastring("%s"), msg);
  },
};
