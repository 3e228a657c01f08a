/** Hash commands. */
import { commands, type Ctx } from "../command.ts";
import { addLongDouble, parseLongDouble } from "../longdouble.ts";
import { int64Arg, INT64_MAX, INT64_MIN, parseInt64 } from "../numbers.ts";
import { err, Errors, OK, type IReply } from "../reply.ts";
import { matches, parseCursor, parseScanOptions, scanStep } from "../scan.ts";
import { byteLength } from "../compare.ts";

function hset(ctx: Ctx, argv: string[], name: string): number {
  if (argv.length % 2 === 1) throw Errors.wrongArity(name);
  const h = ctx.db.getOrEmpty(argv[1]!, "hash");
  let created = 0;
  for (let i = 2; i < argv.length; i += 2) {
    if (!h.has(argv[i]!)) created++;
    h.set(argv[i]!, argv[i + 1]!);
  }
  ctx.db.store(argv[1]!, "hash", h);
  return created;
}

const flat = (h: Map<string, string> | undefined): string[] => (h ? [...h].flat() : []);

/** Small hashes are listpacks in Redis: HSCAN returns them whole. */
const isCompact = (h: Map<string, string>) =>
  h.size <= 128 && [...h].every(([f, v]) => byteLength(f) <= 64 && byteLength(v) <= 64);

export const hashCommands = commands({
  hset: [-4, (ctx, argv) => hset(ctx, argv, "hset"), "write"],
  hmset: [-4, (ctx, argv) => (hset(ctx, argv, "hmset"), OK), "write"],
  hsetnx: [4, (ctx, argv) => {
    const h = ctx.db.getOrEmpty(argv[1]!, "hash");
    if (h.has(argv[2]!)) return 0;
    h.set(argv[2]!, argv[3]!);
    ctx.db.store(argv[1]!, "hash", h);
    return 1;
  }, "write"],
  hget: [3, (ctx, argv) => ctx.db.get(argv[1]!, "hash")?.get(argv[2]!) ?? null],
  hmget: [-3, (ctx, argv) => {
    const h = ctx.db.get(argv[1]!, "hash");
    return argv.slice(2).map((f) => h?.get(f) ?? null);
  }],
  hgetall: [2, (ctx, argv) => flat(ctx.db.get(argv[1]!, "hash"))],
  hdel: [-3, (ctx, argv) => {
    const h = ctx.db.get(argv[1]!, "hash");
    if (!h) return 0;
    let n = 0;
    for (const f of argv.slice(2)) if (h.delete(f)) n++;
    ctx.db.store(argv[1]!, "hash", h);
    return n;
  }, "write"],
  hexists: [3, (ctx, argv) => (ctx.db.get(argv[1]!, "hash")?.has(argv[2]!) ? 1 : 0)],
  hincrby: [4, (ctx, argv) => {
    const by = int64Arg(argv[3]!);
    const h = ctx.db.getOrEmpty(argv[1]!, "hash");
    const cur = h.get(argv[2]!);
    const value = cur === undefined ? 0n : parseInt64(cur);
    if (value === null) throw err("ERR hash value is not an integer");
    const result = value + by;
    if (result > INT64_MAX || result < INT64_MIN) throw Errors.overflow();
    h.set(argv[2]!, String(result));
    ctx.db.store(argv[1]!, "hash", h);
    return Number(result);
  }, "write"],
  hincrbyfloat: [4, (ctx, argv): IReply => {
    const incr = parseLongDouble(argv[3]!);
    if (incr === null) throw Errors.notFloat();
    if (incr.kind === "inf") throw err("ERR value is NaN or Infinity");
    const h = ctx.db.getOrEmpty(argv[1]!, "hash");
    const cur = h.get(argv[2]!);
    const value = parseLongDouble(cur ?? "0");
    if (value === null) throw err("ERR hash value is not a float");
    const result = addLongDouble(value, incr);
    if (result === "nan") throw err("ERR increment would produce NaN or Infinity");
    h.set(argv[2]!, result);
    ctx.db.store(argv[1]!, "hash", h);
    return result;
  }, "write"],
  hkeys: [2, (ctx, argv) => [...(ctx.db.get(argv[1]!, "hash")?.keys() ?? [])]],
  hvals: [2, (ctx, argv) => [...(ctx.db.get(argv[1]!, "hash")?.values() ?? [])]],
  hlen: [2, (ctx, argv) => ctx.db.get(argv[1]!, "hash")?.size ?? 0],
  hscan: [-3, (ctx, argv) => {
    const cursor = parseCursor(argv[2]!);
    const h = ctx.db.get(argv[1]!, "hash");
    if (!h) return ["0", []];
    const o = parseScanOptions(argv, 3, false);
    const [next, fields] = isCompact(h) ? [0, [...h.keys()]] : scanStep(h.keys(), cursor, o.count);
    return [String(next), fields.filter((f) => matches(o.match, f)).flatMap((f) => [f, h.get(f)!])];
  }],
});
