/**
 * Stream commands without consumer groups: XADD, XRANGE, XREVRANGE, XLEN, XDEL, XTRIM, with
 * Redis 7's argument checks in Redis' order (t_stream.c), so errors match it word for word.
 */
import { commands, type Ctx } from "../command.ts";
import { int64Arg } from "../numbers.ts";
import { err, Errors, type IReply } from "../reply.ts";
import { Stream, type TrimOptions } from "../stream.ts";
import { compareIds, formatId, nextId, parseId, parseRangeBound, UINT64_MAX, type StreamId } from "../stream-id.ts";

/** Entries removed at most by a `~` trim without LIMIT: 100 nodes of `stream-node-max-entries`. */
const DEFAULT_APPROX_LIMIT = 100 * 100;

interface AddTrimArgs {
  trim: TrimOptions | undefined;
  /** XADD: the ID argument's position (argv.length when none was found). */
  idPos: number;
  id: StreamId | undefined;
  seqGiven: boolean;
  noMkStream: boolean;
}

/** Redis `streamParseAddOrTrimArgsOrReply`. */
function parseAddOrTrim(argv: string[], xadd: boolean): AddTrimArgs {
  const out: AddTrimArgs = { trim: undefined, idPos: argv.length, id: undefined, seqGiven: true, noMkStream: false };
  let limit = 0;
  let limitGiven = false;
  let i = 2;
  for (; i < argv.length; i++) {
    const more = argv.length - 1 - i;
    const opt = argv[i]!;
    const lower = opt.toLowerCase();
    if (xadd && opt === "*") break;
    if ((lower === "maxlen" || lower === "minid") && more) {
      if (out.trim) throw err("ERR syntax error, MAXLEN and MINID options at the same time are not compatible");
      let approx = false;
      const next = argv[i + 1];
      if (more >= 2 && (next === "~" || next === "=")) {
        approx = next === "~";
        i++;
      }
      if (lower === "maxlen") {
        const maxlen = int64Arg(argv[i + 1]!);
        if (maxlen < 0n) throw err("ERR The MAXLEN argument must be >= 0.");
        out.trim = { strategy: "maxlen", maxlen: Number(maxlen), approx, limit: 0 };
      } else {
        out.trim = { strategy: "minid", minid: parseId(argv[i + 1]!, { strict: true }).id, approx, limit: 0 };
      }
      i++;
    } else if (lower === "limit" && more) {
      limit = Number(int64Arg(argv[i + 1]!));
      if (limit < 0) throw err("ERR The LIMIT argument must be >= 0.");
      limitGiven = true;
      i++;
    } else if (xadd && lower === "nomkstream") {
      out.noMkStream = true;
    } else if (xadd) {
      const parsed = parseId(opt, { strict: true, allowAutoSeq: true });
      out.id = parsed.id;
      out.seqGiven = parsed.seqGiven;
      break;
    } else throw Errors.syntax();
  }
  out.idPos = i;
  if (limit && !out.trim) throw err("ERR syntax error, LIMIT cannot be used without specifying a trimming strategy");
  if (!xadd && !out.trim) throw err("ERR syntax error, XTRIM must be called with a trimming strategy");
  if (limitGiven && !out.trim?.approx) throw err("ERR syntax error, LIMIT cannot be used without the special ~ option");
  if (out.trim) out.trim.limit = limitGiven ? limit : out.trim.approx ? DEFAULT_APPROX_LIMIT : 0;
  return out;
}

const equalOrSmaller = () => err("ERR The ID specified in XADD is equal or smaller than the target stream top item");

/** The ID XADD gives the new entry (`streamAppendItem`, `streamNextID`). */
function newEntryId(ctx: Ctx, s: Stream, a: AddTrimArgs): StreamId {
  let id: StreamId;
  if (a.id === undefined) {
    const now = BigInt(ctx.db.now());
    id = now > s.lastId.ms ? { ms: now, seq: 0n } : nextId(s.lastId)!;
  } else if (!a.seqGiven && a.id.ms === s.lastId.ms) {
    // Redis fails here without setting its error code, and reports the other XADD error.
    if (s.lastId.seq === UINT64_MAX) throw err("ERR Elements are too large to be stored");
    id = { ms: s.lastId.ms, seq: s.lastId.seq + 1n };
  } else id = a.id;
  if (compareIds(id, s.lastId) <= 0) throw equalOrSmaller();
  return id;
}

function xadd(ctx: Ctx, argv: string[]): IReply {
  const a = parseAddOrTrim(argv, true);
  const fieldPos = a.idPos + 1;
  const pairs = argv.length - fieldPos;
  if (pairs < 2 || pairs % 2 === 1) throw Errors.wrongArity("xadd");
  if (a.id !== undefined && a.seqGiven && a.id.ms === 0n && a.id.seq === 0n)
    throw err("ERR The ID specified in XADD must be greater than 0-0");
  const key = argv[1]!;
  const existing = ctx.db.get(key, "stream");
  if (existing === undefined && a.noMkStream) return null;
  const s = existing ?? ctx.db.getOrEmpty(key, "stream");
  // A new stream is stored before the checks below, as Redis does (none of them can fail on it).
  ctx.db.store(key, "stream", s);
  if (s.lastId.ms === UINT64_MAX && s.lastId.seq === UINT64_MAX)
    throw err("ERR The stream has exhausted the last possible ID, unable to add more items");
  const id = newEntryId(ctx, s, a);
  s.append(id, argv.slice(fieldPos));
  if (a.trim) s.trim(a.trim);
  return formatId(id);
}

function xrange(reverse: boolean) {
  return (ctx: Ctx, argv: string[]): IReply => {
    const start = parseRangeBound(argv[reverse ? 3 : 2]!, false);
    const end = parseRangeBound(argv[reverse ? 2 : 3]!, true);
    let count = -1;
    for (let j = 4; j < argv.length; j++) {
      if (argv[j]!.toLowerCase() === "count" && j + 1 < argv.length) {
        count = Math.max(0, Number(int64Arg(argv[j + 1]!)));
        j++;
      } else throw Errors.syntax();
    }
    const s = ctx.db.get(argv[1]!, "stream");
    if (s === undefined) return [];
    if (count === 0) return null;
    return s.range(start, end, Math.max(count, 0), reverse).map((e) => [formatId(e.id), [...e.fields]]);
  };
}

export const streamCommands = commands({
  xadd: [-5, xadd, "write"],
  xrange: [-4, xrange(false)],
  xrevrange: [-4, xrange(true)],
  xlen: [2, (ctx, argv) => ctx.db.get(argv[1]!, "stream")?.length ?? 0],
  xdel: [-3, (ctx, argv) => {
    const s = ctx.db.get(argv[1]!, "stream");
    if (s === undefined) return 0;
    // Every ID is checked before any is deleted, so a bad one leaves the stream untouched.
    const ids = argv.slice(2).map((arg) => parseId(arg, { strict: true }).id);
    return ids.filter((id) => s.delete(id)).length;
  }, "write"],
  xtrim: [-4, (ctx, argv) => {
    const a = parseAddOrTrim(argv, false);
    const s = ctx.db.get(argv[1]!, "stream");
    return s === undefined ? 0 : s.trim(a.trim!);
  }, "write"],
});
