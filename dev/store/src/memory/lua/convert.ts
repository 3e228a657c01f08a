/** Conversions between Redis replies and Lua values, exactly as Redis' script_lua.c does (RESP2). */
import { CommandError } from "../../types.ts";
import { formatScore } from "../numbers.ts";
import { NestedError, Status, type IReply } from "../reply.ts";
import { fengari, type LuaState } from "./fengari.ts";

const decoder = new TextDecoder("utf-8");

/** A Lua string at idx as a JS string (invalid UTF-8 becomes U+FFFD). */
export function luaString(L: LuaState, idx: number): string {
  const { lua } = fengari();
  return decoder.decode(lua.lua_tolstring(L, idx) as Uint8Array);
}

export function pushString(L: LuaState, s: string): void {
  const { lua, to_luastring } = fengari();
  lua.lua_pushstring(L, to_luastring(s));
}

/** Pushes a table {field = value} (Redis' {ok=...} / {err=...} shapes). */
export function pushFieldTable(L: LuaState, field: string, value: string): void {
  const { lua, to_luastring } = fengari();
  lua.lua_createtable(L, 0, 1);
  pushString(L, value);
  lua.lua_setfield(L, -2, to_luastring(field));
}

/** Redis reply → Lua value (`redisProtocolToLuaType`). */
export function pushReply(L: LuaState, r: IReply): void {
  const { lua } = fengari();
  if (r === null) lua.lua_pushboolean(L, false);
  else if (typeof r === "number") lua.lua_pushnumber(L, r);
  else if (typeof r === "string") pushString(L, r);
  else if (r instanceof Status) pushFieldTable(L, "ok", r.value);
  else if (r instanceof NestedError) pushFieldTable(L, "err", r.message);
  else {
    lua.lua_createtable(L, r.length, 0);
    r.forEach((item, i) => {
      pushReply(L, item);
      lua.lua_rawseti(L, -2, i + 1);
    });
  }
}

/** C's (long long) cast of a double on x86-64: out of range (and NaN) gives INT64_MIN. */
export function luaNumberToInteger(n: number): number {
  if (!Number.isFinite(n) || n >= 2 ** 63 || n < -(2 ** 63)) return -9223372036854775808;
  return Math.trunc(n) + 0;
}

const noNewlines = (s: string) => s.replace(/[\r\n]/g, " ");

/** Error information of a Lua error table: {err=..., source=..., line=...}. */
export function errorInfo(L: LuaState, idx: number): { msg: string | undefined; source?: string; line?: string } {
  const { lua, to_luastring } = fengari();
  const field = (name: string): string | undefined => {
    lua.lua_getfield(L, idx, to_luastring(name));
    const v = lua.lua_isstring(L, -1) ? luaString(L, -1) : undefined;
    lua.lua_pop(L, 1);
    return v;
  };
  return { msg: field("err"), source: field("source"), line: field("line") };
}

/** Lua value at the top of the stack → Redis reply (`luaReplyToRedisReply`); pops it. */
export function popReply(L: LuaState, nested = false): IReply {
  const { lua, to_luastring } = fengari();
  const t = lua.lua_type(L, -1);
  try {
    switch (t) {
      case lua.LUA_TSTRING:
        return luaString(L, -1);
      case lua.LUA_TBOOLEAN:
        return lua.lua_toboolean(L, -1) ? 1 : null;
      case lua.LUA_TNUMBER:
        return luaNumberToInteger(lua.lua_tonumber(L, -1));
      case lua.LUA_TTABLE:
        break;
      default:
        return null;
    }
    const raw = (name: string): number => {
      lua.lua_pushstring(L, to_luastring(name));
      return lua.lua_rawget(L, -2);
    };
    if (raw("err") === lua.LUA_TSTRING) {
      lua.lua_pop(L, 1);
      const msg = noNewlines(errorInfo(L, lua.lua_absindex(L, -1)).msg ?? "");
      if (nested) return new NestedError(msg);
      throw new CommandError(msg);
    }
    lua.lua_pop(L, 1);
    if (raw("ok") === lua.LUA_TSTRING) {
      const s = new Status(noNewlines(luaString(L, -1)));
      lua.lua_pop(L, 1);
      return s;
    }
    lua.lua_pop(L, 1);
    if (raw("double") === lua.LUA_TNUMBER) {
      const d = formatScore(lua.lua_tonumber(L, -1));
      lua.lua_pop(L, 1);
      return d;
    }
    lua.lua_pop(L, 1);
    if (raw("big_number") === lua.LUA_TSTRING) {
      const s = noNewlines(luaString(L, -1));
      lua.lua_pop(L, 1);
      return s;
    }
    lua.lua_pop(L, 1);
    for (const kind of ["map", "set"] as const) {
      if (raw(kind) === lua.LUA_TTABLE) {
        const out: IReply[] = [];
        lua.lua_pushnil(L);
        while (lua.lua_next(L, -2)) {
          lua.lua_pushvalue(L, -2);
          out.push(popReply(L, true));
          if (kind === "map") out.push(popReply(L, true));
          else lua.lua_pop(L, 1);
        }
        lua.lua_pop(L, 1);
        return out;
      }
      lua.lua_pop(L, 1);
    }
    const out: IReply[] = [];
    for (let j = 1; ; j++) {
      lua.lua_pushnumber(L, j);
      if (lua.lua_rawget(L, -2) === lua.LUA_TNIL) {
        lua.lua_pop(L, 1);
        break;
      }
      out.push(popReply(L, true));
    }
    return out;
  } finally {
    lua.lua_pop(L, 1);
  }
}
