/** String commands. Option parsing follows Redis `parseExtendedStringArgumentsOrReply`. */
import { commands, type Ctx } from "../command.ts";
import { byteLength } from "../compare.ts";
import { addLongDouble, parseLongDouble } from "../longdouble.ts";
import { int64Arg, INT64_MAX, INT64_MIN, parseInt64 } from "../numbers.ts";
import { err, Errors, OK, type IReply } from "../reply.ts";

const EX = 1, PX = 2, EXAT = 4, PXAT = 8, NX = 16, XX = 32, GET = 64, KEEPTTL = 128, PERSIST = 256;
const EXPIRES = EX | PX | EXAT | PXAT;

interface StringOptions {
  flags: number;
  /** Absolute expiry in ms, when EX/PX/EXAT/PXAT was given. */
  expiresAt: number | undefined;
}

function parseOptions(ctx: Ctx, argv: string[], from: number, forSet: boolean, name: string): StringOptions {
  let flags = 0;
  let expire: string | undefined;
  for (let j = from; j < argv.length; j++) {
    const opt = argv[j]!.toLowerCase();
    const hasNext = j < argv.length - 1;
    const expiry = (flag: number, excluded: number) => {
      if (!hasNext || flags & (excluded | KEEPTTL | PERSIST)) throw Errors.syntax();
      flags |= flag;
      expire = argv[++j];
    };
    if (opt === "nx" && forSet && !(flags & XX)) flags |= NX;
    else if (opt === "xx" && forSet && !(flags & NX)) flags |= XX;
    else if (opt === "get" && forSet) flags |= GET;
    else if (opt === "keepttl" && forSet && !(flags & (PERSIST | EXPIRES))) flags |= KEEPTTL;
    else if (opt === "persist" && !forSet && !(flags & (EXPIRES | KEEPTTL))) flags |= PERSIST;
    else if (opt === "ex") expiry(EX, EXAT | PX | PXAT);
    else if (opt === "px") expiry(PX, EX | EXAT | PXAT);
    else if (opt === "exat") expiry(EXAT, EX | PX | PXAT);
    else if (opt === "pxat") expiry(PXAT, EX | EXAT | PX);
    else throw Errors.syntax();
  }
  return { flags, expiresAt: expire === undefined ? undefined : expiryMs(ctx, expire, flags, name) };
}

/** Redis `getExpireMillisecondsOrReply`. */
function expiryMs(ctx: Ctx, arg: string, flags: number, name: string): number {
  let ms = int64Arg(arg);
  const seconds = (flags & (EX | EXAT)) !== 0;
  if (ms <= 0n || (seconds && ms > INT64_MAX / 1000n)) throw Errors.invalidExpire(name);
  if (seconds) ms *= 1000n;
  if (flags & (EX | PX)) ms += BigInt(ctx.db.now());
  if (ms > INT64_MAX) throw Errors.invalidExpire(name);
  return Number(ms);
}

function set(ctx: Ctx, key: string, value: string, o: StringOptions): void {
  const keep = o.flags & KEEPTTL ? ctx.db.lookup(key)?.expiresAt : undefined;
  ctx.db.set(key, "string", value, o.expiresAt ?? keep);
}

function incrBy(ctx: Ctx, key: string, by: bigint): number {
  const current = ctx.db.get(key, "string");
  const value = current === undefined ? 0n : parseInt64(current);
  if (value === null) throw Errors.notInteger();
  const result = value + by;
  if (result > INT64_MAX || result < INT64_MIN) throw Errors.overflow();
  ctx.db.replaceValue(key, "string", String(result));
  return Number(result);
}

/** INCRBYFLOAT in long double arithmetic. */
function incrByFloat(current: string | undefined, by: string): string {
  const value = parseLongDouble(current ?? "0");
  if (value === null) throw Errors.notFloat();
  const incr = parseLongDouble(by);
  if (incr === null) throw Errors.notFloat();
  const result = addLongDouble(value, incr);
  if (result === "nan") throw err("ERR increment would produce NaN or Infinity");
  return result;
}

const none: StringOptions = { flags: 0, expiresAt: undefined };

export const stringCommands = commands({
  get: [2, (ctx, argv) => ctx.db.get(argv[1]!, "string") ?? null],
  set: [-3, (ctx, argv) => {
    const o = parseOptions(ctx, argv, 3, true, "set");
    const key = argv[1]!;
    const old = o.flags & GET ? (ctx.db.get(key, "string") ?? null) : null;
    const found = ctx.db.lookup(key) !== undefined;
    if ((o.flags & NX && found) || (o.flags & XX && !found)) return o.flags & GET ? old : null;
    set(ctx, key, argv[2]!, o);
    return o.flags & GET ? old : OK;
  }, "write"],
  setnx: [3, (ctx, argv) => {
    if (ctx.db.lookup(argv[1]!) !== undefined) return 0;
    set(ctx, argv[1]!, argv[2]!, none);
    return 1;
  }, "write"],
  setex: [4, (ctx, argv) => {
    set(ctx, argv[1]!, argv[3]!, { flags: EX, expiresAt: expiryMs(ctx, argv[2]!, EX, "setex") });
    return OK;
  }, "write"],
  psetex: [4, (ctx, argv) => {
    set(ctx, argv[1]!, argv[3]!, { flags: PX, expiresAt: expiryMs(ctx, argv[2]!, PX, "psetex") });
    return OK;
  }, "write"],
  getdel: [2, (ctx, argv) => {
    const value = ctx.db.get(argv[1]!, "string");
    if (value === undefined) return null;
    ctx.db.delete(argv[1]!);
    return value;
  }, "write"],
  getex: [-2, (ctx, argv) => {
    const o = parseOptions(ctx, argv, 2, false, "getex");
    const key = argv[1]!;
    const value = ctx.db.get(key, "string");
    if (value === undefined) return null;
    if (o.flags & (EXAT | PXAT) && o.expiresAt! <= ctx.db.now()) ctx.db.delete(key);
    else if (o.expiresAt !== undefined) ctx.db.setExpiry(key, o.expiresAt);
    else if (o.flags & PERSIST) ctx.db.setExpiry(key, undefined);
    return value;
  }, "write"],
  getset: [3, (ctx, argv) => {
    const old = ctx.db.get(argv[1]!, "string") ?? null;
    set(ctx, argv[1]!, argv[2]!, none);
    return old;
  }, "write"],
  mget: [-2, (ctx, argv) =>
    argv.slice(1).map((k) => {
      const e = ctx.db.lookup(k);
      return e?.type === "string" ? (e.value as string) : null;
    })],
  mset: [-3, (ctx, argv) => {
    if (argv.length % 2 === 0) throw Errors.wrongArity("mset");
    for (let i = 1; i < argv.length; i += 2) set(ctx, argv[i]!, argv[i + 1]!, none);
    return OK;
  }, "write"],
  msetnx: [-3, (ctx, argv) => {
    if (argv.length % 2 === 0) throw Errors.wrongArity("msetnx");
    for (let i = 1; i < argv.length; i += 2) if (ctx.db.lookup(argv[i]!) !== undefined) return 0;
    for (let i = 1; i < argv.length; i += 2) set(ctx, argv[i]!, argv[i + 1]!, none);
    return 1;
  }, "write"],
  incr: [2, (ctx, argv) => incrBy(ctx, argv[1]!, 1n), "write"],
  decr: [2, (ctx, argv) => incrBy(ctx, argv[1]!, -1n), "write"],
  incrby: [3, (ctx, argv) => incrBy(ctx, argv[1]!, int64Arg(argv[2]!)), "write"],
  decrby: [3, (ctx, argv) => {
    const by = int64Arg(argv[2]!);
    if (by === INT64_MIN) throw err("ERR decrement would overflow");
    return incrBy(ctx, argv[1]!, -by);
  }, "write"],
  incrbyfloat: [3, (ctx, argv) => {
    const result = incrByFloat(ctx.db.get(argv[1]!, "string"), argv[2]!);
    ctx.db.replaceValue(argv[1]!, "string", result);
    return result;
  }, "write"],
  append: [3, (ctx, argv): IReply => {
    const value = (ctx.db.get(argv[1]!, "string") ?? "") + argv[2]!;
    ctx.db.replaceValue(argv[1]!, "string", value);
    return byteLength(value);
  }, "write"],
  strlen: [2, (ctx, argv) => byteLength(ctx.db.get(argv[1]!, "string") ?? "")],
});
