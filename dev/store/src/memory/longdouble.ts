/**
 * INCRBYFLOAT / HINCRBYFLOAT arithmetic. Redis computes them in C `long double` (x87 80-bit:
 * 64-bit mantissa) and prints the result with "%.17Lf" minus trailing zeros. This emulates
 * exactly that with BigInt so that e.g. 0.1 + 0.2 gives "0.3" and 1e20 + 0.3 - 1e20 gives "0".
 */
import { binaryToDecimal, formatDecimalF } from "./numbers.ts";

const BITS = 64;
const MAX_EXP = 16384; // values >= 2^16384 overflow to infinity
const MAX_CHARS = 5 * 1024; // MAX_LONG_DOUBLE_CHARS

/** A long double: sign * mant * 2^exp (mant < 2^64), or an infinity. */
type LD = { kind: "finite"; neg: boolean; mant: bigint; exp: number } | { kind: "inf"; neg: boolean };

const bitLength = (n: bigint): number => (n === 0n ? 0 : n.toString(2).length);

/** Rounds num/den (positive) to BITS significant bits, half to even. */
function roundRational(neg: boolean, num: bigint, den: bigint): LD {
  if (num === 0n) return { kind: "finite", neg, mant: 0n, exp: 0 };
  let exp = bitLength(num) - bitLength(den) - BITS;
  const scaled = () => (exp >= 0 ? [num, den << BigInt(exp)] : [num << BigInt(-exp), den]) as [bigint, bigint];
  let [n, d] = scaled();
  if (n / d >= 1n << BigInt(BITS)) {
    exp += 1;
    [n, d] = scaled();
  } else if (n / d < 1n << BigInt(BITS - 1)) {
    exp -= 1;
    [n, d] = scaled();
  }
  let mant = n / d;
  const r2 = (n % d) * 2n;
  if (r2 > d || (r2 === d && mant % 2n === 1n)) mant += 1n;
  if (mant === 1n << BigInt(BITS)) {
    mant >>= 1n;
    exp += 1;
  }
  if (exp + BITS > MAX_EXP) return { kind: "inf", neg };
  if (exp + BITS < -16445) return { kind: "finite", neg, mant: 0n, exp: 0 };
  return { kind: "finite", neg, mant, exp };
}

/** Redis `string2ld` (strtold + checks); null when Redis would reject the string. */
export function parseLongDouble(s: string): LD | null {
  if (s.length === 0 || s.length >= MAX_CHARS || /^[ \t\n\v\f\r]/.test(s)) return null;
  if (/^[+-]?(inf|infinity)$/i.test(s)) return { kind: "inf", neg: s.startsWith("-") };
  const hex = /^([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?(?:[pP]([+-]?[0-9]+))?$/.exec(s);
  if (hex) return parseHex(hex[1] === "-", hex[2] ?? "", hex[3] ?? "", Number(hex[4] ?? "0"));
  const m = /^([+-]?)([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]+))?$/.exec(s);
  if (!m || (m[2] ?? "") + (m[3] ?? "") === "") return null;
  const neg = m[1] === "-";
  const digits = BigInt((m[2] ?? "") + (m[3] ?? "") || "0");
  const e10 = Number(m[4] ?? "0") - (m[3] ?? "").length;
  if (digits === 0n) return { kind: "finite", neg, mant: 0n, exp: 0 };
  const magnitude = digits.toString().length + e10;
  if (magnitude > 4940) return null; // ERANGE overflow: strtold gives HUGE_VALL, Redis rejects
  if (magnitude < -4960) return null; // ERANGE underflow to zero
  const r =
    e10 >= 0 ? roundRational(neg, digits * 10n ** BigInt(e10), 1n) : roundRational(neg, digits, 10n ** BigInt(-e10));
  if (r.kind === "inf" || r.mant === 0n) return null;
  return r;
}

/** C99 hex float "0x1.8p3": hex digits scaled by a power of two. */
function parseHex(neg: boolean, int: string, frac: string, exp: number): LD | null {
  if (int + frac === "") return null;
  const digits = BigInt("0x" + (int + frac || "0"));
  if (digits === 0n) return { kind: "finite", neg, mant: 0n, exp: 0 };
  const e2 = exp - 4 * frac.length;
  if (Math.abs(e2) > 20_000) return null;
  const r = e2 >= 0 ? roundRational(neg, digits << BigInt(e2), 1n) : roundRational(neg, digits, 1n << BigInt(-e2));
  return r.kind === "inf" || r.mant === 0n ? null : r;
}

function add(a: LD, b: LD): LD | null {
  if (a.kind === "inf" || b.kind === "inf") {
    if (a.kind === "inf" && b.kind === "inf" && a.neg !== b.neg) return null; // NaN
    return a.kind === "inf" ? a : b;
  }
  const e = Math.min(a.exp, b.exp);
  const sa = (a.neg ? -a.mant : a.mant) << BigInt(a.exp - e);
  const sb = (b.neg ? -b.mant : b.mant) << BigInt(b.exp - e);
  const sum = sa + sb;
  const neg = sum < 0n || (sum === 0n && a.neg && b.neg);
  const abs = sum < 0n ? -sum : sum;
  return e >= 0 ? roundRational(neg, abs << BigInt(e), 1n) : roundRational(neg, abs, 1n << BigInt(-e));
}

/** `ld2string(..., LD_STR_HUMAN)`: "%.17Lf", trailing zeros removed, "-0" becomes "0". */
function humanString(v: LD & { kind: "finite" }): string {
  const { digits, scale } = binaryToDecimal(v.mant, v.exp);
  let s = formatDecimalF(v.neg, digits, scale, 17);
  if (s.includes(".")) s = s.replace(/0+$/, "").replace(/\.$/, "");
  return s === "-0" ? "0" : s;
}

/**
 * current + increment as Redis stores it. Returns "nan" when the result would be NaN or
 * infinite (the caller reports "increment would produce NaN or Infinity").
 */
export function addLongDouble(current: LD, increment: LD): string | "nan" {
  const r = add(current, increment);
  if (r === null || r.kind === "inf") return "nan";
  return humanString(r);
}
