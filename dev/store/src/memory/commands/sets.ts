/** Set commands. */
import { commands, type Ctx } from "../command.ts";
import { int64Arg, intArg, parseInt64 } from "../numbers.ts";
import { Errors, type IReply } from "../reply.ts";
import { matches, parseCursor, parseScanOptions, scanStep } from "../scan.ts";

/** Redis keeps small all-integer sets as a sorted intset: they come back in numeric order. */
function isIntset(s: Set<string>): boolean {
  if (s.size > 512) return false;
  for (const m of s) if (parseInt64(m) === null) return false;
  return true;
}

function members(s: Set<string>): string[] {
  const all = [...s];
  if (isIntset(s)) all.sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
  return all;
}

function randomIndex(n: number): number {
  return Math.floor(Math.random() * n);
}

function pick(s: Set<string>, count: number): string[] {
  const all = [...s];
  for (let i = 0; i < count && i < all.length; i++) {
    const j = i + randomIndex(all.length - i);
    [all[i], all[j]] = [all[j]!, all[i]!];
  }
  return all.slice(0, count);
}

function spop(ctx: Ctx, argv: string[]): IReply {
  if (argv.length > 3) throw Errors.syntax();
  const count = argv.length === 3 ? intArg(argv[2]!, Errors.outOfRangePositive) : undefined;
  if (count !== undefined && count < 0) throw Errors.outOfRangePositive();
  const s = ctx.db.get(argv[1]!, "set");
  if (!s) return count === undefined ? null : [];
  const popped = pick(s, count ?? 1);
  for (const m of popped) s.delete(m);
  ctx.db.store(argv[1]!, "set", s);
  return count === undefined ? popped[0]! : popped;
}

function srandmember(ctx: Ctx, argv: string[]): IReply {
  if (argv.length > 3) throw Errors.syntax();
  const count = argv.length === 3 ? Number(int64Arg(argv[2]!)) : undefined;
  const s = ctx.db.get(argv[1]!, "set");
  if (count === undefined) return s ? pick(s, 1)[0]! : null;
  if (!s || count === 0) return [];
  if (count > 0) return pick(s, count);
  const all = [...s];
  return Array.from({ length: -count }, () => all[randomIndex(all.length)]!);
}

export const setCommands = commands({
  sadd: [-3, (ctx, argv) => {
    const s = ctx.db.getOrEmpty(argv[1]!, "set");
    const before = s.size;
    for (const m of argv.slice(2)) s.add(m);
    ctx.db.store(argv[1]!, "set", s);
    return s.size - before;
  }, "write"],
  srem: [-3, (ctx, argv) => {
    const s = ctx.db.get(argv[1]!, "set");
    if (!s) return 0;
    let n = 0;
    for (const m of argv.slice(2)) if (s.delete(m)) n++;
    ctx.db.store(argv[1]!, "set", s);
    return n;
  }, "write"],
  smembers: [2, (ctx, argv) => {
    const s = ctx.db.get(argv[1]!, "set");
    return s ? members(s) : [];
  }],
  sismember: [3, (ctx, argv) => (ctx.db.get(argv[1]!, "set")?.has(argv[2]!) ? 1 : 0)],
  smismember: [-3, (ctx, argv) => {
    const s = ctx.db.get(argv[1]!, "set");
    return argv.slice(2).map((m) => (s?.has(m) ? 1 : 0));
  }],
  scard: [2, (ctx, argv) => ctx.db.get(argv[1]!, "set")?.size ?? 0],
  spop: [-2, spop, "write"],
  srandmember: [-2, srandmember],
  sscan: [-3, (ctx, argv) => {
    const cursor = parseCursor(argv[2]!);
    const s = ctx.db.get(argv[1]!, "set");
    if (!s) return ["0", []];
    const o = parseScanOptions(argv, 3, false);
    const [next, found] = isIntset(s) ? [0, members(s)] : scanStep(s, cursor, o.count);
    return [String(next), found.filter((m) => matches(o.match, m))];
  }],
});
