/** ZRANGE and its older forms (Redis `zrangeGenericCommand`). */
import { commands, type Ctx } from "../command.ts";
import { formatScore, intArg, parseDoubleLoose } from "../numbers.ts";
import { err, Errors, type IReply } from "../reply.ts";
import type { SortedSet, ZItem } from "../zset.ts";

interface Range {
  /** [from, to) indexes of the items inside the range, in ascending order. */
  indexes(z: SortedSet): [number, number];
}

function parseBound(s: string): { value: number; exclusive: boolean } | null {
  const exclusive = s.startsWith("(");
  const value = parseDoubleLoose(exclusive ? s.slice(1) : s);
  return value === null ? null : { value, exclusive };
}

/** Redis `zslParseRange`: "(1", "-inf", "+inf", "5". */
export function parseScoreRange(minArg: string, maxArg: string): Range {
  const min = parseBound(minArg);
  const max = parseBound(maxArg);
  if (!min || !max) throw Errors.minMaxNotFloat();
  return {
    indexes(z) {
      const from = z.firstAboveScore(min.value, min.exclusive);
      const to = z.firstAboveScore(max.value, !max.exclusive);
      return [from, Math.max(from, to)];
    },
  };
}

type LexBound = { kind: "-" | "+" } | { kind: "value"; value: string; exclusive: boolean };

function parseLexBound(s: string): LexBound | null {
  if (s === "+" || s === "-") return { kind: s };
  if (s.startsWith("(") || s.startsWith("[")) return { kind: "value", value: s.slice(1), exclusive: s[0] === "(" };
  return null;
}

/** Redis `zslParseLexRange`: "-", "+", "[a", "(a" (meaningful when all scores are equal). */
function parseLexRange(minArg: string, maxArg: string): Range {
  const min = parseLexBound(minArg);
  const max = parseLexBound(maxArg);
  if (!min || !max) throw err("ERR min or max not valid string range item");
  return {
    indexes(z) {
      const from =
        min.kind === "value" ? z.firstAboveMember(min.value, min.exclusive) : min.kind === "-" ? 0 : z.size;
      const to =
        max.kind === "value" ? z.firstAboveMember(max.value, !max.exclusive) : max.kind === "+" ? z.size : 0;
      return [from, Math.max(from, to)];
    },
  };
}

/** Redis rank sanitising: null when the range is empty, else inclusive [start, end]. */
export function rankRange(start: number, end: number, len: number): [number, number] | null {
  if (start < 0) start += len;
  if (end < 0) end += len;
  if (start < 0) start = 0;
  if (start > end || start >= len) return null;
  return [start, Math.min(end, len - 1)];
}

type Kind = "auto" | "rank" | "score" | "lex";

function zrange(fixedKind: Kind, fixedReverse: boolean | undefined) {
  return (ctx: Ctx, argv: string[]): IReply => {
    let kind = fixedKind;
    let reverse = fixedReverse;
    let withScores = false;
    let offset = 0;
    let limit = -1;
    for (let j = 4; j < argv.length; j++) {
      const opt = argv[j]!.toLowerCase();
      if (opt === "withscores") withScores = true;
      else if (opt === "limit" && argv.length - j - 1 >= 2) {
        offset = intArg(argv[j + 1]!);
        limit = intArg(argv[j + 2]!);
        j += 2;
      } else if (reverse === undefined && opt === "rev") reverse = true;
      else if (kind === "auto" && opt === "bylex") kind = "lex";
      else if (kind === "auto" && opt === "byscore") kind = "score";
      else throw Errors.syntax();
    }
    const rev = reverse ?? false;
    const type = kind === "auto" ? "rank" : kind;
    if (limit !== -1 && type === "rank")
      throw err("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX");
    if (withScores && type === "lex")
      throw err("ERR syntax error, WITHSCORES not supported in combination with BYLEX");
    let [minArg, maxArg] = [argv[2]!, argv[3]!];
    if (rev && type !== "rank") [minArg, maxArg] = [maxArg, minArg];
    let pick: (z: SortedSet) => ZItem[];
    if (type === "rank") {
      const start = intArg(minArg);
      const end = intArg(maxArg);
      pick = (z) => {
        const r = rankRange(start, end, z.size);
        if (!r) return [];
        return rev ? z.slice(z.size - 1 - r[1], z.size - r[0]).reverse() : z.slice(r[0], r[1] + 1);
      };
    } else {
      const range = type === "score" ? parseScoreRange(minArg, maxArg) : parseLexRange(minArg, maxArg);
      pick = (z) => {
        if (offset > 0 && offset >= z.size) return [];
        if (offset < 0) return [];
        const [from, to] = range.indexes(z);
        const items = rev ? z.slice(from, to).reverse() : z.slice(from, to);
        return items.slice(offset, limit < 0 ? undefined : offset + limit);
      };
    }
    const z = ctx.db.get(argv[1]!, "zset");
    if (!z) return [];
    const items = pick(z);
    return withScores ? items.flatMap((it) => [it.member, formatScore(it.score)]) : items.map((it) => it.member);
  };
}

export const zrangeCommands = commands({
  zrange: [-4, zrange("auto", undefined)],
  zrangebyscore: [-4, zrange("score", false)],
  zrevrangebyscore: [-4, zrange("score", true)],
  zrevrange: [-4, zrange("rank", true)],
});
