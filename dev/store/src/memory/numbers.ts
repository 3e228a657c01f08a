/**
 * Number parsing and formatting with the exact rules Redis uses (string2ll, strtod-based
 * checks, printf "%.17g" for scores), so replies match real Redis byte for byte.
 */
import { Errors } from "./reply.ts";

export const INT64_MAX = 9223372036854775807n;
export const INT64_MIN = -9223372036854775808n;

/** Redis `string2ll`: no sign but '-', no leading zeros, no spaces, 64-bit range. */
export function parseInt64(s: string): bigint | null {
  if (s.length === 0 || s.length > 20 || !/^(0|-?[1-9][0-9]*)$/.test(s)) return null;
  const v = BigInt(s);
  return v > INT64_MAX || v < INT64_MIN ? null : v;
}

/** Integer argument (`getLongLongFromObjectOrReply`), as a bigint. */
export function int64Arg(s: string, error = Errors.notInteger): bigint {
  const v = parseInt64(s);
  if (v === null) throw error();
  return v;
}

/** Integer argument as a JS number (counts, indexes; precision beyond 2^53 does not matter). */
export function intArg(s: string, error = Errors.notInteger): number {
  return Number(int64Arg(s, error));
}

const C_SPACE = /^[ \t\n\v\f\r]/;
const DECIMAL = /^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;
const INF = /^[+-]?(?:inf|infinity)$/i;
const NAN = /^[+-]?nan(?:\([0-9A-Za-z_]*\))?$/i;
const HEX = /^([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?(?:[pP]([+-]?[0-9]+))?$/;

/** What C `strtod` would make of the whole string, or undefined when it would stop early. */
function strtodWhole(s: string): { value: number; range: boolean } | undefined {
  if (DECIMAL.test(s)) {
    const value = Number(s);
    const mantissaIsZero = !/[1-9]/.test(s.replace(/[eE].*$/, ""));
    const range = !Number.isFinite(value) || (value === 0 && !mantissaIsZero);
    return { value, range };
  }
  if (INF.test(s)) return { value: s.startsWith("-") ? -Infinity : Infinity, range: false };
  if (NAN.test(s)) return { value: NaN, range: false };
  const hex = HEX.exec(s);
  if (hex && ((hex[2] ?? "") + (hex[3] ?? "")).length > 0) {
    const digits = (hex[2] ?? "") + (hex[3] ?? "");
    let value = Number(BigInt("0x" + digits)) * 2 ** (Number(hex[4] ?? "0") - 4 * (hex[3] ?? "").length);
    if (hex[1] === "-") value = -value;
    return { value, range: !Number.isFinite(value) || (value === 0 && /[1-9a-f]/i.test(digits)) };
  }
  return undefined;
}

/** Redis `getDoubleFromObject`: the whole string, no leading space, no overflow, no NaN. */
export function parseDouble(s: string): number | null {
  if (s.length === 0 || C_SPACE.test(s)) return null;
  const r = strtodWhole(s);
  if (!r || Number.isNaN(r.value)) return null;
  if (r.range && (!Number.isFinite(r.value) || r.value === 0)) return null;
  return r.value;
}

export function doubleArg(s: string, error = Errors.notFloat): number {
  const v = parseDouble(s);
  if (v === null) throw error();
  return v;
}

/** `strtod` as `zslParseRange` uses it: leading spaces allowed, "" is 0, overflow allowed. */
export function parseDoubleLoose(s: string): number | null {
  if (s.length === 0) return 0;
  const r = strtodWhole(s.replace(/^[ \t\n\v\f\r]+/, ""));
  if (!r || Number.isNaN(r.value)) return null;
  return r.value;
}

/** A finite double as an exact decimal: value = digits * 10^-scale. */
export function exactDecimal(x: number): { neg: boolean; digits: bigint; scale: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const e = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let exp: number;
  if (e === 0) exp = -1074;
  else {
    mant |= 1n << 52n;
    exp = e - 1075;
  }
  return { neg: hi >>> 31 === 1, ...binaryToDecimal(mant, exp) };
}

/** mant * 2^exp as an exact decimal digits * 10^-scale. */
export function binaryToDecimal(mant: bigint, exp: number): { digits: bigint; scale: number } {
  if (exp >= 0) return { digits: mant << BigInt(exp), scale: 0 };
  return { digits: mant * 5n ** BigInt(-exp), scale: -exp };
}

/** Divides by 10^k rounding half to even (what glibc printf does on exact values). */
export function roundDiv10(digits: bigint, k: number): bigint {
  if (k <= 0) return digits * 10n ** BigInt(-k);
  const div = 10n ** BigInt(k);
  const q = digits / div;
  const r2 = (digits % div) * 2n;
  if (r2 > div || (r2 === div && q % 2n === 1n)) return q + 1n;
  return q;
}

const stripZeros = (s: string) => (s.includes(".") ? s.replace(/0+$/, "").replace(/\.$/, "") : s);

/** printf("%.{p}g") of an exact decimal. */
export function formatDecimalG(neg: boolean, digits: bigint, scale: number, p: number): string {
  const sign = neg ? "-" : "";
  if (digits === 0n) return sign + "0";
  const n = digits.toString().length;
  let x = n - 1 - scale; // decimal exponent of the leading digit
  let kept = roundDiv10(digits, n - p);
  if (kept.toString().length > p) {
    kept /= 10n;
    x += 1;
  }
  const ks = kept.toString().padEnd(p, "0");
  if (x < -4 || x >= p) {
    const mant = stripZeros(ks[0] + "." + ks.slice(1));
    return `${sign}${mant}e${x < 0 ? "-" : "+"}${String(Math.abs(x)).padStart(2, "0")}`;
  }
  if (x >= 0) return sign + stripZeros(ks.slice(0, x + 1) + "." + ks.slice(x + 1));
  return sign + stripZeros("0." + "0".repeat(-x - 1) + ks);
}

/** printf("%.{p}f") of an exact decimal. */
export function formatDecimalF(neg: boolean, digits: bigint, scale: number, p: number): string {
  const s = roundDiv10(digits, scale - p).toString().padStart(p + 1, "0");
  const body = p > 0 ? s.slice(0, s.length - p) + "." + s.slice(s.length - p) : s;
  return (neg ? "-" : "") + body;
}

/** C printf("%.{p}g", x) for a double, with Redis/Lua spellings of inf and nan. */
export function formatG(x: number, p: number): string {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  const d = exactDecimal(x);
  return formatDecimalG(d.neg, d.digits, d.scale, p);
}

/** A score or other double as Redis replies it (`addReplyDouble`, RESP2). */
export const formatScore = (x: number): string => formatG(x, 17);
