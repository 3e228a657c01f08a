/**
 * Stream entry IDs (`<ms>-<seq>`, two unsigned 64-bit integers) with the parsing rules of
 * Redis' `streamGenericParseIDOrReply`, so the same arguments are accepted and refused.
 */
import { err } from "./reply.ts";
import { parseInt64 } from "./numbers.ts";

export interface StreamId {
  readonly ms: bigint;
  readonly seq: bigint;
}

export const UINT64_MAX = (1n << 64n) - 1n;
export const MIN_ID: StreamId = { ms: 0n, seq: 0n };
export const MAX_ID: StreamId = { ms: UINT64_MAX, seq: UINT64_MAX };

export const invalidId = () => err("ERR Invalid stream ID specified as stream command argument");

export const formatId = (id: StreamId): string => `${id.ms}-${id.seq}`;

export function compareIds(a: StreamId, b: StreamId): number {
  if (a.ms !== b.ms) return a.ms < b.ms ? -1 : 1;
  if (a.seq !== b.seq) return a.seq < b.seq ? -1 : 1;
  return 0;
}

/** The next ID, or undefined after the largest one (Redis `streamIncrID` failing). */
export function nextId(id: StreamId): StreamId | undefined {
  if (id.seq < UINT64_MAX) return { ms: id.ms, seq: id.seq + 1n };
  return id.ms < UINT64_MAX ? { ms: id.ms + 1n, seq: 0n } : undefined;
}

/** The previous ID, or undefined before 0-0 (Redis `streamDecrID` failing). */
export function previousId(id: StreamId): StreamId | undefined {
  if (id.seq > 0n) return { ms: id.ms, seq: id.seq - 1n };
  return id.ms > 0n ? { ms: id.ms - 1n, seq: UINT64_MAX } : undefined;
}

/**
 * Redis `string2ull`: the strict integer form first (a negative one is refused); otherwise
 * C `strtoull`, which also takes leading spaces, a sign, leading zeros, and wraps a negative
 * value around (" -1" is 2^64-1 in Redis too).
 */
export function parseUint64(s: string): bigint | undefined {
  const strict = parseInt64(s);
  if (strict !== null) return strict < 0n ? undefined : strict;
  const m = /^[ \t\n\v\f\r]*([+-]?)([0-9]+)$/.exec(s);
  if (!m) return undefined;
  const v = BigInt(m[2]!);
  if (v > UINT64_MAX) return undefined;
  return m[1] === "-" && v !== 0n ? (1n << 64n) - v : v;
}

export interface ParsedId {
  id: StreamId;
  /** False for the `<ms>-*` form (only when `allowAutoSeq`): the sequence is to be generated. */
  seqGiven: boolean;
}

export interface ParseIdOptions {
  /** Refuse the `-` and `+` shorthands. */
  strict?: boolean;
  /** The sequence of an ID given as `<ms>` alone. */
  missingSeq?: bigint;
  /** Accept `<ms>-*` (XADD). */
  allowAutoSeq?: boolean;
}

/** Parses an ID argument, throwing Redis' "Invalid stream ID" error. */
export function parseId(arg: string, o: ParseIdOptions = {}): ParsedId {
  // Redis copies the argument into a 128-byte buffer first and refuses anything longer.
  if (Buffer.byteLength(arg) > 127) throw invalidId();
  if (arg === "-" || arg === "+") {
    if (o.strict) throw invalidId();
    return { id: arg === "-" ? MIN_ID : MAX_ID, seqGiven: true };
  }
  const dash = arg.indexOf("-");
  const ms = parseUint64(dash < 0 ? arg : arg.slice(0, dash));
  if (ms === undefined) throw invalidId();
  if (dash < 0) return { id: { ms, seq: o.missingSeq ?? 0n }, seqGiven: true };
  const rest = arg.slice(dash + 1);
  if (o.allowAutoSeq && rest === "*") return { id: { ms, seq: 0n }, seqGiven: false };
  const seq = parseUint64(rest);
  if (seq === undefined) throw invalidId();
  return { id: { ms, seq }, seqGiven: true };
}

/**
 * A range bound of XRANGE/XREVRANGE: `(` makes it exclusive (then `-`/`+` are refused), and the
 * bound moves to the next (start) or previous (end) ID.
 */
export function parseRangeBound(arg: string, end: boolean): StreamId {
  const exclusive = arg.length > 1 && arg.startsWith("(");
  const missingSeq = end ? UINT64_MAX : 0n;
  if (!exclusive) return parseId(arg, { missingSeq }).id;
  const { id } = parseId(arg.slice(1), { strict: true, missingSeq });
  const moved = end ? previousId(id) : nextId(id);
  if (moved === undefined) throw err(`ERR invalid ${end ? "end" : "start"} ID for the interval`);
  return moved;
}
