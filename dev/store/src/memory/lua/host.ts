/**
 * EVAL / EVALSHA / SCRIPT on a fengari Lua state set up like Redis 7's scripting engine:
 * KEYS/ARGV globals, the `redis` library (call, pcall, error_reply, status_reply, sha1hex...),
 * cjson and bit, read-only globals, and Redis' error reporting ("... script: <sha>, on
 * @user_script:<line>.").
 */
import { createHash } from "node:crypto";
import { CommandError } from "../../types.ts";
import type { Ctx, ScriptHost } from "../command.ts";
import { formatG } from "../numbers.ts";
import type { IReply } from "../reply.ts";
import { errorInfo, luaString, popReply, pushFieldTable, pushReply, pushString } from "./convert.ts";
import { fengari, type LuaState } from "./fengari.ts";
import { base51, bit, cjson, JSON_NULL } from "./libs.ts";
import { stringFormat } from "./format.ts";
import { errorText, lua51SyntaxWording, lua51Wording } from "./messages.ts";
import { parseShebang } from "./shebang.ts";
import { PRELUDE } from "./prelude.lua.ts";

/** Runs a command for a script; throws CommandError with the message Lua should see. */
export type ScriptDispatch = (ctx: Ctx, argv: string[], readOnly: boolean) => IReply;

interface Script {
  code: string;
  readOnly: boolean;
  /** The compiled function in `state`'s registry (scripts are recompiled after a state reset). */
  ref: number;
  state: LuaState | undefined;
}

/** A runaway script would block the dev server forever: stop it after this long. */
const TIME_LIMIT_MS = 10_000;

export const sha1hex = (s: string): string => createHash("sha1").update(s, "utf8").digest("hex");

const err = (message: string) => new CommandError(message);

export class LuaScripting implements ScriptHost {
  private L: LuaState | undefined;
  private envRef = 0;
  private handlerRef = 0;
  private readonly scripts = new Map<string, Script>();
  private running: { ctx: Ctx; readOnly: boolean } | undefined;
  /** A JS exception (an engine bug) thrown inside the VM, rethrown once the script is over. */
  private nativeError: unknown;

  constructor(private readonly dispatch: ScriptDispatch) {}

  load(body: string): string {
    const sha = sha1hex(body);
    if (!this.scripts.has(sha)) {
      const { code, flags } = parseShebang(body);
      const script: Script = { code, readOnly: flags.has("no-writes"), ref: 0, state: undefined };
      this.compile(script);
      this.scripts.set(sha, script);
    }
    return sha;
  }

  exists(sha: string): boolean {
    return this.scripts.has(sha.toLowerCase());
  }

  flush(): void {
    this.scripts.clear();
    this.L = undefined;
  }

  eval(ctx: Ctx, body: string, keys: string[], args: string[]): IReply {
    const sha = this.load(body);
    return this.run(ctx, sha, keys, args);
  }

  evalsha(ctx: Ctx, sha: string, keys: string[], args: string[]): IReply {
    if (!this.exists(sha)) throw err("NOSCRIPT No matching script. Please use EVAL.");
    return this.run(ctx, sha.toLowerCase(), keys, args);
  }

  private compile(script: Script): void {
    const L = this.state();
    if (script.state === L) return;
    const { lua, lauxlib, to_luastring } = fengari();
    const buf = to_luastring(script.code);
    if (lauxlib.luaL_loadbuffer(L, buf, buf.length, to_luastring("@user_script")) !== lua.LUA_OK) {
      const msg = lua51SyntaxWording(luaString(L, -1));
      lua.lua_pop(L, 1);
      throw err(`ERR Error compiling script (new function): ${msg}`);
    }
    lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, this.envRef);
    lua.lua_setupvalue(L, -2, 1);
    script.ref = lauxlib.luaL_ref(L, lua.LUA_REGISTRYINDEX);
    script.state = L;
  }

  private run(ctx: Ctx, sha: string, keys: string[], args: string[]): IReply {
    const script = this.scripts.get(sha)!;
    this.compile(script);
    const L = this.state();
    const { lua } = fengari();
    const base = lua.lua_gettop(L);
    lua.lua_pushglobaltable(L);
    for (const [name, values] of [["KEYS", keys], ["ARGV", args]] as const) {
      pushString(L, name);
      pushReply(L, values);
      lua.lua_rawset(L, -3);
    }
    lua.lua_pop(L, 1);
    lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, this.handlerRef);
    lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, script.ref);
    const deadline = performance.now() + TIME_LIMIT_MS;
    lua.lua_sethook(L, (hL: LuaState) => {
      if (performance.now() > deadline) this.raise(hL, `Script exceeded the embedded store's ${TIME_LIMIT_MS} ms limit`);
    }, lua.LUA_MASKCOUNT, 100_000);
    this.running = { ctx, readOnly: script.readOnly };
    this.nativeError = undefined;
    let status: number;
    try {
      status = lua.lua_pcall(L, 0, 1, base + 1);
    } catch (e) {
      this.nativeError = e;
      status = -1;
    } finally {
      this.running = undefined;
      lua.lua_sethook(L, null, 0, 0);
    }
    if (this.nativeError !== undefined || ![lua.LUA_OK, lua.LUA_ERRRUN, lua.LUA_ERRMEM, lua.LUA_ERRERR].includes(status)) {
      // A JS exception inside the VM is a bug, not a script error: surface it, and do not
      // reuse a Lua state it may have left inconsistent.
      this.L = undefined;
      const e = this.nativeError ?? new Error(`Lua VM failure (status ${status}) running script ${sha}`);
      this.nativeError = undefined;
      throw e;
    }
    try {
      if (status === lua.LUA_OK) return popReply(L);
      if (lua.lua_type(L, -1) === lua.LUA_TTABLE) {
        const info = errorInfo(L, lua.lua_gettop(L));
        // Redis 7.0 crashes on an error table without `err`; report it instead.
        let msg = lua51Wording(info.msg ?? "ERR script raised an error table without an 'err' field");
        if (info.line !== undefined && info.source !== undefined) msg += ` script: ${sha}, on ${info.source}:${info.line}.`;
        throw err(msg.replace(/[\r\n]/g, " "));
      }
      const text = lua.lua_isstring(L, -1) ? luaString(L, -1) : "execution failure";
      throw err(`ERR Error running script f_${sha}, ${text.slice(0, 100)}`);
    } finally {
      lua.lua_settop(L, base);
    }
  }

  /** Raises a Lua error table {err="ERR <message>"}. */
  private raise(L: LuaState, message: string, fromReply = false): never {
    const { lua } = fengari();
    pushFieldTable(L, "err", errorText(message, fromReply));
    return lua.lua_error(L) as never;
  }

  /** redis.call (raise = true) and redis.pcall. */
  private call(L: LuaState, raise: boolean): number {
    const { lua } = fengari();
    const fail = (message: string, fromReply = false): number => {
      if (raise) return this.raise(L, message, fromReply);
      pushFieldTable(L, "err", errorText(message, fromReply));
      return 1;
    };
    const argc = lua.lua_gettop(L);
    if (argc === 0) return fail("Please specify at least one argument for this redis lib call");
    const argv: string[] = [];
    for (let j = 1; j <= argc; j++) {
      const t = lua.lua_type(L, j);
      if (t === lua.LUA_TNUMBER) argv.push(formatG(lua.lua_tonumber(L, j), 17));
      else if (t === lua.LUA_TSTRING) argv.push(luaString(L, j));
      else return fail("Lua redis lib command arguments must be strings or integers");
    }
    let reply: IReply;
    try {
      reply = this.dispatch(this.running!.ctx, argv, this.running!.readOnly);
    } catch (e) {
      if (!(e instanceof CommandError)) {
        this.nativeError = e;
        throw e;
      }
      return fail(e.message, true);
    }
    lua.lua_checkstack(L, 10);
    pushReply(L, reply);
    return 1;
  }

  private state(): LuaState {
    if (this.L) return this.L;
    const { lua, lauxlib, lualib, to_luastring } = fengari();
    const L: LuaState = lauxlib.luaL_newstate();
    lualib.luaL_openlibs(L);
    const library = (name: string, fns: Record<string, (L: LuaState) => number>, extra?: () => void) => {
      lua.lua_createtable(L, 0, 0);
      for (const [k, fn] of Object.entries(fns)) {
        lua.lua_pushjsfunction(L, fn);
        lua.lua_setfield(L, -2, to_luastring(k));
      }
      extra?.();
      lua.lua_setglobal(L, to_luastring(name));
    };
    library("redis", this.redisLibrary(), () => {
      const constants: Record<string, number> = {
        LOG_DEBUG: 0, LOG_VERBOSE: 1, LOG_NOTICE: 2, LOG_WARNING: 3,
        REPL_NONE: 0, REPL_AOF: 1, REPL_SLAVE: 2, REPL_REPLICA: 2, REPL_ALL: 3, REDIS_VERSION_NUM: 0x07000f,
      };
      for (const [k, v] of Object.entries(constants)) {
        lua.lua_pushnumber(L, v);
        lua.lua_setfield(L, -2, to_luastring(k));
      }
      pushString(L, "7.0.15");
      lua.lua_setfield(L, -2, to_luastring("REDIS_VERSION"));
    });
    library("cjson", cjson, () => {
      lua.lua_pushlightuserdata(L, JSON_NULL);
      lua.lua_setfield(L, -2, to_luastring("null"));
    });
    library("bit", bit);
    for (const [name, fn] of Object.entries(base51)) {
      lua.lua_pushjsfunction(L, fn);
      lua.lua_setglobal(L, to_luastring(name));
    }
    lua.lua_getglobal(L, to_luastring("string"));
    lua.lua_pushjsfunction(L, stringFormat);
    lua.lua_setfield(L, -2, to_luastring("format"));
    lua.lua_pop(L, 1);
    const prelude = to_luastring(PRELUDE);
    if (lauxlib.luaL_loadbuffer(L, prelude, prelude.length, to_luastring("=redis_prelude")) !== lua.LUA_OK)
      throw new Error(`Lua prelude: ${luaString(L, -1)}`);
    lua.lua_pushjsfunction(L, (l: LuaState) => lauxlib.luaL_error(l, to_luastring("Attempt to modify a readonly table")));
    lua.lua_pushjsfunction(L, (l: LuaState) => {
      const name = lua.lua_isstring(l, 2) ? luaString(l, 2) : "?";
      return lauxlib.luaL_error(l, to_luastring("%s"), to_luastring(`Script attempted to access nonexistent global variable '${name}'`));
    });
    if (lua.lua_pcall(L, 2, 1, 0) !== lua.LUA_OK) throw new Error(`Lua prelude: ${luaString(L, -1)}`);
    this.envRef = lauxlib.luaL_ref(L, lua.LUA_REGISTRYINDEX);
    lua.lua_pushglobaltable(L);
    pushString(L, "__redis__err__handler");
    lua.lua_rawget(L, -2);
    this.handlerRef = lauxlib.luaL_ref(L, lua.LUA_REGISTRYINDEX);
    lua.lua_pop(L, 1);
    this.L = L;
    return L;
  }

  private redisLibrary(): Record<string, (L: LuaState) => number> {
    const { lua } = fengari();
    const oneString = (L: LuaState) => lua.lua_gettop(L) === 1 && lua.lua_type(L, 1) === lua.LUA_TSTRING;
    const pushError = (L: LuaState, message: string) => (pushFieldTable(L, "err", errorText(message, false)), 1);
    return {
      call: (L) => this.call(L, true),
      pcall: (L) => this.call(L, false),
      error_reply: (L) => {
        if (!oneString(L)) return pushError(L, "wrong number or type of arguments");
        const s = luaString(L, 1);
        pushFieldTable(L, "err", errorText(s.startsWith("-") ? s.slice(1) : s, true));
        return 1;
      },
      status_reply: (L) => {
        if (!oneString(L)) return pushError(L, "wrong number or type of arguments");
        pushFieldTable(L, "ok", luaString(L, 1));
        return 1;
      },
      sha1hex: (L) => {
        if (lua.lua_gettop(L) !== 1) return this.raise(L, "wrong number of arguments");
        pushString(L, sha1hex(lua.lua_isstring(L, 1) ? luaString(L, 1) : ""));
        return 1;
      },
      log: (L) => (lua.lua_gettop(L) < 2 ? this.raise(L, "redis.log() requires two arguments or more.") : 0),
      setresp: (L) => {
        if (lua.lua_gettop(L) !== 1) return this.raise(L, "redis.setresp() requires one argument.");
        const v = lua.lua_tonumber(L, 1);
        if (v !== 2 && v !== 3) return this.raise(L, "RESP version must be 2 or 3.");
        if (v === 3) return this.raise(L, "RESP3 is not supported by the embedded store");
        return 0;
      },
      set_repl: (L) => (lua.lua_gettop(L) !== 1 ? this.raise(L, "redis.set_repl() requires one argument.") : 0),
      replicate_commands: (L) => (lua.lua_pushboolean(L, true), 1),
      breakpoint: (L) => (lua.lua_pushboolean(L, false), 1),
      debug: () => 0,
      acl_check_cmd: (L) => (lua.lua_pushboolean(L, true), 1),
    };
  }
}
