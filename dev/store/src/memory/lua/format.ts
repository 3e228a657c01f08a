/**
 * Lua 5.1's string.format with C printf semantics (fengari's uses sprintf-js, which prints
 * "%e" as "1.2e+4" and lacks "%G"). Numbers print exactly as glibc does.
 */
import { exactDecimal, formatDecimalF, roundDiv10 } from "../numbers.ts";
import { fengari, formatLuaNumber, type LuaState } from "./fengari.ts";
import { luaString, pushString } from "./convert.ts";

interface Spec {
  flags: string;
  width: number;
  precision: number | undefined;
  conv: string;
}

function pad(s: string, spec: Spec, numeric: boolean): string {
  if (s.length >= spec.width) return s;
  if (spec.flags.includes("-")) return s.padEnd(spec.width);
  if (numeric && spec.flags.includes("0")) {
    const sign = /^[+\- ]|^0[xX]/.exec(s)?.[0] ?? "";
    return sign + s.slice(sign.length).padStart(spec.width - sign.length, "0");
  }
  return s.padStart(spec.width);
}

const signOf = (neg: boolean, flags: string) => (neg ? "-" : flags.includes("+") ? "+" : flags.includes(" ") ? " " : "");

/** %e body (no sign) of |x| with p fraction digits. */
function expBody(digits: bigint, scale: number, p: number): [string, number] {
  if (digits === 0n) return ["0" + (p > 0 ? "." + "0".repeat(p) : ""), 0];
  const n = digits.toString().length;
  let x = n - 1 - scale;
  let kept = roundDiv10(digits, n - (p + 1));
  if (kept.toString().length > p + 1) {
    kept /= 10n;
    x += 1;
  }
  const ks = kept.toString();
  return [ks[0] + (p > 0 ? "." + ks.slice(1) : ""), x];
}

/** %g without '#': "1.500000e+01" → "1.5e+01", "2.000" → "2". */
function stripFractionZeros(body: string): string {
  const [mant, exp] = body.split("e") as [string, string | undefined];
  const m = mant.includes(".") ? mant.replace(/0+$/, "").replace(/\.$/, "") : mant;
  return exp === undefined ? m : `${m}e${exp}`;
}

const expSuffix = (x: number) => `e${x < 0 ? "-" : "+"}${String(Math.abs(x)).padStart(2, "0")}`;

function formatFloat(x: number, spec: Spec): string {
  const upper = spec.conv === spec.conv.toUpperCase();
  const { flags } = spec;
  let body: string;
  const neg = Number.isNaN(x) || x < 0 || Object.is(x, -0); // x86 prints 0/0 as "-nan"
  if (!Number.isFinite(x)) body = Number.isNaN(x) ? "nan" : "inf";
  else {
    const d = exactDecimal(x);
    const p = spec.precision ?? 6;
    const c = spec.conv.toLowerCase();
    if (c === "f") body = formatDecimalF(false, d.digits, d.scale, p);
    else if (c === "e") {
      const [m, e] = expBody(d.digits, d.scale, p);
      body = m + expSuffix(e);
    } else {
      const P = p === 0 ? 1 : p;
      const [, e] = expBody(d.digits, d.scale, P - 1);
      if (P > e && e >= -4) body = formatDecimalF(false, d.digits, d.scale, P - 1 - e);
      else {
        const [m, e2] = expBody(d.digits, d.scale, P - 1);
        body = m + expSuffix(e2);
      }
      if (!flags.includes("#")) body = stripFractionZeros(body);
    }
    if (flags.includes("#") && !body.includes(".")) body = body.replace(/^(\d+)/, "$1.");
  }
  if (upper) body = body.toUpperCase();
  return pad(signOf(neg, flags) + body, spec, Number.isFinite(x));
}

function formatInt(n: number, spec: Spec): string {
  let v = Number.isFinite(n) ? BigInt(Math.trunc(n)) : -(1n << 63n);
  const { conv, flags } = spec;
  let neg = false;
  let digits: string;
  if (conv === "d" || conv === "i") {
    neg = v < 0n;
    digits = (neg ? -v : v).toString();
  } else {
    if (v < 0n) v += 1n << 64n;
    digits = v.toString(conv === "o" ? 8 : conv === "u" ? 10 : 16);
    if (conv === "X") digits = digits.toUpperCase();
  }
  if (spec.precision !== undefined) digits = spec.precision === 0 && digits === "0" ? "" : digits.padStart(spec.precision, "0");
  if (flags.includes("#") && conv === "o" && !digits.startsWith("0")) digits = "0" + digits;
  if (flags.includes("#") && (conv === "x" || conv === "X") && v !== 0n) digits = (conv === "x" ? "0x" : "0X") + digits;
  const noZeroPad = spec.precision !== undefined ? { ...spec, flags: flags.replace("0", "") } : spec;
  return pad(signOf(neg, conv === "d" || conv === "i" ? flags : "") + digits, noZeroPad, true);
}

function quoted(s: string): string {
  let out = '"';
  for (const ch of s) {
    if (ch === '"' || ch === "\\") out += "\\" + ch;
    else if (ch === "\n") out += "\\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\0") out += "\\000";
    else out += ch;
  }
  return out + '"';
}

/** string.format (Lua 5.1 `str_format`). */
export function stringFormat(L: LuaState): number {
  const { lua, lauxlib, to_luastring } = fengari();
  const fail = (msg: string): never => lauxlib.luaL_error(L, to_luastring("%s"), to_luastring(msg)) as never;
  const top = lua.lua_gettop(L);
  const fmt = luaString(L, (lauxlib.luaL_checkstring(L, 1), 1));
  let arg = 1;
  let out = "";
  for (let i = 0; i < fmt.length; ) {
    const ch = fmt[i++]!;
    if (ch !== "%") {
      out += ch;
      continue;
    }
    if (fmt[i] === "%") {
      out += "%";
      i++;
      continue;
    }
    const m = /^([-+ #0]*)(\d*)(?:\.(\d*))?/.exec(fmt.slice(i))!;
    if (m[1]!.length > 5) fail("invalid format (repeated flags)");
    if (m[2]!.length > 2 || (m[3] ?? "").length > 2) fail("invalid format (width or precision too long)");
    i += m[0].length;
    const conv = fmt[i++] ?? "";
    if (++arg > top) lauxlib.luaL_argerror(L, arg, to_luastring("no value"));
    const spec: Spec = { flags: m[1]!, width: Number(m[2] || 0), precision: m[3] === undefined ? undefined : Number(m[3] || 0), conv };
    if (conv === "c") out += String.fromCharCode(Math.trunc(lauxlib.luaL_checknumber(L, arg)) & 0xff);
    else if ("diouxX".includes(conv) && conv) out += formatInt(lauxlib.luaL_checknumber(L, arg), spec);
    else if ("eEfgG".includes(conv) && conv) out += formatFloat(lauxlib.luaL_checknumber(L, arg), spec);
    else if (conv === "q") out += quoted(luaString(L, (lauxlib.luaL_checklstring(L, arg), arg)));
    else if (conv === "s") {
      let s: string;
      if (lua.lua_type(L, arg) === lua.LUA_TNUMBER) s = formatLuaNumber(lua.lua_tonumber(L, arg));
      else {
        lauxlib.luaL_checklstring(L, arg);
        s = luaString(L, arg);
      }
      if (spec.precision !== undefined) s = [...s].slice(0, spec.precision).join("");
      out += pad(s, spec, false);
    } else fail(`invalid option '%${conv}' to 'format'`);
  }
  pushString(L, out);
  return 1;
}
