/**
 * Loads a private copy of fengari (Lua 5.3 in JS) adjusted to behave like the Lua 5.1 that
 * Redis embeds:
 * - every number is a double (5.1 has no integer subtype; fengari's integers are 32-bit and
 *   would wrap around at 2^31);
 * - numbers print with "%.14g" ("5", not "5.0"; "1e+15"), as 5.1's tostring and `..` do.
 * The copy is loaded with a clean module cache and removed from it afterwards, so nothing
 * else in the process that loads fengari sees the changes.
 */
import { createRequire } from "node:module";
import path from "node:path";
import { formatG } from "../numbers.ts";

/* eslint-disable @typescript-eslint/no-explicit-any -- fengari is untyped C-API-style JS */
export type LuaState = { readonly __luaState: unique symbol };
export interface Fengari {
  lua: any;
  lauxlib: any;
  lualib: any;
  to_luastring(s: string): Uint8Array;
}

/** Lua 5.1's LUA_NUMBER_FMT "%.14g" (x86 prints 0/0 as "-nan"). */
export const formatLuaNumber = (n: number): string => (Number.isNaN(n) ? "-nan" : formatG(n, 14));

let loaded: Fengari | undefined;

export function fengari(): Fengari {
  if (loaded) return loaded;
  const require = createRequire(import.meta.url);
  const main = require.resolve("fengari");
  const dir = path.dirname(main) + path.sep;
  const cache = require.cache;
  const saved = new Map<string, NodeJS.Module | undefined>();
  for (const id of Object.keys(cache)) {
    if (id.startsWith(dir)) {
      saved.set(id, cache[id]);
      delete cache[id];
    }
  }
  try {
    require(dir + "defs.js"); // loads luaconf.js too, before anything reads its exports
    const luaconf = require(dir + "luaconf.js");
    luaconf.LUA_COMPAT_FLOATSTRING = true;
    luaconf.lua_number2str = formatLuaNumber;
    luaconf.lua_integer2str = formatLuaNumber;
    const f = require(main);
    const { LUA_TNUMINT, LUA_TNUMFLT } = require(dir + "defs.js").constant_types;
    const { TValue } = require(dir + "lobject.js");
    // Constructors and setters assign `type`; an accessor on the prototype turns integers into floats.
    Object.defineProperty(TValue.prototype, "type", {
      configurable: true,
      get(this: { _t: number }) {
        return this._t;
      },
      set(this: { _t: number }, t: number) {
        this._t = t === LUA_TNUMINT ? LUA_TNUMFLT : t;
      },
    });
    loaded = { lua: f.lua, lauxlib: f.lauxlib, lualib: f.lualib, to_luastring: f.to_luastring };
    return loaded;
  } finally {
    for (const id of Object.keys(cache)) if (id.startsWith(dir)) delete cache[id];
    for (const [id, mod] of saved) cache[id] = mod;
  }
}
