/**
 * SCAN-family option parsing and the HSCAN/SSCAN/ZSCAN cursor (SCAN itself uses KeyOrder).
 * Redis walks its hash table with a reverse-binary cursor; for containers the cursor here is a
 * position in the 32-bit FNV-1a hash space of the elements, which gives the same guarantee:
 * every element present for the whole iteration is returned, and the iteration ends with
 * cursor 0. Each step costs O(n log n) in the container size. Small containers are returned in
 * one call, as Redis does for its compact encodings (listpack, intset).
 */
import { globMatch } from "./glob.ts";
import { intArg } from "./numbers.ts";
import { err, Errors } from "./reply.ts";

export interface ScanOptions {
  match: string | undefined;
  count: number;
  type: string | undefined;
}

/** Redis `parseScanCursorOrReply` (strtoul over the whole string). */
export function parseCursor(s: string): number {
  if (!/^[+-]?[0-9]+$/.test(s)) throw err("ERR invalid cursor");
  const v = BigInt(s);
  if (v > 18446744073709551615n || v < -18446744073709551615n) throw err("ERR invalid cursor");
  const u = v < 0n ? (1n << 64n) + v : v;
  return u >= 1n << 32n ? Number.MAX_SAFE_INTEGER : Number(u);
}

/** Options after the cursor; TYPE only for SCAN itself. */
export function parseScanOptions(argv: string[], from: number, allowType: boolean): ScanOptions {
  const o: ScanOptions = { match: undefined, count: 10, type: undefined };
  for (let i = from; i < argv.length; ) {
    const opt = argv[i]!.toLowerCase();
    const left = argv.length - i;
    if (opt === "count" && left >= 2) {
      o.count = intArg(argv[i + 1]!);
      if (o.count < 1) throw Errors.syntax();
    } else if (opt === "match" && left >= 2) {
      o.match = argv[i + 1] === "*" ? undefined : argv[i + 1];
    } else if (opt === "type" && allowType && left >= 2) {
      o.type = argv[i + 1]!.toLowerCase();
    } else throw Errors.syntax();
    i += 2;
  }
  return o;
}

export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * One SCAN step over `names`: returns the next cursor and the names visited (before MATCH
 * filtering, which the caller applies with `matches`).
 */
export function scanStep(names: Iterable<string>, cursor: number, count: number): [number, string[]] {
  const candidates: [number, string][] = [];
  for (const name of names) {
    const h = fnv1a(name);
    if (h >= cursor) candidates.push([h, name]);
  }
  candidates.sort((a, b) => a[0] - b[0]);
  let end = Math.min(count, candidates.length);
  while (end > 0 && end < candidates.length && candidates[end]![0] === candidates[end - 1]![0]) end++;
  const next = end < candidates.length ? candidates[end - 1]![0] + 1 : 0;
  return [next, candidates.slice(0, end).map((c) => c[1])];
}

export const matches = (pattern: string | undefined, name: string): boolean =>
  pattern === undefined || globMatch(pattern, name);
