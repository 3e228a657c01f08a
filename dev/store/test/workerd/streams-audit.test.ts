/**
 * What an audit trail kept in a stream needs from the local store, through the real
 * @upstash/redis client inside workerd, on both backends (`npm test` runs the file against the
 * embedded engine and, with REDIS_URL, against a real Redis): appends from a Lua script with
 * time-based retention, reads by time with exclusive bounds and COUNT pages, the reply shape
 * on the wire (plain and base64), Redis' errors, and keyspace commands on stream keys.
 */
import { env } from "cloudflare:test";
import { Redis } from "@upstash/redis/cloudflare";
import { afterAll, describe, expect, it } from "vitest";

const URL_ = env.UPSTASH_REDIS_REST_URL;
const TOKEN = env.UPSTASH_REDIS_REST_TOKEN;
const BACKEND = env.STORE_BACKEND;

const redis = new Redis({ url: URL_, token: TOKEN });

const prefix = `streams-audit:${crypto.randomUUID()}:`;
const used = new Set<string>();
const key = (name: string) => {
  const k = prefix + name;
  used.add(k);
  return k;
};

async function raw(command: unknown[], headers: Record<string, string> = {}) {
  const res = await fetch(URL_, {
    method: "POST",
    headers: { Authorization: `Bearer ${TOKEN}`, "Content-Type": "application/json", ...headers },
    body: JSON.stringify(command),
  });
  return { status: res.status, json: (await res.json()) as { result?: unknown; error?: string } };
}

/** base64 of the UTF-8 bytes of s. */
const b64 = (s: string) => btoa(String.fromCharCode(...new TextEncoder().encode(s)));

const WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value";

afterAll(async () => {
  const all = [...used];
  for (let i = 0; i < all.length; i += 100) await raw(["del", ...all.slice(i, i + 100)]);
});

/** Appends one event and drops events older than the retention window (ARGV[1]: oldest ms kept). */
const APPEND = `
local id = redis.call('XADD', KEYS[1], 'MINID', '=', ARGV[1], ARGV[2], 'event', ARGV[3], 'actor', ARGV[4])
return {id, redis.call('XLEN', KEYS[1])}`;

describe(`audit trail in a stream (${BACKEND})`, () => {
  // Fixed event times, so both backends and every run see the same IDs.
  const base = 1_700_000_000_000;
  const at = (s: number) => String(base + s * 1000);

  it("appends from Lua with time-based retention, then reads by time", async () => {
    const k = key("trail");
    const append = redis.createScript<[string, number]>(APPEND);
    const results = [];
    // Two events a second for 10 s; each append keeps the events of the last 5 s and its own
    // (MINID = now - 5 s, exact): at 9 s, those of 4 s to 9 s.
    for (let s = 0; s < 10; s++)
      for (const actor of ["alice", "bob"]) results.push(await append.exec([k], [at(Math.max(0, s - 5)), `${at(s)}-*`, `login:${s}`, actor]));
    expect(results.slice(0, 2)).toEqual([[`${at(0)}-0`, 1], [`${at(0)}-1`, 2]]);
    expect(results[19]).toEqual([`${at(9)}-1`, 12]);
    const all = await redis.xrange(k, "-", "+");
    expect(Object.keys(all)[0]).toBe(`${at(4)}-0`);
    expect(all[`${at(9)}-1`]).toEqual({ event: "login:9", actor: "bob" });

    // By time: an ID without sequence covers its whole millisecond at both ends.
    expect(Object.keys(await redis.xrange(k, at(6), at(7)))).toEqual([`${at(6)}-0`, `${at(6)}-1`, `${at(7)}-0`, `${at(7)}-1`]);
    // Exclusive bounds: strictly after one entry; strictly before a time is `(<ms>-0`, since
    // `(<ms>` as an end only leaves out `<ms>-<2^64-1>`.
    expect(Object.keys(await redis.xrange(k, `(${at(6)}-0`, `(${at(7)}-0`))).toEqual([`${at(6)}-1`]);
    expect(Object.keys(await redis.xrange(k, `(${at(6)}-1`, `(${at(7)}-0`))).toEqual([]);
    expect(Object.keys(await redis.xrevrange(k, `(${at(9)}-0`, at(8)))).toEqual([`${at(8)}-1`, `${at(8)}-0`]);
    expect(Object.keys(await redis.xrevrange(k, `(${at(9)}`, `(${at(8)}-1`))).toEqual([`${at(9)}-1`, `${at(9)}-0`]);

    // Pages of 3, resuming after the last ID seen: every entry once, in order.
    const pages: string[][] = [];
    let from = "-";
    for (;;) {
      const page = Object.keys(await redis.xrange(k, from, "+", 3));
      if (page.length === 0) break;
      pages.push(page);
      from = `(${page[page.length - 1]}`;
    }
    expect(pages.map((p) => p.length)).toEqual([3, 3, 3, 3]);
    expect(pages.flat()).toEqual(Object.keys(all));
    // Newest first, the same way backwards.
    const newest = Object.keys(await redis.xrevrange(k, "+", "-", 3));
    const older = Object.keys(await redis.xrevrange(k, `(${newest[2]}`, "-", 3));
    expect([...newest, ...older]).toEqual(Object.keys(all).reverse().slice(0, 6));
  });

  it("a script gets stream replies as nested tables, and returns them nested", async () => {
    const k = key("lua-read");
    await redis.xadd(k, `${at(1)}-0`, { event: "a", actor: "x" });
    await redis.xadd(k, `${at(2)}-0`, { event: "b", actor: "y" });
    const read = `local r = redis.call('XRANGE', KEYS[1], ARGV[1], '+', 'COUNT', 1)
      return {r[1][1], r[1][2][1], r[1][2][2], #r, redis.call('XRANGE', KEYS[1], '-', '+')}`;
    expect(await redis.eval(read, [k], [`(${at(1)}-0`])).toEqual([
      `${at(2)}-0`, "event", "b", 1,
      [[`${at(1)}-0`, ["event", "a", "actor", "x"]], [`${at(2)}-0`, ["event", "b", "actor", "y"]]],
    ]);
    // COUNT 0 is a null reply: false in Lua.
    expect(await redis.eval("return type(redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 0))", [k], [])).toBe("boolean");
  });

  it("the wire shape: [[id, [field, value, ...]], ...], base64 at every depth when asked", async () => {
    const k = key("wire");
    await raw(["xadd", k, "5-1", "actor", "zoë", "note", "aGVsbG8="]);
    await raw(["xadd", k, "5-2", "n", "1"]);
    expect((await raw(["xrange", k, "-", "+"])).json).toEqual({ result: [["5-1", ["actor", "zoë", "note", "aGVsbG8="]], ["5-2", ["n", "1"]]] });
    const enc = await raw(["xrevrange", k, "+", "-", "COUNT", 1], { "Upstash-Encoding": "base64" });
    expect(enc.json).toEqual({ result: [[b64("5-2"), [b64("n"), b64("1")]]] });
    expect((await raw(["xrange", k, "-", "+", "COUNT", 0])).json).toEqual({ result: null });
    expect((await raw(["xrange", key("wire-missing"), "-", "+"])).json).toEqual({ result: [] });
    expect((await raw(["xlen", k], { "Upstash-Encoding": "base64" })).json).toEqual({ result: 2 });
    expect((await raw(["xadd", k, "7-*", "a", "b"], { "Upstash-Encoding": "base64" })).json).toEqual({ result: b64("7-0") });
  });

  it("Redis' errors: IDs, WRONGTYPE, options", async () => {
    const k = key("errors");
    await redis.xadd(k, "10-5", { a: "1" });
    const error = async (command: unknown[]) => {
      const r = await raw(command);
      expect(r.status).toBe(400);
      return r.json.error;
    };
    expect(await error(["xadd", k, "10-5", "a", "1"])).toBe("ERR The ID specified in XADD is equal or smaller than the target stream top item");
    expect(await error(["xadd", k, "9-*", "a", "1"])).toBe("ERR The ID specified in XADD is equal or smaller than the target stream top item");
    expect(await error(["xadd", k, "0-0", "a", "1"])).toBe("ERR The ID specified in XADD must be greater than 0-0");
    for (const bad of [["xadd", k, "1-x", "a", "1"], ["xrange", k, "(-", "+"], ["xrange", k, "-", "10-"], ["xdel", k, "abc"], ["xtrim", k, "MINID", "+"]])
      expect(await error(bad)).toBe("ERR Invalid stream ID specified as stream command argument");
    expect(await error(["xrange", k, "-", "(0-0"])).toBe("ERR invalid end ID for the interval");
    expect(await error(["xtrim", k, "MAXLEN", "=", "1", "LIMIT", "5"])).toBe("ERR syntax error, LIMIT cannot be used without the special ~ option");
    expect(await error(["xadd", k, "*", "a"])).toBe("ERR wrong number of arguments for 'xadd' command");
    const str = key("a-string");
    await redis.set(str, "v");
    for (const command of [["xadd", str, "*", "a", "1"], ["xrange", str, "-", "+"], ["xlen", str], ["xdel", str, "1-1"], ["xtrim", str, "MAXLEN", "0"]])
      expect(await error(command)).toBe(WRONGTYPE);
    expect(await error(["get", k])).toBe(WRONGTYPE);
    await expect(redis.xadd(k, "10-5", { a: "1" })).rejects.toThrow("equal or smaller than the target stream top item");
    await expect(redis.xlen(str)).rejects.toThrow(WRONGTYPE);
  });

  it("keyspace commands on stream keys: TYPE, EXPIRE/TTL, SCAN TYPE, DEL", async () => {
    const [s, other] = [key("ks-stream"), key("ks-string")];
    await redis.xadd(s, "*", { a: "1" });
    await redis.set(other, "v");
    expect(await redis.type(s)).toBe("stream");
    expect(await redis.expire(s, 300)).toBe(1);
    const ttl = await redis.ttl(s);
    expect(ttl).toBeGreaterThan(290);
    expect(ttl).toBeLessThanOrEqual(300);
    const found: string[] = [];
    let cursor: string | number = "0";
    do {
      const [next, keys]: [string | number, string[]] = await redis.scan(cursor, { match: `${prefix}ks-*`, type: "stream", count: 1000 });
      found.push(...keys);
      cursor = next;
    } while (String(cursor) !== "0");
    expect(found).toEqual([s]);
    expect(await redis.del(s)).toBe(1);
    expect(await redis.exists(s)).toBe(0);
    expect(await redis.xlen(s)).toBe(0);
  });
});
