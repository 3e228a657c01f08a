/** Keyspace commands: KEYS, SCAN, EXISTS, TYPE, DEL, UNLINK, RENAME, EXPIRE family, TTL, PERSIST. */
import { commands, type Ctx } from "../command.ts";
import { globMatch } from "../glob.ts";
import { int64Arg, INT64_MAX, INT64_MIN } from "../numbers.ts";
import { err, Errors, OK, Status, type IReply } from "../reply.ts";
import { matches, parseCursor, parseScanOptions } from "../scan.ts";

function del(ctx: Ctx, argv: string[]): number {
  let n = 0;
  for (const key of argv.slice(1)) if (ctx.db.lookup(key) !== undefined && ctx.db.delete(key)) n++;
  return n;
}

const FLAGS = { nx: 1, xx: 2, gt: 4, lt: 8 } as const;

/** EXPIRE/PEXPIRE/EXPIREAT/PEXPIREAT (Redis `expireGenericCommand`). */
function expire(name: string, seconds: boolean, absolute: boolean) {
  return (ctx: Ctx, argv: string[]): IReply => {
    let flags = 0;
    for (const opt of argv.slice(3)) {
      const f = FLAGS[opt.toLowerCase() as keyof typeof FLAGS];
      if (f === undefined) throw err(`ERR Unsupported option ${opt}`);
      flags |= f;
    }
    if (flags & FLAGS.nx && flags & (FLAGS.xx | FLAGS.gt | FLAGS.lt))
      throw err("ERR NX and XX, GT or LT options at the same time are not compatible");
    if (flags & FLAGS.gt && flags & FLAGS.lt) throw err("ERR GT and LT options at the same time are not compatible");
    let when = int64Arg(argv[2]!);
    if (seconds) {
      if (when > INT64_MAX / 1000n || when < INT64_MIN / 1000n) throw Errors.invalidExpire(name);
      when *= 1000n;
    }
    const base = absolute ? 0n : BigInt(ctx.db.now());
    if (when > INT64_MAX - base) throw Errors.invalidExpire(name);
    when += base;
    const key = argv[1]!;
    const entry = ctx.db.lookup(key);
    if (entry === undefined) return 0;
    const current = entry.expiresAt;
    if (flags & FLAGS.nx && current !== undefined) return 0;
    if (flags & FLAGS.xx && current === undefined) return 0;
    if (flags & FLAGS.gt && (current === undefined || when <= BigInt(current))) return 0;
    if (flags & FLAGS.lt && current !== undefined && when >= BigInt(current)) return 0;
    if (when <= BigInt(ctx.db.now())) ctx.db.delete(key);
    else ctx.db.setExpiry(key, Number(when));
    return 1;
  };
}

function ttl(ms: boolean) {
  return (ctx: Ctx, argv: string[]): IReply => {
    const entry = ctx.db.lookup(argv[1]!);
    if (entry === undefined) return -2;
    if (entry.expiresAt === undefined) return -1;
    const left = Math.max(0, entry.expiresAt - ctx.db.now());
    return ms ? left : Math.floor((left + 500) / 1000);
  };
}

export const keyCommands = commands({
  keys: [2, (ctx, argv) => [...ctx.db.keys()].filter((k) => globMatch(argv[1]!, k))],
  scan: [-2, (ctx, argv) => {
    const cursor = parseCursor(argv[1]!);
    const o = parseScanOptions(argv, 2, true);
    const [next, visited] = ctx.db.scan(cursor, o.count);
    const out = visited.filter((k) => {
      if (!matches(o.match, k)) return false;
      return o.type === undefined || ctx.db.lookup(k)?.type === o.type;
    });
    return [String(next), out];
  }],
  exists: [-2, (ctx, argv) => argv.slice(1).filter((k) => ctx.db.lookup(k) !== undefined).length],
  type: [2, (ctx, argv) => new Status(ctx.db.lookup(argv[1]!)?.type ?? "none")],
  del: [-2, del, "write"],
  unlink: [-2, del, "write"],
  rename: [3, (ctx, argv) => {
    const [src, dst] = [argv[1]!, argv[2]!];
    const entry = ctx.db.lookup(src);
    if (entry === undefined) throw Errors.noSuchKey();
    if (src === dst) return OK;
    ctx.db.delete(src);
    ctx.db.set(dst, entry.type, entry.value, entry.expiresAt);
    return OK;
  }, "write"],
  expire: [-3, expire("expire", true, false), "write"],
  pexpire: [-3, expire("pexpire", false, false), "write"],
  expireat: [-3, expire("expireat", true, true), "write"],
  pexpireat: [-3, expire("pexpireat", false, true), "write"],
  ttl: [2, ttl(false)],
  pttl: [2, ttl(true)],
  persist: [2, (ctx, argv) => {
    const entry = ctx.db.lookup(argv[1]!);
    if (entry === undefined || entry.expiresAt === undefined) return 0;
    ctx.db.setExpiry(argv[1]!, undefined);
    return 1;
  }, "write"],
});
