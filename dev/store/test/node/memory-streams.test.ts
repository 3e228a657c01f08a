/**
 * Streams in the embedded engine: XADD, XRANGE, XREVRANGE, XLEN, XDEL, XTRIM.
 *
 * Differential: the same commands against the engine and the real Redis 7 at 127.0.0.1:6379,
 * every reply and error equal (explicit IDs, so both sides agree; `*` only where the ID does not
 * depend on the clock). Skipped with a warning when that Redis is not reachable (required in
 * CI). Node layout and `~` trims: memory-streams-nodes.test.ts; clock and expiry:
 * memory-streams-engine.test.ts.
 */
import { afterAll, describe, it } from "vitest";
import { connectRedis, expectSame, keyspace } from "./differential.ts";

const redis = await connectRedis("memory-streams.test");
const { k, cleanup } = keyspace(redis, "mst");
afterAll(cleanup);

const describeDiff = redis ? describe : describe.skip;
const same = (steps: string[][]) => expectSame(redis!, steps);

const U64 = "18446744073709551615";

/** Keys named group:name, one per name. */
const keys = <N extends string[]>(group: string, ...names: N) => names.map((n) => k(`${group}:${n}`)) as { [I in keyof N]: string };

describeDiff("streams, differential: same replies as real Redis 7", () => {
  it("XADD: explicit, ms-* and generated IDs, and the ID errors", async () => {
    const [s, top, nearTop, seqTop, future, zero] = keys("xadd", "s", "top", "neartop", "seqtop", "future", "zero");
    await same([
      ["xadd", s],
      ["xadd", s, "*", "f"],
      ["xadd", s, "*", "f", "v", "g"],
      ["xadd", s, "0-0", "f", "v"],
      ["xadd", s, "0", "f", "v"],
      ["exists", s],
      ["xadd", s, "0-*", "f", "v"],
      ["xadd", s, "5", "f", "v"],
      ["xadd", s, "5", "f", "v"],
      ["xadd", s, "5-*", "f", "v"],
      ["xadd", s, "4-*", "f", "v"],
      ["xadd", s, "5-0", "f", "v"],
      ["xadd", s, "6-3", "f", "v"],
      ["xadd", s, "6-*", "f", "v"],
      ["xadd", s, "007-1", "f", "v"],
      ["xadd", s, "+8-1", "f", "v"],
      ["xadd", s, " 9-1", "f", "v"],
      ["xadd", s, "10-1", "a", "1", "a", "2", "", "", "ünï", "日本 🎉"],
      ...["abc", "-", "+", "1-", "-1", "-1-1", "1-2-3", "1-x", "x-1", "1.5", "", "*-1", "11-**", "1e3", "0x10",
        "18446744073709551616", `${U64}-18446744073709551616`, "9".repeat(200)].map((id) => ["xadd", s, id, "f", "v"]),
      ["xlen", s],
      ["xrange", s, "-", "+"],
      ["xadd", top, `${U64}-${U64}`, "f", "v"],
      ["xadd", top, "*", "f", "v"],
      ["xadd", top, `${U64}-*`, "f", "v"],
      ["xadd", nearTop, `${U64}-18446744073709551614`, "f", "v"],
      ["xadd", nearTop, "*", "f", "v"],
      ["xadd", seqTop, `5-${U64}`, "f", "v"],
      ["xadd", seqTop, "5-*", "f", "v"],
      ["xadd", future, "99999999999999-5", "f", "v"],
      ["xadd", future, "*", "f", "v"],
      ["xadd", future, "99999999999999-*", "f", "v"],
      ["xadd", zero, "maxlen", "0", "1-1", "f", "v"],
      ["xlen", zero],
      ["exists", zero],
      ["type", zero],
      ["xrange", zero, "-", "+"],
      ["xadd", zero, "1-1", "f", "v"],
      ["xadd", zero, "1-2", "f", "v"],
    ]);
  });

  it("XADD options: NOMKSTREAM, MAXLEN/MINID with = and ~, LIMIT, and their errors", async () => {
    const [s, none] = [k("opts:s"), k("opts:none")];
    const add = (...opts: string[]) => (id: string) => ["xadd", s, ...opts, id, "f", id];
    await same([
      ["xadd", none, "nomkstream", "1-1", "f", "v"],
      ["xadd", none, "NOMKSTREAM", "maxlen", "0", "1-1", "f", "v"],
      ["exists", none],
      ...["1-1", "1-2", "1-3", "1-4"].map(add()),
      add("nomkstream")("1-5"),
      add("maxlen", "3")("2-1"),
      ["xrange", s, "-", "+"],
      add("MAXLEN", "=", "2")("2-2"),
      add("maxlen", "~", "1")("2-3"),
      ["xlen", s],
      add("minid", "2-2")("2-4"),
      ["xrange", s, "-", "+"],
      add("MINID", "=", "2-4")("2-5"),
      add("minid", "~", "9")("2-6"),
      add("maxlen", "~", "1", "limit", "0")("2-7"),
      add("maxlen", "~", "1", "LIMIT", "1")("2-8"),
      add("minid", "3")("3"),
      ["xrange", s, "-", "+"],
      add("maxlen", "-1")("4-1"),
      add("maxlen", "x")("4-1"),
      add("maxlen", "1.5")("4-1"),
      add("maxlen", "1", "minid", "1")("4-1"),
      add("maxlen", "1", "maxlen", "1")("4-1"),
      add("limit", "5")("4-1"),
      add("limit", "0")("4-1"),
      add("maxlen", "5", "limit", "5")("4-1"),
      add("maxlen", "=", "5", "limit", "5")("4-1"),
      add("maxlen", "~", "5", "limit", "-1")("4-1"),
      add("maxlen", "~", "5", "limit", "x")("4-1"),
      add("minid", "bad")("4-1"),
      add("minid", "-")("4-1"),
      add("minid", "5-*")("4-1"),
      add("minid", "=", "~")("4-1"),
      add("nomkstream", "nomkstream")("4-2"),
      ["xadd", s, "maxlen", "f", "v"],
      ["xadd", s, "nomkstream", "nomkstream", "nomkstream"],
      ["xadd", s, "maxlen", "~", "*", "f", "v"],
      ["xlen", s],
    ]);
  });

  it("XRANGE and XREVRANGE: -, +, incomplete and exclusive IDs, COUNT, and their errors", async () => {
    const [r, missing] = [k("range:r"), k("range:missing")];
    await same([
      ...["1-1", "1-2", "2-0", "2-5", "3-0", "10-1"].map((id, i) => ["xadd", r, id, "n", String(i), "json", `{"i":${i}}`]),
      ["xrange", r, "-", "+"],
      ["xrange", r, "2", "2"],
      ["xrange", r, "(1-1", "+"],
      ["xrange", r, "-", "(2-5"],
      ["xrange", r, "(2", "+"],
      ["xrange", r, "-", "(2"],
      ["xrange", r, "(1-2", "(3-0"],
      ["xrange", r, "001", " 2"],
      ["xrange", r, "1-1", "1-1"],
      ["xrange", r, "3", "1"],
      ["xrange", r, "(2-5", "(2-5"],
      ["xrange", r, "(-", "+"],
      ["xrange", r, "-", "(+"],
      ["xrange", r, "(", "+"],
      ["xrange", r, "-", "("],
      ["xrange", r, "(0-0", "+"],
      ["xrange", r, "-", "(0-0"],
      ["xrange", r, `(${U64}-${U64}`, "+"],
      ["xrange", r, `(${U64}`, "+"],
      ["xrange", r, "bad", "(0-0"],
      ["xrange", r, "(0-0", "bad"],
      ["xrange", r, "-", "+", "count", "2"],
      ["xrange", r, "-", "+", "COUNT", "0"],
      ["xrange", r, "-", "+", "count", "-3"],
      ["xrange", r, "-", "+", "count", "x"],
      ["xrange", r, "-", "+", "count"],
      ["xrange", r, "-", "+", "count", "1", "count", "3"],
      ["xrange", r, "-", "+", "limit", "1"],
      ["xrange", r, "-", "+", "count", "9223372036854775807"],
      ["xrange", r],
      ["xrange", missing, "-", "+"],
      ["xrange", missing, "-", "+", "count", "0"],
      ["xrange", missing, "bad", "+"],
      ["xrevrange", r, "+", "-"],
      ["xrevrange", r, "+", "-", "count", "2"],
      ["xrevrange", r, "(3-0", "(1-1"],
      ["xrevrange", r, "2", "2"],
      ["xrevrange", r, "-", "+"],
      ["xrevrange", r, "(0-0", "+"],
      ["xrevrange", r, "+", `(${U64}-${U64}`],
      ["xrevrange", r, "bad", "bad2"],
      ["xrevrange", r, "+", "-", "count", "0"],
      ["xrevrange", missing, "+", "-"],
    ]);
  });

  it("XDEL, XLEN and exact XTRIM; a stream emptied by them stays, with its last ID", async () => {
    const [d, missing] = [k("del:d"), k("del:missing")];
    await same([
      ...Array.from({ length: 10 }, (_, i) => ["xadd", d, `1-${i + 1}`, "f", String(i)]),
      ["xdel", d, "1-3", "1-3", "1-99"],
      ["xdel", d, "1-4", "bad"],
      ["xdel", d, "1-4", "1-*"],
      ["xdel", d, "1-4", "-"],
      ["xlen", d],
      ["xdel", d, "1"],
      ["xdel", d, "1-1"],
      ["xrange", d, "-", "+"],
      ["xtrim", d, "maxlen", "5"],
      ["xtrim", d, "MAXLEN", "=", "5"],
      ["xtrim", d, "maxlen", "~", "1"],
      ["xtrim", d, "minid", "1-9"],
      ["xrange", d, "-", "+"],
      ["xtrim", d, "minid", "=", "1-9"],
      ["xtrim", d],
      ["xtrim", d, "maxlen"],
      ["xtrim", d, "maxlen", "1", "2"],
      ["xtrim", d, "foo", "1"],
      ["xtrim", d, "limit", "1"],
      ["xtrim", d, "limit", "0"],
      ["xtrim", d, "maxlen", "1", "limit", "1"],
      ["xtrim", d, "limit", "1", "maxlen", "~", "1"],
      ["xtrim", d, "minid", "+"],
      ["xtrim", d, "maxlen", "-2"],
      ["xtrim", missing, "maxlen", "1"],
      ["xtrim", missing, "maxlen", "bad"],
      ["xdel", missing, "bad"],
      ["xdel", d],
      ["xlen", missing],
      ["xlen", d],
      ["xdel", d, "1-9", "1-10"],
      ["xlen", d],
      ["exists", d],
      ["type", d],
      ["xrange", d, "-", "+"],
      ["xadd", d, "1-10", "f", "v"],
      ["xadd", d, "1-11", "f", "v"],
      ["xtrim", d, "maxlen", "0"],
      ["xlen", d],
      ["exists", d],
    ]);
  });

  it("WRONGTYPE both ways, and keyspace commands on a stream key", async () => {
    const [str, st, st2] = [k("wt:str"), k("wt:st"), k("wt:st2")];
    await same([
      ["set", str, "v"],
      ["xadd", str, "1-1", "f", "v"],
      ["xadd", str, "bad", "f", "v"],
      ["xadd", str, "nomkstream", "1-1", "f", "v"],
      ["xrange", str, "-", "+"],
      ["xrange", str, "bad", "+"],
      ["xrevrange", str, "+", "-"],
      ["xlen", str],
      ["xdel", str, "1-1"],
      ["xdel", str, "bad"],
      ["xtrim", str, "maxlen", "1"],
      ["xtrim", str, "maxlen", "x"],
      ["xadd", st, "1-1", "f", "v"],
      ["get", st],
      ["hget", st, "f"],
      ["lpush", st, "x"],
      ["incr", st],
      ["sadd", st, "m"],
      ["zadd", st, "1", "m"],
      ["type", st],
      ["exists", st],
      ["ttl", st],
      ["expire", st, "100"],
      ["ttl", st],
      ["persist", st],
      ["ttl", st],
      ["rename", st, st2],
      ["type", st],
      ["xrange", st2, "-", "+"],
      ["del", st2],
      ["exists", st2],
      ["xlen", st2],
    ]);
  });

  it("from Lua: redis.call and redis.pcall replies and errors, read-only scripts", async () => {
    const [l, ro] = [k("lua:l"), k("lua:ro")];
    await same([
      ["eval", "return redis.call('xadd', KEYS[1], '1-1', 'who', ARGV[1], 'n', 7)", "1", l, "alice"],
      ["eval", "return redis.call('xadd', KEYS[1], 'MINID', '=', ARGV[1], ARGV[2], 'who', 'bob')", "1", l, "1-2", "1-2"],
      ["eval", "return redis.call('xrange', KEYS[1], '-', '+')", "1", l],
      ["eval", "local r = redis.call('xrevrange', KEYS[1], '+', '-', 'COUNT', 1) return {r[1][1], r[1][2][2], #r}", "1", l],
      ["eval", "return redis.call('xrange', KEYS[1], '-', '+', 'count', 0)", "1", l],
      ["eval", "return type(redis.call('xrange', KEYS[1], '-', '+', 'count', 0))", "1", l],
      ["eval", "return redis.call('xlen', KEYS[1])", "1", l],
      ["eval", "return redis.call('type', KEYS[1])", "1", l],
      ["eval", "return redis.call('type', KEYS[1]).ok", "1", l],
      ["eval", "return redis.pcall('xadd', KEYS[1], '1-1', 'f', 'v')", "1", l],
      ["eval", "return redis.call('xadd', KEYS[1], '1-1', 'f', 'v')", "1", l],
      ["eval", "return redis.pcall('xrange', KEYS[1], '(-', '+')", "1", l],
      ["eval", "return redis.call('xadd', KEYS[1], 'f')", "1", l],
      ["eval", "return redis.call('xtrim', KEYS[1], 'maxlen', 0)", "1", l],
      ["eval", "return {redis.call('xlen', KEYS[1]), redis.call('exists', KEYS[1])}", "1", l],
      ["xadd", ro, "1-1", "f", "v"],
      ["eval", "#!lua flags=no-writes\nreturn redis.call('xrange', KEYS[1], '-', '+')", "1", ro],
      ["eval", "#!lua flags=no-writes\nreturn redis.call('xadd', KEYS[1], '5-1', 'f', 'v')", "1", ro],
      ["eval", "#!lua flags=no-writes\nreturn redis.pcall('xdel', KEYS[1], '1-1')", "1", ro],
    ]);
  });
});
