/** Sorted-set commands other than the range queries (see zranges.ts). */
import { commands, type Ctx } from "../command.ts";
import { byteLength } from "../compare.ts";
import { doubleArg, formatScore, intArg } from "../numbers.ts";
import { err, Errors, type IReply } from "../reply.ts";
import { matches, parseCursor, parseScanOptions, scanStep } from "../scan.ts";
import type { SortedSet } from "../zset.ts";
import { parseScoreRange, rankRange } from "./zranges.ts";

const NAN_ERROR = () => err("ERR resulting score is not a number (NaN)");

/** ZADD and ZINCRBY (Redis `zaddGenericCommand`). */
function zadd(ctx: Ctx, argv: string[], incrCommand: boolean): IReply {
  let nx = false, xx = false, gt = false, lt = false, ch = false, incr = incrCommand;
  let i = 2;
  for (; !incrCommand && i < argv.length; i++) {
    const opt = argv[i]!.toLowerCase();
    if (opt === "nx") nx = true;
    else if (opt === "xx") xx = true;
    else if (opt === "ch") ch = true;
    else if (opt === "incr") incr = true;
    else if (opt === "gt") gt = true;
    else if (opt === "lt") lt = true;
    else break;
  }
  const elements = argv.length - i;
  if (elements % 2 || !elements) throw Errors.syntax();
  if (nx && xx) throw err("ERR XX and NX options at the same time are not compatible");
  if ((gt && nx) || (lt && nx) || (gt && lt))
    throw err("ERR GT, LT, and/or NX options at the same time are not compatible");
  if (incr && elements > 2) throw err("ERR INCR option supports a single increment-element pair");
  const scores: number[] = [];
  for (let j = i; j < argv.length; j += 2) scores.push(doubleArg(argv[j]!) + 0); // -0 is stored as 0
  const key = argv[1]!;
  const existing = ctx.db.get(key, "zset");
  if (existing === undefined && xx) return incr ? null : 0;
  const z = existing ?? ctx.db.getOrEmpty(key, "zset");
  let added = 0, updated = 0, processed = 0;
  let score = 0;
  for (let j = 0; j < scores.length; j++) {
    const member = argv[i + 1 + j * 2]!;
    score = scores[j]!;
    if (Number.isNaN(score)) throw NAN_ERROR();
    const current = z.scores.get(member);
    if (current !== undefined) {
      if (nx) continue;
      if (incr) {
        score += current;
        if (Number.isNaN(score)) {
          ctx.db.store(key, "zset", z);
          throw NAN_ERROR();
        }
      }
      if ((lt && score >= current) || (gt && score <= current)) continue;
      processed++;
      if (score !== current) {
        z.set(member, score);
        updated++;
      }
    } else if (!xx) {
      z.set(member, score);
      added++;
      processed++;
    }
  }
  ctx.db.store(key, "zset", z);
  if (incr) return processed ? formatScore(score) : null;
  return ch ? added + updated : added;
}

const isCompact = (z: SortedSet) =>
  z.size <= 128 && [...z.scores.keys()].every((m) => byteLength(m) <= 64);

function pop(ctx: Ctx, argv: string[]): IReply {
  if (argv.length > 3) throw Errors.syntax();
  let count = 1;
  if (argv.length === 3) {
    count = intArg(argv[2]!, Errors.outOfRangePositive);
    if (count < 0) throw Errors.outOfRangePositive();
    if (count === 0) return [];
  }
  const z = ctx.db.get(argv[1]!, "zset");
  if (!z) return [];
  const out: string[] = [];
  for (const item of z.slice(0, count)) {
    z.delete(item.member);
    out.push(item.member, formatScore(item.score));
  }
  ctx.db.store(argv[1]!, "zset", z);
  return out;
}

export const zsetCommands = commands({
  zadd: [-4, (ctx, argv) => zadd(ctx, argv, false), "write"],
  zincrby: [4, (ctx, argv) => zadd(ctx, argv, true), "write"],
  zrem: [-3, (ctx, argv) => {
    const z = ctx.db.get(argv[1]!, "zset");
    if (!z) return 0;
    let n = 0;
    for (const m of argv.slice(2)) if (z.delete(m)) n++;
    ctx.db.store(argv[1]!, "zset", z);
    return n;
  }, "write"],
  zscore: [3, (ctx, argv) => {
    const s = ctx.db.get(argv[1]!, "zset")?.scores.get(argv[2]!);
    return s === undefined ? null : formatScore(s);
  }],
  zmscore: [-3, (ctx, argv) => {
    const z = ctx.db.get(argv[1]!, "zset");
    return argv.slice(2).map((m) => {
      const s = z?.scores.get(m);
      return s === undefined ? null : formatScore(s);
    });
  }],
  zcard: [2, (ctx, argv) => ctx.db.get(argv[1]!, "zset")?.size ?? 0],
  zcount: [4, (ctx, argv) => {
    const range = parseScoreRange(argv[2]!, argv[3]!);
    const z = ctx.db.get(argv[1]!, "zset");
    if (!z) return 0;
    const [from, to] = range.indexes(z);
    return Math.max(0, to - from);
  }],
  zrank: [3, (ctx, argv) => ctx.db.get(argv[1]!, "zset")?.rank(argv[2]!) ?? null],
  zrevrank: [3, (ctx, argv) => {
    const z = ctx.db.get(argv[1]!, "zset");
    const r = z?.rank(argv[2]!);
    return r === undefined ? null : z!.size - 1 - r;
  }],
  zremrangebyscore: [4, (ctx, argv) => {
    const range = parseScoreRange(argv[2]!, argv[3]!);
    const z = ctx.db.get(argv[1]!, "zset");
    if (!z) return 0;
    const [from, to] = range.indexes(z);
    return removeSlice(ctx, argv[1]!, z, from, to);
  }, "write"],
  zremrangebyrank: [4, (ctx, argv) => {
    const start = intArg(argv[2]!);
    const stop = intArg(argv[3]!);
    const z = ctx.db.get(argv[1]!, "zset");
    if (!z) return 0;
    const r = rankRange(start, stop, z.size);
    return r ? removeSlice(ctx, argv[1]!, z, r[0], r[1] + 1) : 0;
  }, "write"],
  zpopmin: [-2, pop, "write"],
  zscan: [-3, (ctx, argv) => {
    const cursor = parseCursor(argv[2]!);
    const z = ctx.db.get(argv[1]!, "zset");
    if (!z) return ["0", []];
    const o = parseScanOptions(argv, 3, false);
    const [next, found] = isCompact(z)
      ? [0, z.slice(0, z.size).map((it) => it.member)]
      : scanStep(z.scores.keys(), cursor, o.count);
    return [
      String(next),
      found.filter((m) => matches(o.match, m)).flatMap((m) => [m, formatScore(z.scores.get(m)!)]),
    ];
  }],
});

function removeSlice(ctx: Ctx, key: string, z: SortedSet, from: number, to: number): number {
  const items = z.slice(from, to);
  for (const it of items) z.delete(it.member);
  ctx.db.store(key, "zset", z);
  return items.length;
}
