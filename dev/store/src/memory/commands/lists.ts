/** List commands. */
import { commands, type Ctx } from "../command.ts";
import { intArg } from "../numbers.ts";
import { Errors, OK, type IReply } from "../reply.ts";
import { rankRange } from "./zranges.ts";

function push(left: boolean) {
  return (ctx: Ctx, argv: string[]): IReply => {
    const list = ctx.db.getOrEmpty(argv[1]!, "list");
    for (const v of argv.slice(2)) {
      if (left) list.unshift(v);
      else list.push(v);
    }
    ctx.db.store(argv[1]!, "list", list);
    return list.length;
  };
}

function pop(left: boolean, name: string) {
  return (ctx: Ctx, argv: string[]): IReply => {
    if (argv.length > 3) throw Errors.wrongArity(name);
    let count: number | undefined;
    if (argv.length === 3) {
      count = intArg(argv[2]!, Errors.outOfRangePositive);
      if (count < 0) throw Errors.outOfRangePositive();
    }
    const list = ctx.db.get(argv[1]!, "list");
    if (!list) return null;
    if (count === 0) return [];
    const n = Math.min(count ?? 1, list.length);
    const out = left ? list.splice(0, n) : list.splice(list.length - n, n).reverse();
    ctx.db.store(argv[1]!, "list", list);
    return count === undefined ? out[0]! : out;
  };
}

export const listCommands = commands({
  lpush: [-3, push(true), "write"],
  rpush: [-3, push(false), "write"],
  lpop: [-2, pop(true, "lpop"), "write"],
  rpop: [-2, pop(false, "rpop"), "write"],
  lrange: [4, (ctx, argv) => {
    const start = intArg(argv[2]!);
    const end = intArg(argv[3]!);
    const list = ctx.db.get(argv[1]!, "list");
    if (!list) return [];
    const r = rankRange(start, end, list.length);
    return r ? list.slice(r[0], r[1] + 1) : [];
  }],
  llen: [2, (ctx, argv) => ctx.db.get(argv[1]!, "list")?.length ?? 0],
  ltrim: [4, (ctx, argv) => {
    const start = intArg(argv[2]!);
    const end = intArg(argv[3]!);
    const list = ctx.db.get(argv[1]!, "list");
    if (!list) return OK;
    const r = rankRange(start, end, list.length);
    if (r) {
      list.splice(r[1] + 1);
      list.splice(0, r[0]);
    } else list.length = 0;
    ctx.db.store(argv[1]!, "list", list);
    return OK;
  }, "write"],
  lindex: [3, (ctx, argv) => {
    const list = ctx.db.get(argv[1]!, "list");
    if (!list) return null;
    let index = intArg(argv[2]!);
    if (index < 0) index += list.length;
    return list[index] ?? null;
  }],
  lrem: [4, (ctx, argv) => {
    const count = intArg(argv[2]!);
    const list = ctx.db.get(argv[1]!, "list");
    if (!list) return 0;
    const target = argv[3]!;
    const limit = count === 0 ? Infinity : Math.abs(count);
    let removed = 0;
    if (count >= 0) {
      for (let i = 0; i < list.length && removed < limit; )
        if (list[i] === target) (list.splice(i, 1), removed++);
        else i++;
    } else {
      for (let i = list.length - 1; i >= 0 && removed < limit; i--)
        if (list[i] === target) (list.splice(i, 1), removed++);
    }
    ctx.db.store(argv[1]!, "list", list);
    return removed;
  }, "write"],
});
