/**
 * The embedded in-memory Redis engine (src/memory).
 *
 * 1. Engine-only tests: expiry with an injected clock, pipelines and transactions, SCAN,
 *    scripting details that need control over time or state.
 * 2. Differential tests: the same command sequences run against the engine and against the
 *    real Redis 7 at 127.0.0.1:6379 (keys under a random prefix, deleted afterwards; never
 *    FLUSHDB/FLUSHALL/SCRIPT FLUSH there) and every reply and error must be equal. Skipped
 *    with a message when that Redis is not reachable, except in CI where it fails.
 */
import { createHash, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import ioredis, { type Redis as RedisClient } from "ioredis";
import { afterAll, describe, expect, it, vi } from "vitest";
import { MemoryBackend } from "../../src/memory/index.ts";
import { LuaScripting } from "../../src/memory/lua/host.ts";
import { CommandError, type Reply } from "../../src/types.ts";

// ioredis is CommonJS: take the class from the default import, as src/redis-backend.ts does.
const { Redis } = ioredis;

// ---------------------------------------------------------------------------------------------
// Helpers

type Outcome = { ok: unknown } | { err: string };

async function memOutcome(m: MemoryBackend, args: string[]): Promise<Outcome> {
  try {
    return { ok: await m.command(args) };
  } catch (e) {
    if (e instanceof CommandError) return { err: e.message };
    throw e;
  }
}

/** ioredis replies (callBuffer) to the Reply shape: bulk/status as strings, nested errors as messages. */
function normalise(v: unknown): unknown {
  if (Buffer.isBuffer(v)) return v.toString("utf8");
  if (typeof v === "string") return Number(v); // integer replies (stringNumbers: exact beyond 2^53)
  if (v instanceof Error) return v.message;
  if (Array.isArray(v)) return v.map(normalise);
  return v;
}

async function redisOutcome(r: RedisClient, args: string[]): Promise<Outcome> {
  try {
    // ioredis turns HGETALL replies into objects unless the name is not exactly "hgetall".
    const name = args[0] === "hgetall" ? "HGETALL" : args[0]!;
    return { ok: normalise(await r.callBuffer(name, ...args.slice(1))) };
  } catch (e) {
    return { err: (e as Error).message };
  }
}

async function connectRedis(): Promise<RedisClient | undefined> {
  const r = new Redis({
    host: "127.0.0.1",
    port: 6379,
    lazyConnect: true,
    connectTimeout: 1500,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
    stringNumbers: true,
  });
  r.on("error", () => {});
  try {
    await r.connect();
    const version = /redis_version:(\d+)/.exec(await r.info("server"))?.[1];
    if (Number(version) < 7) throw new Error(`Redis ${version} is too old: the comparison needs Redis 7`);
    return r;
  } catch (e) {
    r.disconnect();
    const why = `real Redis at 127.0.0.1:6379 is not usable (${(e as Error).message})`;
    if (process.env.CI === "true") throw new Error(`${why}; the differential tests are required in CI`);
    console.warn(`\n[memory-backend.test] SKIPPING the differential comparison: ${why}.\n`);
    return undefined;
  }
}

const redis = await connectRedis();

/** The Lua sources of @upstash/ratelimit, read from its build, and the SHA1s it uses with EVALSHA. */
const RATELIMIT_DIST = readFileSync(createRequire(import.meta.url).resolve("@upstash/ratelimit"), "utf8");
const RATELIMIT_SOURCES: Record<string, string> = (() => {
  const constants = new Map([...RATELIMIT_DIST.matchAll(/var (\w+) = (-?\d+);/g)].map((m) => [m[1]!, m[2]!]));
  const out: Record<string, string> = {};
  for (const m of RATELIMIT_DIST.matchAll(/var (\w+) = `([^`]*)`;/g)) {
    out[m[1]!] = m[2]!.replace(/\$\{(\w+)\}/g, (_, name: string) => constants.get(name) ?? "");
  }
  return out;
})();
const RATELIMIT_SCRIPTS: Record<string, { script: string; hash: string }> = Object.fromEntries(
  [...RATELIMIT_DIST.matchAll(/script: (\w+),\s*hash: "([0-9a-f]{40})"/g)].map((m) => [
    m[1]!,
    { script: RATELIMIT_SOURCES[m[1]!]!, hash: m[2]! },
  ]),
);

/** Random prefix for every key of this run, identical on both sides. */
const P = `mbt:${randomUUID().slice(0, 8)}:`;
const k = (name: string) => P + name;

afterAll(async () => {
  if (!redis) return;
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${P}*`, "COUNT", 1000);
    if (keys.length) await redis.del(...keys);
    cursor = next;
  } while (cursor !== "0");
  await redis.quit();
});

// ---------------------------------------------------------------------------------------------
// Differential harness

type Mode =
  | "exact"
  | "sorted" // array replies compared as multisets
  | "pairs" // flat [field, value, ...] replies compared as sets of pairs
  | "length" // only the array length (random members)
  | "approx"; // integers within 1500 (PTTL / TTL race the clock)

type Step =
  | string[]
  | { cmd: string[]; mode: Mode }
  /** A full SCAN-family iteration: cmd is [name, key?] and opts follow the cursor. */
  | { scan: string[]; opts?: string[]; pairs?: boolean }
  | { sleep: number };

function compareAs(mode: Mode, a: Outcome, b: Outcome): [unknown, unknown] {
  if (!("ok" in a) || !("ok" in b) || mode === "exact") return [a, b];
  const [x, y] = [a.ok, b.ok];
  if (mode === "approx" && typeof x === "number" && typeof y === "number") return Math.abs(x - y) <= 1500 ? [1, 1] : [x, y];
  if (mode === "length" && !Array.isArray(x) && !Array.isArray(y)) return [typeof x, typeof y];
  if (!Array.isArray(x) || !Array.isArray(y)) return [a, b];
  if (mode === "length") return [x.length, y.length];
  if (mode === "sorted") return [[...x].map(String).sort(), [...y].map(String).sort()];
  const pairs = (arr: unknown[]) => {
    const out: string[] = [];
    for (let i = 0; i < arr.length; i += 2) out.push(JSON.stringify([arr[i], arr[i + 1]]));
    return out.sort();
  };
  return [pairs(x), pairs(y)];
}

async function scanAll(run: (args: string[]) => Promise<Outcome>, step: { scan: string[]; opts?: string[]; pairs?: boolean }) {
  const seen: string[] = [];
  let cursor = "0";
  for (let i = 0; i < 10_000; i++) {
    const o = await run([...step.scan, cursor, ...(step.opts ?? [])]);
    if (!("ok" in o)) return o;
    const [next, items] = o.ok as [string, string[]];
    if (step.pairs) for (let j = 0; j < items.length; j += 2) seen.push(`${items[j]}=${items[j + 1]}`);
    else seen.push(...items);
    cursor = next;
    if (cursor === "0") break;
  }
  return { ok: [...new Set(seen)].sort() };
}

/** Runs the steps on both sides and returns the mismatches (empty when all replies agree). */
async function differential(steps: Step[]) {
  const mem = new MemoryBackend();
  const mismatches: unknown[] = [];
  try {
    for (const [i, step] of steps.entries()) {
      if ("sleep" in step) {
        await new Promise((r) => setTimeout(r, step.sleep));
        continue;
      }
      let a: Outcome, b: Outcome, mode: Mode = "exact", label: unknown;
      if ("scan" in step) {
        a = await scanAll((args) => memOutcome(mem, args), step);
        b = await scanAll((args) => redisOutcome(redis!, args), step);
        label = step;
      } else {
        const cmd = Array.isArray(step) ? step : step.cmd;
        if (!Array.isArray(step)) mode = step.mode;
        a = await memOutcome(mem, cmd);
        b = await redisOutcome(redis!, cmd);
        label = cmd;
      }
      const [x, y] = compareAs(mode, a, b);
      try {
        expect(x).toEqual(y);
      } catch {
        mismatches.push({ step: i, command: label, memory: a, redis: b });
      }
    }
  } finally {
    await mem.close();
  }
  return mismatches;
}


/** Redis `describe`, skipped (with the warning above) when real Redis is not reachable. */
const describeDiff = redis ? describe : describe.skip;

async function expectSame(steps: Step[]) {
  expect(await differential(steps)).toEqual([]);
}

// ---------------------------------------------------------------------------------------------
// Differential comparisons against real Redis

describeDiff("differential: same replies as real Redis 7", () => {
  it("errors: unknown commands, arity, WRONGTYPE, syntax", async () => {
    const s = k("err:s");
    const h = k("err:h");
    await expectSame([
      ["foo", "a", "b"],
      ["FOO"],
      ["nosuch", "x".repeat(200), "y"],
      ["get"],
      ["GET", s, "extra"],
      ["set", s],
      ["hset", h, "f"],
      ["zadd", h, "1"],
      ["script"],
      ["script", "load"],
      ["script", "nope"],
      ["script", "exists"],
      ["ping", "a", "b"],
      ["echo"],
      ["time", "x"],
      ["mset", s, "1", "x"],
      ["hset", h, "f", "v"],
      ["get", h],
      ["incr", h],
      ["sadd", h, "m"],
      ["zadd", h, "1", "m"],
      ["lpush", h, "x"],
      ["set", s, "v"],
      ["hget", s, "f"],
      ["smembers", s],
      ["zscore", s, "m"],
      ["lrange", s, "0", "-1"],
      ["append", h, "x"],
      ["getex", h],
      ["getdel", h],
      ["set", s, "v", "foo"],
      ["PING"],
      ["ping", "hello"],
      ["echo", "héllo"],
    ]);
  });

  it("strings: SET options, GET/GETEX/GETDEL/GETSET, MGET/MSET/MSETNX", async () => {
    const [a, b, c, h] = [k("str:a"), k("str:b"), k("str:c"), k("str:h")];
    const future = String(Math.floor(Date.now() / 1000) + 1000);
    await expectSame([
      ["set", a, "1", "ex", "100"],
      ["ttl", a],
      { cmd: ["pttl", a], mode: "approx" },
      ["set", a, "2", "KEEPTTL"],
      ["ttl", a],
      ["get", a],
      ["set", a, "3"],
      ["ttl", a],
      ["set", a, "v", "ex", "10", "px", "100"],
      ["set", a, "v", "nx", "xx"],
      ["set", a, "v", "xx", "nx"],
      ["set", a, "v", "keepttl", "ex", "1"],
      ["set", a, "v", "ex", "1", "keepttl"],
      ["set", a, "v", "exat", "1", "pxat", "2"],
      ["set", a, "v", "ex"],
      ["set", a, "v", "ex", "0"],
      ["set", a, "v", "ex", "-1"],
      ["set", a, "v", "px", "abc"],
      ["set", a, "v", "ex", "9999999999999999"],
      ["set", a, "v", "px", "9223372036854775807"],
      ["set", a, "v", "persist"],
      ["set", a, "v", "ex", "10", "ex", "20"],
      ["ttl", a],
      ["set", a, "v", "nx", "nx"],
      ["set", a, "w", "xx", "get"],
      ["set", b, "w", "xx", "get"],
      ["set", b, "w", "nx", "get"],
      ["set", b, "x", "nx", "get"],
      ["set", b, "y", "GET"],
      ["set", c, "z", "exat", future],
      { cmd: ["ttl", c], mode: "approx" },
      ["set", c, "z", "pxat", future + "000", "get"],
      { cmd: ["ttl", c], mode: "approx" },
      ["hset", h, "f", "v"],
      ["set", h, "v", "get"],
      ["set", h, "v", "nx", "get"],
      ["set", h, "v", "nx"],
      ["type", h],
      ["setnx", a, "x"],
      ["setnx", k("str:new"), "x"],
      ["setex", a, "100", "v"],
      ["ttl", a],
      ["setex", a, "0", "v"],
      ["setex", a, "abc", "v"],
      ["psetex", a, "100000", "v"],
      ["ttl", a],
      ["psetex", a, "-1", "v"],
      ["getset", a, "new"],
      ["ttl", a],
      ["getset", k("str:none"), "x"],
      ["getset", h, "x"],
      ["getdel", a],
      ["getdel", a],
      ["exists", a],
      ["set", a, "v"],
      ["getex", a, "ex", "100"],
      ["ttl", a],
      ["getex", a, "persist"],
      ["ttl", a],
      ["getex", a, "px", "100000"],
      { cmd: ["pttl", a], mode: "approx" },
      ["getex", a, "exat", future],
      { cmd: ["ttl", a], mode: "approx" },
      ["getex", a, "persist", "ex", "1"],
      ["getex", a, "ex", "1", "persist"],
      ["getex", a, "ex", "0"],
      ["getex", a, "foo"],
      ["getex", a, "keepttl"],
      ["getex", a, "exat", "1"],
      ["exists", a],
      ["getex", k("str:none")],
      ["getex", k("str:none"), "ex", "abc"],
      ["mset", a, "1", b, "2", c, "3"],
      ["mget", a, b, c, h, k("str:none")],
      ["mset", a],
      ["msetnx", a, "x", k("str:n1"), "y"],
      ["get", k("str:n1")],
      ["msetnx", k("str:n1"), "x", k("str:n2"), "y"],
      ["mget", k("str:n1"), k("str:n2")],
      ["msetnx", k("str:n3"), "x", k("str:n3")],
    ]);
  });

  it("strings: INCR family, INCRBYFLOAT (long double), APPEND, STRLEN", async () => {
    const [n, f, s, h] = [k("num:n"), k("num:f"), k("num:s"), k("num:h")];
    await expectSame([
      ["incr", n],
      ["incrby", n, "41"],
      ["decr", n],
      ["decrby", n, "-10"],
      ["incrby", n, "abc"],
      ["incrby", n, "1.5"],
      ["incrby", n, " 1"],
      ["incrby", n, "+1"],
      ["incrby", n, "01"],
      ["set", n, "9223372036854775806"],
      ["incr", n],
      ["incr", n],
      ["set", n, "-9223372036854775807"],
      ["decr", n],
      ["decr", n],
      ["decrby", n, "-9223372036854775808"],
      ["incrby", n, "9223372036854775808"],
      ["set", s, " 1"],
      ["incr", s],
      ["set", s, "01"],
      ["incr", s],
      ["set", s, "-0"],
      ["incr", s],
      ["set", s, "1e3"],
      ["incr", s],
      ["set", n, "10", "ex", "100"],
      ["incr", n],
      ["ttl", n],
      ["incrbyfloat", f, "0.1"],
      ["incrbyfloat", f, "0.2"],
      ["incrbyfloat", f, "1e20"],
      ["incrbyfloat", f, "-1e20"],
      ["incrbyfloat", f, "10.5"],
      ["incrbyfloat", f, "-5.0e3"],
      ["incrbyfloat", f, "3"],
      ["incrbyfloat", f, ".5"],
      ["incrbyfloat", f, "5."],
      ["incrbyfloat", f, "1.23456789012345678901"],
      ["incrbyfloat", f, "abc"],
      ["incrbyfloat", f, "inf"],
      ["incrbyfloat", f, "-inf"],
      ["incrbyfloat", f, "nan"],
      ["incrbyfloat", f, " 1"],
      ["incrbyfloat", f, "1e400"],
      ["incrbyfloat", f, "1e5000"],
      ["incrbyfloat", f, ""],
      ...["0x10", "0x1p4", "0x.8", "0X1P-2", "+1", "-0", "1e", "e5", ".e5", "infinity", "-INF", "NaN", "1e-5000",
        "1e-4940", "4e-4951", "1.5e4932", "1e4933", "00012", "1_0", "1,5", "0x", "0xg"].map((v) => ["incrbyfloat", k(`num:x${v}`), v]),
      ["set", f, "1e-20"],
      ["incrbyfloat", f, "0"],
      ["set", f, "1e308"],
      ["incrbyfloat", f, "1e308"],
      ["set", f, "0.1"],
      ["incrbyfloat", f, "-0.1"],
      ["set", f, "-0.00000000000000001"],
      ["incrbyfloat", f, "0"],
      ["set", f, "1.5e-17"],
      ["incrbyfloat", f, "0"],
      ["set", f, "3.0000000000000000000000001"],
      ["incrbyfloat", f, "0"],
      ["set", f, "abc"],
      ["incrbyfloat", f, "1"],
      ["hset", h, "x", "1"],
      ["incr", h],
      ["incrbyfloat", h, "1"],
      ["incrbyfloat", h, "abc"],
      ["append", s, "abc"],
      ["append", k("num:new"), "héllo"],
      ["strlen", k("num:new")],
      ["append", k("num:new"), "€"],
      ["strlen", k("num:new")],
      ["strlen", k("num:none")],
      ["strlen", h],
      ["append", h, "x"],
      ["set", s, "v", "ex", "100"],
      ["append", s, "w"],
      ["ttl", s],
    ]);
  });

  it("keys: EXISTS, TYPE, DEL, UNLINK, RENAME, KEYS, SCAN", async () => {
    const [a, b, c, z, l, st, h] = ["ks:a", "ks:b", "ks:c", "ks:z", "ks:l", "ks:st", "ks:h"].map(k);
    await expectSame([
      ["set", a!, "1"],
      ["set", b!, "2", "ex", "100"],
      ["zadd", z!, "1", "m"],
      ["rpush", l!, "x"],
      ["sadd", st!, "m"],
      ["hset", h!, "f", "v"],
      ["exists", a!, a!, b!, k("ks:none")],
      ["type", a!],
      ["type", z!],
      ["type", l!],
      ["type", st!],
      ["type", h!],
      ["type", k("ks:none")],
      { cmd: ["keys", `${P}ks:*`], mode: "sorted" },
      { cmd: ["keys", `${P}ks:[a-c]`], mode: "sorted" },
      { cmd: ["keys", `${P}ks:[^a-c]`], mode: "sorted" },
      { cmd: ["keys", `${P}ks:?`], mode: "sorted" },
      { cmd: ["keys", `${P}ks:s*`], mode: "sorted" },
      { cmd: ["keys", `${P}ks:\\a`], mode: "sorted" },
      { cmd: ["keys", `${P}ks:[c-a]`], mode: "sorted" },
      { cmd: ["keys", `${P}ks:*[`], mode: "sorted" },
      { cmd: ["keys", `${P}ks:[a`], mode: "sorted" },
      { scan: ["scan"], opts: ["match", `${P}ks:*`] },
      { scan: ["scan"], opts: ["match", `${P}ks:*`, "count", "1"] },
      { scan: ["scan"], opts: ["match", `${P}ks:*`, "type", "zset", "count", "1000"] },
      { scan: ["scan"], opts: ["match", `${P}ks:*`, "TYPE", "STRING", "count", "1000"] },
      { scan: ["scan"], opts: ["match", `${P}ks:*`, "type", "nosuchtype"] },
      ["scan", "abc"],
      ["scan", "0", "count", "0"],
      ["scan", "0", "count", "-1"],
      ["scan", "0", "count", "x"],
      ["scan", "0", "type"],
      ["scan", "0", "match"],
      ["scan", "0", "foo", "bar"],
      ["scan", "18446744073709551616"],
      ["rename", a!, c!],
      ["exists", a!, c!],
      ["rename", b!, c!],
      ["get", c!],
      ["ttl", c!],
      ["rename", k("ks:none"), c!],
      ["rename", c!, c!],
      ["rename", k("ks:none"), k("ks:none")],
      ["rename", z!, l!],
      ["type", l!],
      ["del", z!, l!, l!, st!, k("ks:none")],
      ["unlink", h!, c!, h!],
      { cmd: ["keys", `${P}ks:*`], mode: "sorted" },
    ]);
  });

  it("keys: EXPIRE / PEXPIRE / EXPIREAT / PEXPIREAT with NX XX GT LT, TTL, PTTL, PERSIST", async () => {
    const [a, b, none] = [k("exp:a"), k("exp:b"), k("exp:none")];
    const soon = String(Math.floor(Date.now() / 1000) + 500);
    const later = String(Math.floor(Date.now() / 1000) + 5000);
    await expectSame([
      ["set", a, "v"],
      ["ttl", a],
      ["pttl", a],
      ["ttl", none],
      ["pttl", none],
      ["expire", none, "100"],
      ["expire", a, "100", "xx"],
      ["expire", a, "100", "gt"],
      ["expire", a, "100", "lt"],
      ["ttl", a],
      ["expire", a, "200", "nx"],
      ["expire", a, "200", "xx"],
      ["ttl", a],
      ["expire", a, "100", "gt"],
      ["expire", a, "300", "GT"],
      ["ttl", a],
      ["expire", a, "400", "lt"],
      ["expire", a, "50", "lt", "xx"],
      ["ttl", a],
      ["expire", a, "10", "nx", "xx"],
      ["expire", a, "10", "gt", "lt"],
      ["expire", a, "10", "nx", "gt"],
      ["expire", a, "10", "foo"],
      ["expire", a, "abc"],
      ["expire", a, "abc", "foo"],
      ["expire", a, "1.5"],
      ["expire", a, "9999999999999999"],
      ["pexpire", a, "9223372036854775807"],
      ["expireat", a, "9223372036854775807"],
      ["pexpire", a, "100000"],
      { cmd: ["pttl", a], mode: "approx" },
      ["ttl", a],
      ["pexpireat", a, soon + "000"],
      { cmd: ["ttl", a], mode: "approx" },
      ["expireat", a, later, "gt"],
      { cmd: ["ttl", a], mode: "approx" },
      ["expireat", a, soon, "gt"],
      ["persist", a],
      ["persist", a],
      ["persist", none],
      ["ttl", a],
      ["expire", a, "0"],
      ["exists", a],
      ["set", b, "v"],
      ["expire", b, "-5"],
      ["exists", b],
      ["set", b, "v"],
      ["pexpireat", b, "1"],
      ["exists", b],
      ["set", b, "v"],
      ["expireat", b, "0", "nx"],
      ["exists", b],
      ["set", b, "v", "px", "1600"],
      ["ttl", b],
      ["set", b, "v", "px", "1400"],
      ["ttl", b],
      ["set", b, "v", "px", "100"],
      { sleep: 250 },
      ["get", b],
      ["exists", b],
      ["ttl", b],
    ]);
  });

  it("hashes", async () => {
    const [h, g, s, big] = [k("h:h"), k("h:g"), k("h:s"), k("h:big")];
    const many = Array.from({ length: 300 }, (_, i) => [`f${i}`, `v${i}`]).flat();
    await expectSame([
      ["hset", h, "a", "1", "b", "2", "a", "3"],
      ["hset", h, "c", "x"],
      ["hgetall", h],
      ["hset", h, "a", "1", "b"],
      ["hmset", h, "d", "4", "e", "5"],
      ["hmset", h, "d"],
      ["hsetnx", h, "a", "9"],
      ["hsetnx", h, "z", "9"],
      ["hget", h, "a"],
      ["hget", h, "none"],
      ["hget", k("h:none"), "a"],
      ["hmget", h, "a", "none", "z"],
      ["hmget", k("h:none"), "a"],
      ["hgetall", h],
      ["hgetall", k("h:none")],
      ["hkeys", h],
      ["hvals", h],
      ["hlen", h],
      ["hlen", k("h:none")],
      ["hkeys", k("h:none")],
      ["hexists", h, "a"],
      ["hexists", h, "none"],
      ["hdel", h, "a", "a", "none"],
      ["hincrby", h, "n", "5"],
      ["hincrby", h, "n", "-7"],
      ["hincrby", h, "c", "1"],
      ["hincrby", h, "n", "abc"],
      ["hset", h, "big", "9223372036854775807"],
      ["hincrby", h, "big", "1"],
      ["hincrbyfloat", h, "fl", "0.1"],
      ["hincrbyfloat", h, "fl", "0.2"],
      ["hincrbyfloat", h, "fl", "inf"],
      ["hincrbyfloat", h, "fl", "abc"],
      ["hincrbyfloat", h, "c", "1"],
      ["hincrbyfloat", h, "n", "1e2"],
      ["hset", k("h:huge"), "huge", "1e308"],
      ["hincrbyfloat", k("h:huge"), "huge", "1e308"],
      ["hincrbyfloat", k("h:huge"), "huge", "-1e308"],
      ["hincrbyfloat", h, "hx", "0x1p-3"],
      ["hset", h, "sp", " 1"],
      ["hincrbyfloat", h, "sp", "1"],
      ["hgetall", h],
      ["hdel", g, "x"],
      ["hset", g, "only", "1"],
      ["hdel", g, "only"],
      ["exists", g],
      ["set", s, "v"],
      ["hincrbyfloat", s, "f", "abc"],
      ["hincrbyfloat", s, "f", "1"],
      ["hincrby", s, "f", "abc"],
      ["hincrby", s, "f", "1"],
      ["hgetall", s],
      ["hdel", s, "f"],
      ["hscan", h, "0"],
      ["hscan", h, "0", "match", "f*"],
      ["hscan", h, "0", "count", "1"],
      ["hscan", k("h:none"), "0"],
      ["hscan", k("h:none"), "abc"],
      ["hscan", k("h:none"), "0", "foo"],
      ["hscan", s, "0"],
      ["hscan", h, "0", "count", "0"],
      ["hscan", h, "0", "match"],
      ["hscan", h, "0", "type", "hash"],
      ["hset", big, ...many],
      ["hlen", big],
      { cmd: ["hgetall", big], mode: "pairs" },
      { scan: ["hscan", big], pairs: true },
      { scan: ["hscan", big], opts: ["match", "f1*", "count", "7"], pairs: true },
    ]);
  });

  it("sets", async () => {
    const [s, i, big, str] = [k("set:s"), k("set:i"), k("set:big"), k("set:str")];
    const many = Array.from({ length: 200 }, (_, n) => `m${n}`);
    await expectSame([
      ["sadd", s, "a", "b", "c", "a"],
      ["sadd", s, "a"],
      { cmd: ["smembers", s], mode: "sorted" },
      ["sadd", i, "10", "2", "-5", "2", "100"],
      ["smembers", i],
      ["sscan", i, "0"],
      ["sscan", i, "0", "match", "1*"],
      ["sismember", s, "a"],
      ["sismember", s, "z"],
      ["sismember", k("set:none"), "a"],
      ["smismember", s, "a", "z", "b"],
      ["smismember", k("set:none"), "a"],
      ["scard", s],
      ["scard", k("set:none")],
      ["srem", s, "a", "z", "a"],
      ["srem", k("set:none"), "a"],
      { cmd: ["spop", s], mode: "length" },
      ["scard", s],
      { cmd: ["spop", s, "5"], mode: "length" },
      ["exists", s],
      ["spop", s],
      ["spop", s, "3"],
      ["spop", s, "0"],
      ["spop", s, "-1"],
      ["spop", s, "abc"],
      ["spop", s, "1", "2"],
      ["sadd", s, "x", "y", "z"],
      ["spop", s, "0"],
      { cmd: ["srandmember", s, "2"], mode: "length" },
      { cmd: ["srandmember", s, "10"], mode: "length" },
      { cmd: ["srandmember", s, "-10"], mode: "length" },
      ["srandmember", s, "0"],
      ["srandmember", k("set:none")],
      ["srandmember", k("set:none"), "5"],
      ["srandmember", k("set:none"), "-5"],
      ["srandmember", s, "abc"],
      ["srandmember", s, "1", "2"],
      { cmd: ["srandmember", i, "100"], mode: "sorted" },
      ["scard", s],
      ["set", str, "v"],
      ["sadd", str, "a"],
      ["smembers", str],
      ["sismember", str, "a"],
      ["smismember", str, "a"],
      ["spop", str],
      ["srandmember", str],
      ["sscan", str, "0"],
      ["sadd", big, ...many],
      { cmd: ["smembers", big], mode: "sorted" },
      { scan: ["sscan", big] },
      { scan: ["sscan", big], opts: ["match", "m1?", "count", "3"] },
    ]);
  });

  it("sorted sets: ZADD options, scores, ZINCRBY, ZSCORE, ZMSCORE, ZCARD, ZREM", async () => {
    const [z, y, s] = [k("z:z"), k("z:y"), k("z:s")];
    await expectSame([
      ["zadd", z, "1.1", "a", "0.1", "b", "1e20", "c", "inf", "d", "-inf", "e", "3", "f", "1e-7", "g", "123456789.123", "h"],
      ["zrange", z, "0", "-1", "withscores"],
      ["zadd", z, "2", "a"],
      ["zadd", z, "ch", "2", "a", "5", "b", "7", "new"],
      ["zadd", z, "nx", "100", "a", "100", "nx1"],
      ["zadd", z, "xx", "100", "a", "100", "xx1"],
      ["zadd", z, "xx", "ch", "101", "a", "100", "xx1"],
      ["zadd", z, "gt", "ch", "50", "a", "200", "b"],
      ["zadd", z, "lt", "ch", "50", "a", "1000", "b", "9", "lt1"],
      ["zadd", z, "xx", "gt", "1", "a"],
      ["zadd", z, "incr", "5", "a"],
      ["zadd", z, "incr", "nx", "5", "a"],
      ["zadd", z, "incr", "xx", "5", "nonexistent"],
      ["zadd", z, "incr", "gt", "-1", "a"],
      ["zadd", z, "incr", "lt", "-1", "a"],
      ["zadd", z, "nx", "xx", "1", "a"],
      ["zadd", z, "gt", "lt", "1", "a"],
      ["zadd", z, "nx", "gt", "1", "a"],
      ["zadd", z, "incr", "1", "a", "2", "b"],
      ["zadd", z, "1", "a", "2"],
      ["zadd", z, "ch"],
      ["zadd", z, "nan", "a"],
      ["zadd", z, "abc", "a"],
      ["zadd", z, "1", "x", "abc", "y"],
      ["zscore", z, "x"],
      ["zadd", z, " 1", "a"],
      ["zadd", z, "1e400", "a"],
      ["zadd", z, "1e-400", "a"],
      ["zadd", z, "0x10", "hex", "0x1p4", "hex2", "1e-320", "tiny", "2e-308", "small", "0x.8", "half"],
      ["zadd", z, "0x", "bad"],
      ["zadd", z, "infinity", "inf2", "-Infinity", "ninf2"],
      ["zadd", z, "+5", "plus", "-0", "negzero", ".5", "dot", "5.", "dot2", "-.5e1", "e"],
      ["zadd", z, "incr", "-inf", "d"],
      ["zadd", z, "incr", "inf", "d"],
      ["zincrby", z, "-inf", "d"],
      ["zincrby", z, "2.5", "a"],
      ["zincrby", z, "abc", "a"],
      ["zincrby", z, "1", "brandnew"],
      ["zadd", k("z:none"), "xx", "1", "a"],
      ["exists", k("z:none")],
      ["zadd", k("z:none"), "xx", "incr", "1", "a"],
      ["zscore", z, "a"],
      ["zscore", z, "none"],
      ["zscore", k("z:none"), "a"],
      ["zmscore", z, "a", "none", "b", "negzero"],
      ["zmscore", k("z:none"), "a", "b"],
      ["zcard", z],
      ["zcard", k("z:none")],
      ["zrange", z, "0", "-1", "withscores"],
      ["zrem", z, "a", "none", "a", "b"],
      ["zrem", k("z:none"), "a"],
      ["zadd", y, "1", "only"],
      ["zrem", y, "only"],
      ["exists", y],
      ["set", s, "v"],
      ["zadd", s, "1", "a"],
      ["zadd", s, "xx", "1", "a"],
      ["zadd", s, "abc", "a"],
      ["zincrby", s, "1", "a"],
      ["zscore", s, "a"],
      ["zmscore", s, "a"],
      ["zcard", s],
      ["zrem", s, "a"],
    ]);
  });

  it("sorted sets: ZRANGE (rank, BYSCORE, BYLEX, REV, LIMIT) and the older range commands", async () => {
    const [z, lex, s] = [k("zr:z"), k("zr:lex"), k("zr:s")];
    const ranges: string[][] = [
      ["0", "-1"], ["1", "2"], ["-2", "-1"], ["-100", "100"], ["3", "1"], ["5", "10"], ["0", "0"], ["-1", "-2"],
    ];
    const scoreRanges: string[][] = [
      ["-inf", "+inf"], ["2", "4"], ["(2", "4"], ["2", "(4"], ["(2", "(4"], ["(2", "(2"], ["2", "2"],
      ["4", "2"], ["-inf", "-inf"], ["+inf", "+inf"], ["(1", "+inf"], ["1.5", "3.5"], ["", "3"], ["(", "3"],
      ["inf", "-inf"], ["-INF", "+Infinity"], [" 2", "3"], ["1e400", "2"],
    ];
    const lexRanges: string[][] = [
      ["-", "+"], ["[b", "[d"], ["(b", "[d"], ["[b", "(d"], ["(b", "(b"], ["[b", "[b"], ["+", "-"], ["-", "-"],
      ["+", "+"], ["[", "[c"], ["(a", "+"], ["-", "(c"], ["[z", "+"], ["[aa", "[bb"],
    ];
    const steps: Step[] = [
      ["zadd", z, "1", "a", "2", "b", "3", "c", "4", "d", "5", "e", "2", "bb", "-1", "neg"],
      ["zadd", lex, "0", "a", "0", "b", "0", "c", "0", "d", "0", "e", "0", "bb", "0", "é", "0", "Z"],
    ];
    for (const [start, stop] of ranges) {
      steps.push(["zrange", z, start!, stop!], ["zrange", z, start!, stop!, "withscores"], ["zrange", z, start!, stop!, "rev"]);
      steps.push(["zrevrange", z, start!, stop!], ["zrevrange", z, start!, stop!, "WITHSCORES"]);
      steps.push(["zremrangebyrank", k("zr:none"), start!, stop!]);
    }
    for (const [min, max] of scoreRanges) {
      steps.push(["zrange", z, min!, max!, "byscore"], ["zrange", z, max!, min!, "byscore", "rev", "withscores"]);
      steps.push(["zrangebyscore", z, min!, max!, "withscores"], ["zrevrangebyscore", z, max!, min!]);
      steps.push(["zcount", z, min!, max!], ["zrange", z, min!, max!, "byscore", "limit", "1", "2"]);
    }
    for (const [min, max] of lexRanges) {
      steps.push(["zrange", lex, min!, max!, "bylex"], ["zrange", lex, max!, min!, "bylex", "rev"]);
      steps.push(["zrange", lex, min!, max!, "bylex", "limit", "1", "3"]);
    }
    steps.push(
      ["zrange", z, "-inf", "+inf", "byscore", "limit", "0", "-1"],
      ["zrange", z, "-inf", "+inf", "byscore", "limit", "-1", "2"],
      ["zrange", z, "-inf", "+inf", "byscore", "limit", "7", "2"],
      ["zrange", z, "-inf", "+inf", "byscore", "limit", "8", "2"],
      ["zrange", z, "-inf", "+inf", "byscore", "limit", "2", "0"],
      ["zrange", z, "+inf", "-inf", "byscore", "rev", "limit", "1", "3", "withscores"],
      ["zrangebyscore", z, "-inf", "+inf", "limit", "2", "2"],
      ["zrangebyscore", z, "-inf", "+inf", "withscores", "limit", "2", "2"],
      ["zrevrangebyscore", z, "+inf", "-inf", "limit", "0", "3", "withscores"],
      ["zrange", z, "0", "-1", "limit", "0", "1"],
      ["zrange", z, "a", "b", "bylex", "withscores"],
      ["zrange", lex, "a", "c", "bylex"],
      ["zrange", z, "a", "b", "byscore"],
      ["zrange", z, "0", "-1", "byscore", "bylex"],
      ["zrange", z, "0", "-1", "rev", "rev"],
      ["zrange", z, "0", "-1", "foo"],
      ["zrange", z, "0", "-1", "limit", "1"],
      ["zrange", z, "0", "-1", "byscore", "limit", "x", "1"],
      ["zrange", z, "x", "1"],
      ["zrangebyscore", z, "0", "10", "rev"],
      ["zrangebyscore", z, "0", "10", "byscore"],
      ["zrangebyscore", z, "x", "10"],
      ["zrevrange", z, "0", "-1", "rev"],
      ["zrevrange", z, "0", "-1", "byscore"],
      ["zcount", z, "x", "1"],
      ["zcount", k("zr:none"), "0", "1"],
      ["zcount", k("zr:none"), "x", "1"],
      ["zrange", k("zr:none"), "0", "-1"],
      ["zrange", k("zr:none"), "x", "-1"],
      ["zrank", z, "c"],
      ["zrank", z, "none"],
      ["zrevrank", z, "c"],
      ["zrevrank", z, "neg"],
      ["zrank", k("zr:none"), "c"],
      ["zrevrank", k("zr:none"), "c"],
      ["zremrangebyscore", z, "(4", "+inf"],
      ["zremrangebyscore", z, "x", "1"],
      ["zremrangebyscore", k("zr:none"), "0", "1"],
      ["zrange", z, "0", "-1", "withscores"],
      ["zremrangebyrank", z, "0", "0"],
      ["zremrangebyrank", z, "-1", "-1"],
      ["zremrangebyrank", z, "5", "10"],
      ["zremrangebyrank", z, "x", "1"],
      ["zrange", z, "0", "-1", "withscores"],
      ["zremrangebyrank", z, "0", "-1"],
      ["exists", z],
      ["zadd", z, "1", "a", "2", "b", "3", "c", "4", "d"],
      ["zpopmin", z],
      ["zpopmin", z, "2"],
      ["zpopmin", z, "0"],
      ["zpopmin", z, "-1"],
      ["zpopmin", z, "abc"],
      ["zpopmin", z, "1", "2"],
      ["zpopmin", z, "10"],
      ["exists", z],
      ["zpopmin", z],
      ["zpopmin", z, "3"],
      ["zscan", lex, "0"],
      ["zscan", lex, "0", "match", "b*"],
      ["zscan", k("zr:none"), "0"],
      ["set", s, "v"],
      ["zrange", s, "0", "-1"],
      ["zrangebyscore", s, "0", "1"],
      ["zrevrange", s, "0", "1"],
      ["zcount", s, "0", "1"],
      ["zrank", s, "a"],
      ["zremrangebyscore", s, "0", "1"],
      ["zremrangebyrank", s, "0", "1"],
      ["zpopmin", s],
      ["zscan", s, "0"],
    );
    const many = Array.from({ length: 200 }, (_, i) => [String(i % 7), `m${i}`]).flat();
    steps.push(["zadd", k("zr:big"), ...many], { scan: ["zscan", k("zr:big")], pairs: true });
    steps.push({ scan: ["zscan", k("zr:big")], opts: ["match", "m1*", "count", "5"], pairs: true });
    steps.push(["zrange", k("zr:big"), "10", "30", "withscores"]);
    await expectSame(steps);
  });

  it("lists", async () => {
    const [l, s] = [k("l:l"), k("l:s")];
    await expectSame([
      ["rpush", l, "a", "b", "c"],
      ["lpush", l, "x", "y"],
      ["lrange", l, "0", "-1"],
      ["llen", l],
      ["llen", k("l:none")],
      ["lindex", l, "0"],
      ["lindex", l, "-1"],
      ["lindex", l, "100"],
      ["lindex", l, "abc"],
      ["lindex", k("l:none"), "abc"],
      ["lindex", k("l:none"), "0"],
      ["lrange", l, "1", "2"],
      ["lrange", l, "-2", "-1"],
      ["lrange", l, "-100", "100"],
      ["lrange", l, "3", "1"],
      ["lrange", l, "abc", "1"],
      ["lrange", k("l:none"), "0", "-1"],
      ["lpop", l],
      ["rpop", l],
      ["lpop", l, "2"],
      ["rpush", l, "1", "2", "3", "4"],
      ["rpop", l, "2"],
      ["lpop", l, "0"],
      ["lpop", l, "-1"],
      ["lpop", l, "abc"],
      ["lpop", l, "1", "2"],
      ["lpop", k("l:none")],
      ["lpop", k("l:none"), "0"],
      ["lpop", k("l:none"), "3"],
      ["rpop", l, "100"],
      ["exists", l],
      ["rpush", l, "a", "b", "a", "c", "a", "b", "a"],
      ["lrem", l, "2", "a"],
      ["lrange", l, "0", "-1"],
      ["lrem", l, "-1", "b"],
      ["lrange", l, "0", "-1"],
      ["lrem", l, "0", "a"],
      ["lrem", l, "0", "none"],
      ["lrem", l, "abc", "a"],
      ["lrem", k("l:none"), "0", "a"],
      ["lrange", l, "0", "-1"],
      ["rpush", l, "1", "2", "3", "4", "5"],
      ["ltrim", l, "1", "-2"],
      ["lrange", l, "0", "-1"],
      ["ltrim", l, "-100", "100"],
      ["lrange", l, "0", "-1"],
      ["ltrim", l, "a", "1"],
      ["ltrim", k("l:none"), "0", "1"],
      ["ltrim", l, "5", "1"],
      ["exists", l],
      ["set", s, "v"],
      ["lpush", s, "a"],
      ["rpush", s, "a"],
      ["lpop", s],
      ["rpop", s, "2"],
      ["lpop", s, "abc"],
      ["llen", s],
      ["lindex", s, "0"],
      ["lrem", s, "0", "a"],
      ["ltrim", s, "0", "1"],
      ["lrange", s, "0", "1"],
    ]);
  });

  it("scripting: EVAL conversions Lua <-> Redis", async () => {
    const [a, h, z, l] = [k("lua:a"), k("lua:h"), k("lua:z"), k("lua:l")];
    const ev = (body: string, ...rest: string[]) => ["eval", body, ...(rest.length ? rest : ["0"])];
    await expectSame([
      ["set", a, "10"],
      ["hset", h, "f", "v", "g", "w"],
      ["zadd", z, "1.5", "m", "2", "n"],
      ["rpush", l, "x", "y"],
      ev("return 1"),
      ev("return 3.99"),
      ev("return -3.99"),
      ev("return 1e20"),
      ev("return -1e20"),
      ev("return 0/0"),
      ev("return 1/0"),
      ev("return 2^53"),
      ev("return 'str'"),
      ev("return true"),
      ev("return false"),
      ev("return nil"),
      ev("return"),
      ev("return {}"),
      ev("return {1, 2, nil, 3}"),
      ev("return {1, 'two', 3.5, true, false, {4, {5}}}"),
      ev("return {1, {ok='st'}, 3}"),
      ev("return {1, {err='nested'}, 3}"),
      ev("return {ok='FINE'}"),
      ev("return {ok='multi\\nline'}"),
      ev("return {err='x y'}"),
      ev("return {err='oops'}"),
      ev("return {ok=5}"),
      ev("return {err=5}"),
      ev("return {x=1, 'a', 'b'}"),
      ev("return {double=1.5}"),
      ev("return redis.status_reply('DONE')"),
      ev("return redis.error_reply('MY err')"),
      ev("return redis.error_reply('noprefix')"),
      ev("return redis.error_reply('-DASH msg')"),
      ev("return redis.error_reply(1)"),
      ev("return redis.status_reply()"),
      ev("return redis.call('get', KEYS[1])", "1", a),
      ev("return redis.call('GET', KEYS[1]) + 1", "1", a),
      ev("return redis.call('incrby', KEYS[1], ARGV[1])", "1", a, "5"),
      ev("return redis.call('incrby', KEYS[1], 2.0)", "1", a),
      ev("return redis.call('set', KEYS[1], 0.1)", "1", k("lua:f")),
      ev("return redis.call('get', KEYS[1])", "1", k("lua:f")),
      ev("return redis.call('set', KEYS[1], 1e20)", "1", k("lua:f")),
      ev("return redis.call('get', KEYS[1])", "1", k("lua:f")),
      ev("return redis.call('set', KEYS[1], 123456789)", "1", k("lua:f")),
      ev("return redis.call('get', KEYS[1])", "1", k("lua:f")),
      ev("return type(redis.call('get', KEYS[1]))", "1", k("lua:none")),
      ev("return tostring(redis.call('get', KEYS[1]))", "1", k("lua:none")),
      ev("return redis.call('set', KEYS[1], 'v')", "1", k("lua:g")),
      ev("local r = redis.call('set', KEYS[1], 'v'); return type(r) .. ':' .. r.ok", "1", k("lua:g")),
      ev("return redis.call('ping')"),
      ev("return redis.call('type', KEYS[1])", "1", h),
      ev("return redis.call('type', KEYS[1]).ok", "1", h),
      ev("return redis.call('hgetall', KEYS[1])", "1", h),
      ev("return redis.call('zrange', KEYS[1], 0, -1, 'withscores')", "1", z),
      ev("return redis.call('zscore', KEYS[1], 'm') + 0", "1", z),
      ev("return redis.call('lrange', KEYS[1], 0, -1)", "1", l),
      ev("return #redis.call('hmget', KEYS[1], 'f', 'none', 'g')", "1", h),
      ev("local t = redis.call('hmget', KEYS[1], 'f', 'none', 'g'); return {type(t[1]), type(t[2]), t[3]}", "1", h),
      ev("return redis.call('exists', KEYS[1], KEYS[2])", "2", a, k("lua:none")),
      ev("return {KEYS[1], KEYS[2], ARGV[1], ARGV[2], #KEYS, #ARGV}", "2", "k1", "k2", "a1", "a2"),
      ev("return #ARGV", "0", "x", "y", "z"),
      ev("KEYS[1] = 'changed'; return KEYS[1]", "1", "orig"),
      ["eval", "return 1", "-1"],
      ["eval", "return 1", "5"],
      ["eval", "return 1", "abc"],
      ["eval", "return 1"],
    ]);
  });

  it("scripting: errors, pcall, read-only globals, compile errors, shebang", async () => {
    const a = k("luaerr:a");
    const ev = (body: string, ...rest: string[]) => ["eval", body, ...(rest.length ? rest : ["0"])];
    await expectSame([
      ["set", a, "abc"],
      ev("return redis.call('incr', KEYS[1])", "1", a),
      ev("return redis.pcall('incr', KEYS[1])", "1", a),
      ev("local r = redis.pcall('incr', KEYS[1]); return r.err", "1", a),
      ev("return redis.call('hget', KEYS[1], 'f')", "1", a),
      ev("\n\nreturn redis.call('get')"),
      ev("return redis.pcall('get')"),
      ev("return redis.call('nosuch', 'a')"),
      ev("return redis.pcall('nosuch')"),
      ev("return redis.call('script', 'nosuch')"),
      ev("return redis.call()"),
      ev("return redis.pcall()"),
      ev("return redis.call('get', {})"),
      ev("return redis.pcall('get', nil)"),
      ev("return redis.call('get', true)"),
      ev("return redis.call('eval', 'return 1', '0')"),
      ev("return redis.pcall('evalsha', 'x', '0')"),
      ev("return redis.call('script', 'load', 'return 1')"),
      ev("error('boom')"),
      ev("local x = 1\nerror('on line two')"),
      ev("error({err='MY boom'})"),
      ev("error(redis.error_reply('CUSTOM failure'))"),
      ev("local function f() error('inner') end\n\nf()"),
      ev("local function f()\n  return redis.call('incr', KEYS[1])\nend\nreturn f()", "1", a),
      ev("x = 5"),
      ev("return y"),
      ev("return y.z"),
      ev("redis.foo = 1"),
      ev("redis.call = nil"),
      ev("string.foo = 1"),
      ev("math.pi = 3"),
      ev("KEYS = {}"),
      ev("local a = nil; return a + 1"),
      ev("local t = {}; return t.x.y"),
      ev("local s = 'x'; return s .. nil"),
      ev("local t = {}; return t:method()"),
      ev("return 1 < 'x'"),
      ev("return #nil"),
      ev("return pcall(function() redis.call('incr', KEYS[1]) end)", "1", a),
      ev("local ok, e = pcall(function() redis.call('incr', KEYS[1]) end); return e.err", "1", a),
      ev("local ok, e = pcall(error, 'plain'); return e"),
      ev("syntax error here"),
      ev("return 'unfinished"),
      ev("local function f("),
      ev("return type(debug)"),
      ev("return type(print)"),
      ev("return os.time()"),
      ev("#!lua\nreturn 1"),
      ev("#!lua\nerror('x')"),
      ev("#!lua flags=no-writes\nreturn redis.call('get', KEYS[1])", "1", a),
      ev("#!lua flags=no-writes\nreturn redis.call('set', KEYS[1], 'x')", "1", a),
      ev("#!lua flags=no-writes,allow-oom\nreturn 2"),
      ev("#!lua flags=\nreturn 3"),
      ev("#!lua flags=bogus\nreturn 1"),
      ev("#!luax\nreturn 1"),
      ev("#!lua name=foo\nreturn 1"),
      ev("#!lua"),
      ["evalsha", "abc", "0"],
      ["evalsha", "abc", "-1"],
      ["evalsha", "0000000000000000000000000000000000000000", "-1"],
      ["evalsha", "0000000000000000000000000000000000000000", "0"],
      ["script", "load", "return 'loaded'"],
      ["evalsha", createHash("sha1").update("return 'loaded'").digest("hex"), "0"],
      ["script", "load", "syntax error here"],
      ["script", "load", "#!lua flags=bogus\nreturn 1"],
      ["script", "flush", "bogus"],
      ["script", "flush", "sync", "x"],
    ]);
  });

  it("scripting: SCRIPT LOAD / EXISTS / EVALSHA, sha1", async () => {
    const body = `return {'sha test', ${Date.now()}}`;
    const sha = (await new MemoryBackend().command(["script", "load", body])) as string;
    await expectSame([
      ["script", "exists", sha, sha.toUpperCase(), "0000000000000000000000000000000000000000"],
      ["script", "load", body],
      ["SCRIPT", "EXISTS", sha],
      ["evalsha", sha, "0"],
      ["evalsha", sha.toUpperCase(), "0"],
      ["eval", "return redis.sha1hex('abc')", "0"],
      ["eval", "return redis.sha1hex('')", "0"],
      ["eval", "return redis.sha1hex(12)", "0"],
      ["eval", "return redis.sha1hex()", "0"],
    ]);
  });

  it("scripting: Lua 5.1 semantics (numbers, tostring, libraries, cjson, bit)", async () => {
    const ev = (body: string) => ["eval", body, "0"];
    await expectSame([
      ev("return tostring(10/2) .. ' ' .. 3/2 .. ' ' .. 1e15 .. ' ' .. 0.00001 .. ' ' .. 2^63 .. ' ' .. 1e100"),
      ev("return {tostring(1e15), tostring(123456789012345678), tostring(-0.0), tostring(0.1), tostring(1/3)}"),
      ev("return tostring(1/0) .. ' ' .. tostring(-1/0) .. ' ' .. tostring(0/0)"),
      ev("return 100000 * 100000"),
      ev("return 2147483647 + 1"),
      ev("return tostring(2147483647 * 3)"),
      ev("return math.floor(3.7) .. ' ' .. math.ceil(-3.7) .. ' ' .. 7 % 3 .. ' ' .. -7 % 3 .. ' ' .. 7.5 % 2"),
      ev("return tonumber('0x10') + tonumber('  5  ') + tonumber('1e2')"),
      ev("return {tonumber('abc') == nil, tonumber('') == nil, tonumber('5', 16), tonumber('ff', 16)}"),
      ev("return string.format('%d %s %5.2f %x %g %i', 3.7, 2^53, 1/3, 255, 0.1, -3.7)"),
      ev("return string.format('%d|%5d|%-5d|', 1732300000123, 12, 7)"),
      ev("return string.format('%q', 'a\"b')"),
      ev("return string.format('%s %s %s', 1, 1.5, 'x') .. string.format('%%')"),
      ev("return {string.len('héllo'), #'héllo', string.upper('abc'), string.rep('ab', 3), string.sub('hello', 2, -2)}"),
      ev("return {string.find('hello', 'l'), string.match('key:123', '(%d+)'), string.byte('A')}"),
      ev("local n = 0; for w in string.gmatch('a b c', '%a') do n = n + 1 end; return n"),
      ev("local n = 0; for w in string.gfind('a b c', '%a') do n = n + 1 end; return n"),
      ev("return {unpack({1, 2, 3})}"),
      ev("return select('#', unpack({1, nil, 3}))"),
      ev("return loadstring('return 7')()"),
      ev("return {table.getn({1, 2, 3}), table.maxn({1, 2, [10] = 3})}"),
      ev("local t = {3, 1, 2}; table.sort(t); return t"),
      ev("local t = {}; table.insert(t, 'a'); table.insert(t, 1, 'b'); return table.concat(t, ',')"),
      ev("return {math.pow(2, 10), math.mod(7, 3), math.fmod(-7, 3), math.abs(-2), math.max(1, 5, 3), math.sqrt(16)}"),
      ev("return {math.log10(1000), math.huge > 1e308, math.pi > 3.14}"),
      ev("local m, e = math.frexp(8); return {m * 10, e}"),
      ev("return math.ldexp(0.5, 4)"),
      ev("return _VERSION"),
      ev("return type(table.unpack) .. type(string.pack) .. type(math.type) .. type(utf8)"),
      ev("local r = {} for _, n in ipairs({'bit','cjson','unpack','loadstring','math','load','rawset','rawget','getmetatable','setmetatable','gcinfo','collectgarbage','coroutine','select','pcall','xpcall','error','assert','next','pairs','ipairs','type','tostring','tonumber','string','table','_G','_VERSION'}) do table.insert(r, n .. '=' .. type(rawget(_G, n))) end return table.concat(r, ' ')"),
      ev("local r = {} for k in pairs(redis) do table.insert(r, k) end table.sort(r) return table.concat(r, ' ')"),
      ev("return {redis.LOG_WARNING, redis.REPL_ALL, type(redis.REDIS_VERSION)}"),
      ev("redis.log(redis.LOG_NOTICE, 'hello'); return 'logged'"),
      ev("return redis.log(1)"),
      ev("return cjson.encode({1, 2, {a = 1}})"),
      ev("return cjson.encode({a = 'x/y'})"),
      ev("return cjson.encode({s = 'q\"b\\\\s\\n\\t\\1'})"),
      ev("return cjson.encode({})"),
      ev("return cjson.encode({[1] = 1, [3] = 3})"),
      ev("return cjson.encode({1e15, 0.1, -0.0, 123456789012, 1/3, true, false})"),
      ev("return cjson.encode({n = cjson.null})"),
      ev("return cjson.encode('str')"),
      ev("return cjson.encode(12)"),
      ev("return cjson.encode({[1] = 1, [20] = 2})"),
      ev("return cjson.encode({f = function() end})"),
      ev("return cjson.encode(0/0)"),
      ev("local t = cjson.decode('[1, 2.5, \"x\", true, null, {\"a\": [3]}]'); return {t[1], t[2] * 2, t[3], t[4], t[5] == cjson.null, t[6].a[1]}"),
      ev("return cjson.decode('{\"a\":null}').a == cjson.null"),
      ev("return cjson.decode('\"s\"')"),
      ev("return cjson.decode(cjson.encode({k = {1, 2, {'x'}}})).k[3][1]"),
      ev("return {bit.band(0xff, 0x0f), bit.bor(1, 2, 4), bit.bxor(5, 3), bit.bnot(0), bit.lshift(1, 31), bit.rshift(-1, 28), bit.arshift(-16, 2)}"),
      ev("return {bit.tobit(2^32 + 5), bit.tohex(255), bit.tohex(255, -4), bit.rol(1, 33), bit.ror(1, 1), bit.bswap(0x01020304)}"),
      ev("return coroutine.wrap(function() coroutine.yield(5) end)()"),
      ev("local ok, e = pcall(error, {code = 1}); return e.code"),
      ev("local mt = {__index = function(t, k) return k .. '!' end}; return setmetatable({}, mt).hi"),
      ev("return rawget(_G, 'nosuchglobal') == nil"),
    ]);
  });

  it("scripting: more Lua edge cases", async () => {
    const u = k("lua2:ü");
    const ev = (body: string, ...rest: string[]) => ["eval", body, ...(rest.length ? rest : ["0"])];
    await expectSame([
      ev("error('lvl0', 0)"),
      ev("error('lvl2', 2)"),
      ev("local function f() error('from f', 2) end\nf()"),
      ev("error(42)"),
      ev("error(nil)"),
      ev("error()"),
      ev("error(true)"),
      // Not sent to real Redis: error({}) (an error table without `err`) crashes Redis 7.0.15.
      ev("assert(false)"),
      ev("assert(false, 'custom assert')"),
      ev("assert(nil, {err='TBL assert'})"),
      ev("local ok, e = pcall(error, {err='E1'}); return {tostring(ok), e}"),
      ev("local ok, e = pcall(error, {notErr=1}); return type(e)"),
      ev("local ok, e = pcall(redis.call, 'nosuch'); return e"),
      ev("local ok, e = xpcall(function() error('x') end, function(m) return 'handled: ' .. m end); return e"),
      ev("return #{1, 2, 3, 4}"),
      ev("return table.concat({1, 2.5, 'x'}, '-')"),
      ev("return string.format('%5.1f|%-8s|%08.3f|%+d|%e|%G', 3.14159, 'ab', 2.5, 5, 12345.678, 0.0000123)"),
      ev("return string.format('%c%c%c', 72, 105, 33)"),
      ev("return string.format('%o %X %5.2s', 8, 255, 'abcdef')"),
      ev("return tostring(true) .. tostring(false) .. tostring(nil)"),
      ev("return {2^63 .. '', 2^64 .. '', -2^63 .. '', 1e308 * 10 .. ''}"),
      ev("return {tostring(123456789012), tostring(12345678901234567), 0.1 + 0.2 .. ''}"),
      ev(String.raw`return cjson.decode('"\\u00e9\\n"')`),
      ev("return cjson.encode(cjson.decode('{\"a\":{\"b\":[1,2,{\"c\":\"d\"}]}}'))"),
      ev("return cjson.decode('[1e300, -0, 123456789012345678]')[3]"),
      ev("return cjson.encode({'é', string.char(1), string.char(127), string.char(31)})"),
      ev("return string.format('%d|%5d|%-5d|%.3d|%#x|%#o|%g|%g|%g|%#g|%.0f|%.0e|%10.4g|%-10.2e|', 1732300000123, 12, 7, 5, 255, 8, 100000, 1000000, 1e-5, 1, 2.5, 15, 3.14159, -1234.5)"),
      ev("return string.format('%q', 'a\"b\\n' .. string.char(0) .. 'c\\r')"),
      ev("return string.format('%y', 1)"),
      ev("return string.format('%d')"),
      ev("return string.format('%s|%s|%.2s|%5s|%-5s|', 1.5, 'x', 'abc', 'ab', 'cd')"),
      ev("return string.format('%s', {})"),
      ev("return string.format('%f %e %g %5.1f', 1/0, -1/0, 0/0, -1/0)"),
      ev("return string.format('%.3f %.10g %.17g %.20f %5.3s|', 2.0005, 0.1, 0.1, 0.1, 'abcdef')"),
      ev("return string.format('%d %d %i', -0.5, 2^31, -2^40)"),
      ev("return string.format('%x %X %o %u', 2^40, 3000000000, 64, 42)"),
      ev("return string.format('%-+8.2f|% d|%+.0e|%#.0f', 3.14159, 42, 5, 3)"),
      ev("return string.format('%123d', 1)"),
      ev("return string.format('%------d', 1)"),
      ev("return KEYS[1] .. #KEYS[1]", "1", u),
      ev("return redis.call('set', KEYS[1], 'ünï')", "1", u),
      ev("return {redis.call('get', KEYS[1]), redis.call('strlen', KEYS[1])}", "1", u),
      ev("return redis.call('set', KEYS[1], -0.0)", "1", k("lua2:n")),
      ev("return redis.call('get', KEYS[1])", "1", k("lua2:n")),
      ev("return redis.call('set', KEYS[1], 2^53 + 1)", "1", k("lua2:n")),
      ev("return redis.call('get', KEYS[1])", "1", k("lua2:n")),
      ev("return redis.call('set', KEYS[1], 1/3)", "1", k("lua2:n")),
      ev("return redis.call('get', KEYS[1])", "1", k("lua2:n")),
      ev("return redis.call('set', KEYS[1], 1e100)", "1", k("lua2:n")),
      ev("return redis.call('get', KEYS[1])", "1", k("lua2:n")),
      ev("return redis.call('incrbyfloat', KEYS[1], 1.1)", "1", k("lua2:fl")),
      ev("return redis.call('zadd', KEYS[1], 1.5, 'a', '2', 'b')", "1", k("lua2:z")),
      ev("return redis.call('zscore', KEYS[1], 'a')", "1", k("lua2:z")),
      ev("return redis.call('zrange', KEYS[1], '-inf', '+inf', 'BYSCORE', 'LIMIT', 0, 1, 'WITHSCORES')", "1", k("lua2:z")),
      ev("return redis.call('time')[1] > '0'"),
      ev("return redis.call('lpop', KEYS[1])", "1", k("lua2:nolist")),
      ev("return redis.call('lpop', KEYS[1], 2)", "1", k("lua2:nolist")),
      ev("local r = redis.call('lpop', KEYS[1], 2); return type(r)", "1", k("lua2:nolist")),
      ev("return redis.call('hgetall', KEYS[1])", "1", k("lua2:nohash")),
      ev("return redis.pcall('evalsha', string.rep('a', 40), 0)"),
      ev("return redis.setresp(2)"),
      ev("return redis.setresp(4)"),
      ev("return redis.set_repl(redis.REPL_ALL)"),
      ev("return redis.replicate_commands()"),
      ev("return redis.sha1hex('héllo')"),
      ["set", k("lua2:plain"), "v"],
      { cmd: ["keys", `${P}lua2:?`], mode: "sorted" },
      { cmd: ["keys", `${P}lua2:??`], mode: "sorted" },
      { cmd: ["keys", `${P}lua2:[ü]`], mode: "sorted" },
      { cmd: ["keys", `${P}lua2:\\??`], mode: "sorted" },
      { cmd: ["keys", `${P}lua2:p*n`], mode: "sorted" },
      { cmd: ["keys", `${P}lua2:*l*i*`], mode: "sorted" },
    ]);
  });

  it("@upstash/ratelimit scripts (its actual Lua) give the same results", async () => {
    // Real Redis 7.0 rejects the `allow-key-locking` shebang flag these scripts carry (Upstash
    // accepts it); the engine accepts it. Redis gets the same scripts with a plain "#!lua" line.
    const forRedis = (script: string) => script.replace(/^#!lua flags=allow-key-locking/, "#!lua");
    const now = Date.now();
    const win = 10_000;
    const bucket = Math.floor(now / win);
    const [cur, prev, dyn, tb, fw, mw, sw, sw2, deny, denyStatus] = [
      k("rl:cur"), k("rl:prev"), k("rl:dyn"), k("rl:tb"), k("rl:fw"), k("rl:mw"), k("rl:sw"), k("rl:sw2"), k("rl:deny"), k("rl:denystatus"),
    ] as const;
    const mem = new MemoryBackend();
    const mismatches: unknown[] = [];
    const run = async (script: string, keys: string[], args: (string | number)[]) => {
      const tail = [String(keys.length), ...keys, ...args.map(String)];
      const a = await memOutcome(mem, ["eval", script, ...tail]);
      const b = await redisOutcome(redis!, ["eval", forRedis(script), ...tail]);
      try {
        expect(a).toEqual(b);
      } catch {
        mismatches.push({ script: script.slice(0, 80), keys, args, memory: a, redis: b });
      }
      return a;
    };
    try {
      // The hashes the library uses with EVALSHA are the SHA1 of these exact scripts.
      for (const [name, { script, hash }] of Object.entries(RATELIMIT_SCRIPTS)) {
        expect(await mem.command(["script", "load", script]), name).toBe(hash);
      }
      const S = RATELIMIT_SOURCES;
      for (let i = 0; i < 4; i++) await run(S.fixedWindowLimitScript!, [fw, ""], [3, win, 1]);
      await run(S.fixedWindowRemainingTokensScript!, [fw, ""], [3]);
      await run(S.fixedWindowLimitScript!, [fw, dyn], [3, win, 2]);
      await run(S.fixedWindowRemainingTokensScript!, [fw, dyn], [3]);
      await redis!.set(dyn, "10");
      await mem.command(["set", dyn, "10"]);
      await run(S.fixedWindowLimitScript!, [fw, dyn], [3, win, 1]);
      await run(S.fixedWindowRemainingTokensScript!, [fw, dyn], [3]);
      await run(S.fixedWindowRemainingTokensScript!, [k("rl:unused"), ""], [3]);
      for (const key of [fw]) {
        const [ra, rb] = [await mem.command(["pttl", key]), await redis!.pttl(key)];
        expect(Math.abs((ra as number) - rb)).toBeLessThan(1500);
      }
      await redis!.set(prev, "4");
      await mem.command(["set", prev, "4"]);
      for (let i = 0; i < 5; i++) await run(S.slidingWindowLimitScript!, [cur, prev, ""], [5, now, win, 1]);
      await run(S.slidingWindowLimitScript!, [cur, prev, ""], [5, now, win, -1]);
      await run(S.slidingWindowRemainingTokensScript!, [cur, prev, ""], [5, now, win]);
      await run(S.slidingWindowLimitScript!, [k("rl:cur2"), k("rl:prev2"), dyn], [5, now + 1234, win, 3]);
      for (let i = 0; i < 4; i++) await run(S.tokenBucketLimitScript!, [tb, ""], [3, win, 1, now, 1]);
      await run(S.tokenBucketRemainingTokensScript!, [tb, ""], [3]);
      await run(S.tokenBucketLimitScript!, [tb, ""], [3, win, 1, now + 2.5 * win, 1]);
      await run(S.tokenBucketLimitScript!, [tb, ""], [3, win, 1, now + 2.5 * win, 5]);
      await run(S.tokenBucketLimitScript!, [tb, ""], [3, 86_400_000, 1, now + 3 * 86_400_000, 1]);
      await run(S.tokenBucketRemainingTokensScript!, [tb, dyn], [3]);
      await run(S.tokenBucketRemainingTokensScript!, [k("rl:tbnone"), ""], [3]);
      await run(S.cachedFixedWindowLimitScript!, [k("rl:cfw"), ], [win, 1]);
      await run(S.cachedFixedWindowLimitScript!, [k("rl:cfw")], [win, 1]);
      await run(S.cachedFixedWindowRemainingTokenScript!, [k("rl:cfw")], []);
      await run(S.fixedWindowLimitScript2!, [mw], ["req-1", win, 1]);
      await run(S.fixedWindowLimitScript2!, [mw], ["req-2", win, 2]);
      await run(S.fixedWindowRemainingTokensScript2!, [mw], [null as unknown as string]);
      for (const id of ["a", "b", "c", "d"]) await run(S.slidingWindowLimitScript2!, [sw, sw2], [3, now, win, id, 1]);
      await run(S.slidingWindowRemainingTokensScript2!, [sw, sw2], [now, win]);
      await redis!.sadd(deny, "1.2.3.4", "bad");
      await mem.command(["sadd", deny, "1.2.3.4", "bad"]);
      await run(S.checkDenyListScript!, [deny, denyStatus], ["1.2.3.4", "good", "bad"]);
      await run(S.checkDenyListScript!, [deny, denyStatus], ["x"]);
      await run(S.resetScript!, [`${P}rl:*`], ["null"]);
      const [ka, kb] = [await mem.command(["keys", `${P}rl:*`]), await redis!.keys(`${P}rl:*`)];
      expect([ka, kb]).toEqual([[], []]);
      expect(bucket).toBeGreaterThan(0);
    } finally {
      await mem.close();
    }
    expect(mismatches).toEqual([]);
  });

  it("transactions: per-entry errors and EXECABORT, as MULTI/EXEC reports them", async () => {
    const [a, h] = [k("tx:a"), k("tx:h")];
    const mem = new MemoryBackend();
    try {
      const cmds = [["set", a, "1"], ["hset", h, "f", "v"], ["incr", h], ["incr", a], ["get", a], ["eval", "return redis.call('incr', KEYS[1])", "1", h]];
      const memResult = (await mem.transaction(cmds)).map((o) => ("error" in o ? { err: o.error } : { ok: o.result }));
      const redisResult = ((await redis!.multi(cmds.map((c) => ["callBuffer", ...c])).exec()) ?? []).map(([e, v]) =>
        e ? { err: e.message } : { ok: normalise(v) },
      );
      expect(memResult).toEqual(redisResult);

      const bad = [["set", a, "2"], ["nosuchcommand", "x"], ["get"]];
      const memError = await mem.transaction(bad).then(() => "no error", (e: Error) => e.message);
      const redisError = await redis!.multi(bad.map((c) => ["callBuffer", ...c])).exec().then(() => "no error", (e: Error) => e.message);
      expect(memError).toBe(redisError);
      expect(await mem.command(["get", a])).toBe(await redis!.get(a));
    } finally {
      await mem.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Engine-only tests (no real Redis needed)

describe("MemoryBackend: the Backend contract", () => {
  it("has the startup name and runs one command", async () => {
    const m = new MemoryBackend();
    expect(m.name).toBe("embedded (in-memory)");
    expect(await m.command(["SET", "a", "1"])).toBe("OK");
    expect(await m.command(["get", "a"])).toBe("1");
    await expect(m.command(["nope"])).rejects.toBeInstanceOf(CommandError);
    await expect(m.command(["get"])).rejects.toThrow("ERR wrong number of arguments for 'get' command");
    await m.close();
  });

  it("pipeline: every command runs, errors are per entry", async () => {
    const m = new MemoryBackend();
    const out = await m.pipeline([["set", "a", "x"], ["incr", "a"], ["get", "a"], ["nope"], ["hget", "a", "f"]]);
    expect(out).toEqual([
      { result: "OK" },
      { error: "ERR value is not an integer or out of range" },
      { result: "x" },
      { error: "ERR unknown command 'nope', with args beginning with: " },
      { error: "WRONGTYPE Operation against a key holding the wrong kind of value" },
    ]);
    await m.close();
  });

  it("transaction: queue-time errors discard everything; runtime errors are per entry", async () => {
    const m = new MemoryBackend();
    await expect(m.transaction([["set", "a", "1"], ["get"]])).rejects.toThrow(
      "EXECABORT Transaction discarded because of previous errors.",
    );
    await expect(m.transaction([["set", "a", "1"], ["script", "nope"]])).rejects.toBeInstanceOf(CommandError);
    expect(await m.command(["exists", "a"])).toBe(0);
    expect(await m.transaction([["set", "a", "1"], ["lpush", "a", "x"], ["incr", "a"]])).toEqual([
      { result: "OK" },
      { error: "WRONGTYPE Operation against a key holding the wrong kind of value" },
      { result: 2 },
    ]);
    await m.close();
  });

  it("runs everything synchronously: concurrent requests never interleave inside a batch", async () => {
    const m = new MemoryBackend();
    const incrs = Array.from({ length: 50 }, () => ["incr", "n"]);
    const [a, b] = await Promise.all([m.transaction(incrs), m.pipeline(incrs)]);
    expect(a.map((o) => ("result" in o ? o.result : o.error))).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(b.map((o) => ("result" in o ? o.result : o.error))).toEqual(Array.from({ length: 50 }, (_, i) => i + 51));
    await m.close();
  });

  it("close() stops the periodic sweep timer", async () => {
    vi.useFakeTimers();
    try {
      const before = vi.getTimerCount();
      const m = new MemoryBackend({ sweepIntervalMs: 50 });
      expect(vi.getTimerCount()).toBe(before + 1);
      await m.close();
      expect(vi.getTimerCount()).toBe(before);
    } finally {
      vi.useRealTimers();
    }
  });

  it("the periodic sweep removes expired keys nobody reads, in bounded batches", async () => {
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    try {
      let now = 1_000_000;
      const m = new MemoryBackend({ now: () => now, sweepIntervalMs: 100 });
      const entries = () => (m as unknown as { db: { entries: Map<string, unknown> } }).db.entries.size;
      const keys = Array.from({ length: 2500 }, (_, i) => `k${i}`);
      await m.pipeline(keys.map((key) => ["set", key, "v", "px", "10"]));
      await m.command(["set", "keep", "v", "px", "100000"]);
      expect(entries()).toBe(2501);
      now += 11;
      vi.advanceTimersByTime(100);
      expect(entries()).toBe(1501);
      vi.advanceTimersByTime(300);
      expect(entries()).toBe(1);
      await m.close();
    } finally {
      vi.useRealTimers();
    }
  });

  it("FLUSHDB, FLUSHALL, DBSIZE, TIME (from the injected clock)", async () => {
    let now = 1_700_000_000_123;
    const m = new MemoryBackend({ now: () => now });
    await m.pipeline([["set", "a", "1"], ["set", "b", "2", "px", "10"], ["sadd", "s", "x"]]);
    expect(await m.command(["dbsize"])).toBe(3);
    now += 11;
    expect(await m.command(["dbsize"])).toBe(2);
    expect(await m.command(["time"])).toEqual(["1700000000", "134000"]);
    expect(await m.command(["flushdb", "sync"])).toBe("OK");
    expect(await m.command(["dbsize"])).toBe(0);
    await m.command(["set", "a", "1"]);
    await expect(m.command(["flushall", "now"])).rejects.toThrow("ERR syntax error");
    expect(await m.command(["FLUSHALL", "ASYNC"])).toBe("OK");
    expect(await m.command(["keys", "*"])).toEqual([]);
    await m.close();
  });
});

describe("MemoryBackend: expiry with an injected clock", () => {
  const setup = () => {
    const clock = { now: 1_000_000 };
    return { clock, m: new MemoryBackend({ now: () => clock.now }) };
  };

  it("a key lives until its expiry time has passed, then disappears everywhere", async () => {
    const { clock, m } = setup();
    await m.command(["set", "k", "v", "px", "100"]);
    await m.command(["set", "other", "v"]);
    clock.now += 100;
    expect(await m.command(["pttl", "k"])).toBe(0);
    expect(await m.command(["get", "k"])).toBe("v");
    clock.now += 1;
    expect(await m.command(["get", "k"])).toBeNull();
    expect(await m.command(["ttl", "k"])).toBe(-2);
    expect(await m.command(["exists", "k"])).toBe(0);
    expect(await m.command(["keys", "*"])).toEqual(["other"]);
    expect(await m.command(["scan", "0"])).toEqual(["0", ["other"]]);
    expect(await m.command(["set", "k", "new", "nx"])).toBe("OK");
    expect(await m.command(["ttl", "k"])).toBe(-1);
    await m.close();
  });

  it("TTL rounds to the nearest second, PTTL is exact", async () => {
    const { clock, m } = setup();
    await m.command(["set", "k", "v", "ex", "10"]);
    expect(await m.command(["ttl", "k"])).toBe(10);
    clock.now += 4_499;
    expect(await m.command(["pttl", "k"])).toBe(5_501);
    expect(await m.command(["ttl", "k"])).toBe(6);
    clock.now += 2;
    expect(await m.command(["ttl", "k"])).toBe(5);
    await m.close();
  });

  it("EXPIRE family: relative and absolute times, options, past times delete", async () => {
    const { clock, m } = setup();
    await m.command(["set", "k", "v"]);
    expect(await m.command(["pexpireat", "k", String(clock.now + 5_000)])).toBe(1);
    expect(await m.command(["pttl", "k"])).toBe(5_000);
    expect(await m.command(["expire", "k", "3", "gt"])).toBe(0);
    expect(await m.command(["expire", "k", "3", "lt"])).toBe(1);
    expect(await m.command(["pttl", "k"])).toBe(3_000);
    expect(await m.command(["expireat", "k", String(clock.now / 1000 + 60)])).toBe(1);
    expect(await m.command(["ttl", "k"])).toBe(60);
    expect(await m.command(["persist", "k"])).toBe(1);
    expect(await m.command(["expire", "k", "10", "xx"])).toBe(0);
    expect(await m.command(["pexpireat", "k", String(clock.now)])).toBe(1);
    expect(await m.command(["exists", "k"])).toBe(0);
    await m.close();
  });

  it("SET / GETEX with EXAT / PXAT in the past remove the key; KEEPTTL, INCR, APPEND keep the TTL", async () => {
    const { clock, m } = setup();
    const past = String(Math.floor(clock.now / 1000) - 1);
    expect(await m.command(["set", "k", "v", "exat", past])).toBe("OK");
    expect(await m.command(["exists", "k"])).toBe(0);
    await m.command(["set", "k", "v"]);
    expect(await m.command(["getex", "k", "pxat", String(clock.now - 1)])).toBe("v");
    expect(await m.command(["exists", "k"])).toBe(0);
    await m.command(["set", "n", "1", "px", "1000"]);
    await m.command(["incr", "n"]);
    await m.command(["append", "n", "0"]);
    await m.command(["incrbyfloat", "n", "0.5"]);
    await m.command(["set", "n", "x", "keepttl"]);
    expect(await m.command(["pttl", "n"])).toBe(1000);
    await m.command(["set", "n", "y"]);
    expect(await m.command(["pttl", "n"])).toBe(-1);
    await m.command(["hset", "h", "f", "1"]);
    await m.command(["pexpire", "h", "500"]);
    await m.command(["hset", "h", "g", "2"]);
    await m.command(["rename", "h", "h2"]);
    expect(await m.command(["pttl", "h2"])).toBe(500);
    clock.now += 501;
    expect(await m.command(["hgetall", "h2"])).toEqual([]);
    await m.close();
  });

  it("time is frozen while a script runs (keys cannot expire mid-script)", async () => {
    let now = 1_000_000;
    const m = new MemoryBackend({ now: () => (now += 3) });
    await m.command(["set", "k", "v", "px", "5"]);
    const script = "return {redis.call('get', KEYS[1]), redis.call('get', KEYS[1]), redis.call('pttl', KEYS[1])}";
    expect(await m.command(["eval", script, "1", "k"])).toEqual(["v", "v", 2]);
    expect(await m.command(["get", "k"])).toBeNull();
    await m.close();
  });
});

describe("MemoryBackend: SCAN family", () => {
  it("a full iteration returns every key present throughout, even while keys are deleted", async () => {
    const m = new MemoryBackend();
    const keys = Array.from({ length: 1000 }, (_, i) => `key:${i}`);
    await m.command(["mset", ...keys.flatMap((key) => [key, "v"])]);
    const seen: string[] = [];
    let cursor = "0";
    do {
      const [next, batch] = (await m.command(["scan", cursor, "count", "37"])) as [string, string[]];
      seen.push(...batch);
      if (batch.length) await m.command(["del", ...batch]);
      await m.command(["set", `added:${cursor}`, "v"]);
      cursor = next;
    } while (cursor !== "0");
    expect(new Set(seen.filter((key) => key.startsWith("key:")))).toEqual(new Set(keys));
    expect(seen.filter((key) => key.startsWith("key:")).length).toBe(1000);
    await m.close();
  });

  it("HSCAN/SSCAN/ZSCAN page through large containers with COUNT and MATCH", async () => {
    const m = new MemoryBackend();
    const fields = Array.from({ length: 500 }, (_, i) => `f${i}`);
    await m.command(["hset", "h", ...fields.flatMap((f) => [f, "x"])]);
    await m.command(["sadd", "s", ...fields]);
    await m.command(["zadd", "z", ...fields.flatMap((f, i) => [String(i), f])]);
    for (const [cmd, step] of [["hscan", 2], ["sscan", 1], ["zscan", 2]] as const) {
      const seen = new Set<string>();
      let cursor = "0";
      let calls = 0;
      do {
        const [next, items] = (await m.command([cmd, cmd[0] === "h" ? "h" : cmd[0]!, cursor, "count", "50", "match", "f1*"])) as [string, string[]];
        for (let i = 0; i < items.length; i += step) seen.add(items[i]!);
        cursor = next;
        calls++;
      } while (cursor !== "0");
      expect(calls).toBeGreaterThan(5);
      expect(seen).toEqual(new Set(fields.filter((f) => f.startsWith("f1"))));
    }
    await m.close();
  });
});

describe("MemoryBackend: scripting details", () => {
  it("SCRIPT FLUSH forgets scripts; EVAL caches them for EVALSHA", async () => {
    const m = new MemoryBackend();
    const body = "return ARGV[1] .. '!'";
    const sha = createHash("sha1").update(body).digest("hex");
    expect(await m.command(["eval", body, "0", "hi"])).toBe("hi!");
    expect(await m.command(["evalsha", sha, "0", "yo"])).toBe("yo!");
    expect(await m.command(["script", "flush"])).toBe("OK");
    expect(await m.command(["script", "exists", sha])).toEqual([0]);
    await expect(m.command(["evalsha", sha, "0"])).rejects.toThrow("NOSCRIPT No matching script. Please use EVAL.");
    expect(await m.command(["script", "load", body])).toBe(sha);
    expect(await m.command(["evalsha", sha, "0", "again"])).toBe("again!");
    await m.close();
  });

  it("accepts @upstash/ratelimit's `allow-key-locking` shebang flag (Upstash does, Redis 7.0 does not)", async () => {
    const m = new MemoryBackend();
    expect(await m.command(["eval", "#!lua flags=allow-key-locking\nreturn 1", "0"])).toBe(1);
    await m.close();
  });

  it("a JS exception inside a script (an engine bug) is thrown, not turned into a command error", async () => {
    const scripting = new LuaScripting(() => {
      throw new TypeError("engine bug");
    });
    const ctx = { db: undefined as never, scripting };
    expect(() => scripting.eval(ctx, "return redis.call('get', 'x')", [], [])).toThrow(TypeError);
    expect(() => scripting.eval(ctx, "return pcall(redis.call, 'get', 'x')", [], [])).toThrow("engine bug");
    expect(scripting.eval(ctx, "return 'still works'", [], [])).toBe("still works");
    expect(() => scripting.eval(ctx, "return redis.call('get')", [], [])).toThrow("engine bug");
  });

  it("Lua numbers are doubles, converted to integers as Redis does", async () => {
    const m = new MemoryBackend();
    expect(await m.command(["eval", "return 100000 * 100000", "0"])).toBe(10_000_000_000);
    expect(await m.command(["eval", "return 1e20", "0"])).toBe(-9223372036854775808);
    expect(await m.command(["eval", "return -7.9", "0"])).toBe(-7);
    expect(await m.command(["eval", "return {1, {err='nested'}, {ok='fine'}}", "0"])).toEqual([1, "nested", "fine"]);
    await m.close();
  });

  it("works with the @upstash/ratelimit library itself (EVALSHA, NOSCRIPT fallback to EVAL)", async () => {
    const { Ratelimit } = await import("@upstash/ratelimit");
    const m = new MemoryBackend();
    const run = async (cmd: string, scriptOrSha: string, keys: string[], args: unknown[]) =>
      m.command([cmd, scriptOrSha, String(keys.length), ...keys, ...args.map(String)]);
    const client = {
      evalsha: (sha: string, keys: string[], args: unknown[]) => run("evalsha", sha, keys, args),
      eval: (script: string, keys: string[], args: unknown[]) => run("eval", script, keys, args),
    };
    for (const limiter of [Ratelimit.fixedWindow(3, "10 s"), Ratelimit.slidingWindow(3, "10 s"), Ratelimit.tokenBucket(1, "10 s", 3)]) {
      const rl = new Ratelimit({ redis: client as never, limiter, prefix: `rl${Math.random()}` });
      const results = [];
      for (let i = 0; i < 4; i++) results.push((await rl.limit("user")).success);
      expect(results).toEqual([true, true, true, false]);
      const remaining = await rl.getRemaining("user");
      expect(remaining.remaining).toBe(0);
    }
    await m.close();
  });
});
