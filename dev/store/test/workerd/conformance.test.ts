/**
 * Conformance of the local store with the Upstash REST protocol, checked from inside workerd with
 * the real @upstash/redis client in its default configuration (base64 responses, auto-pipelining).
 * `npm test` runs this file twice: against the embedded backend and against a real Redis
 * (REDIS_URL); both must behave the same.
 *
 * The Redis is shared with other test files and runs: every key lives under a random prefix and is
 * deleted afterwards; nothing is flushed. Fault and latency tests use a private sibling instance
 * (`POST /_instances`) so they never disturb concurrently running files.
 */
import { env } from "cloudflare:test";
import { errors, Redis } from "@upstash/redis/cloudflare";
import { afterAll, describe, expect, it } from "vitest";

const URL_ = env.UPSTASH_REDIS_REST_URL;
const TOKEN = env.UPSTASH_REDIS_REST_TOKEN;
const CONTROL = env.STORE_CONTROL_URL;
const BACKEND = env.STORE_BACKEND;

const redis = new Redis({ url: URL_, token: TOKEN });

const prefix = `conformance:${crypto.randomUUID()}:`;
const used = new Set<string>();
/** A key under this run's prefix, removed after the file. */
const key = (name: string) => {
  const k = prefix + name;
  used.add(k);
  return k;
};

const auth = { Authorization: `Bearer ${TOKEN}` };

/** A raw request to the store (no client), JSON-decoded when possible. */
async function raw(path: string, init: RequestInit & { base?: string } = {}) {
  const res = await fetch((init.base ?? URL_) + path, { method: "POST", ...init, headers: { ...auth, "Content-Type": "application/json", ...(init.headers ?? {}) } });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json, headers: res.headers };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function sha1(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-1", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

afterAll(async () => {
  const all = [...used];
  for (let i = 0; i < all.length; i += 100) await raw("/", { body: JSON.stringify(["del", ...all.slice(i, i + 100)]) });
});

describe(`local store (${BACKEND})`, () => {
  it("reports which backend it runs on", () => {
    expect(BACKEND).toMatch(/^(embedded \(in-memory\)|redis:\/\/)/);
  });

  describe("strings and values", () => {
    it("round-trips unicode, JSON objects, numbers, empty and base64-looking strings", async () => {
      const values: [string, unknown][] = [
        ["unicode", "héllo wörld — 日本語 🎉"],
        ["object", { id: 7, name: "Zoë", nested: { list: [1, "two", null, true] } }],
        ["array", [1, 2, 3]],
        ["int", 42],
        ["float", 1.5],
        ["negative", -3],
        ["empty", ""],
        ["b64", "aGVsbG8="],
        ["ok", "OK"],
        ["bool", true],
      ];
      for (const [name, value] of values) expect(await redis.set(key(name), value)).toBe("OK");
      for (const [name, value] of values) expect(await redis.get(key(name))).toEqual(value);
      expect(await redis.mget(key("unicode"), key("missing"), key("int"))).toEqual(["héllo wörld — 日本語 🎉", null, 42]);
    });

    it("answers null for a missing key", async () => {
      expect(await redis.get(key("nothing"))).toBeNull();
      expect(await redis.getdel(key("nothing"))).toBeNull();
    });

    it("SET with EX, PX, NX and GET", async () => {
      const k = key("set-opts");
      expect(await redis.set(k, "a", { ex: 100 })).toBe("OK");
      const ttl = await redis.ttl(k);
      expect(ttl).toBeGreaterThan(95);
      expect(ttl).toBeLessThanOrEqual(100);
      expect(await redis.set(k, "b", { px: 50_000 })).toBe("OK");
      const pttl = await redis.pttl(k);
      expect(pttl).toBeGreaterThan(45_000);
      expect(pttl).toBeLessThanOrEqual(50_000);
      expect(await redis.set(k, "c", { nx: true })).toBeNull();
      expect(await redis.get(k)).toBe("b");
      expect(await redis.set(key("set-nx"), "fresh", { nx: true })).toBe("OK");
      expect(await redis.set(k, "d", { get: true })).toBe("b");
      expect(await redis.get(k)).toBe("d");
      expect(await redis.ttl(k)).toBe(-1); // a plain SET clears the expiry
      expect(await redis.set(key("set-get-missing"), "x", { get: true })).toBeNull();
    });

    it("expires keys (PX) and TTL/PTTL report -2 / -1", async () => {
      const k = key("short");
      await redis.set(k, "soon", { px: 60 });
      expect(await redis.get(k)).toBe("soon");
      await sleep(150);
      expect(await redis.get(k)).toBeNull();
      expect(await redis.ttl(k)).toBe(-2);
      expect(await redis.pttl(k)).toBe(-2);
      await redis.set(k, "forever");
      expect(await redis.ttl(k)).toBe(-1);
      expect(await redis.pttl(k)).toBe(-1);
    });

    it("GETDEL and GETEX", async () => {
      const k = key("getdel");
      await redis.set(k, { a: 1 });
      expect(await redis.getdel(k)).toEqual({ a: 1 });
      expect(await redis.exists(k)).toBe(0);
      const g = key("getex");
      await redis.set(g, "v");
      expect(await redis.getex(g, { ex: 200 })).toBe("v");
      expect(await redis.ttl(g)).toBeGreaterThan(190);
      expect(await redis.getex(g, { px: 9000 })).toBe("v");
      expect(await redis.pttl(g)).toBeLessThanOrEqual(9000);
      expect(await redis.getex(g, { persist: true })).toBe("v");
      expect(await redis.ttl(g)).toBe(-1);
      expect(await redis.getex(key("getex-missing"), { ex: 10 })).toBeNull();
    });

    it("EXPIRE, PEXPIRE, TTL, PTTL, PERSIST", async () => {
      const k = key("expire");
      expect(await redis.expire(k, 10)).toBe(0); // no such key
      await redis.set(k, "v");
      expect(await redis.expire(k, 300)).toBe(1);
      expect(await redis.ttl(k)).toBeGreaterThan(290);
      expect(await redis.pexpire(k, 120_000)).toBe(1);
      const p = await redis.pttl(k);
      expect(p).toBeGreaterThan(110_000);
      expect(p).toBeLessThanOrEqual(120_000);
      expect(await redis.ttl(k)).toBeLessThanOrEqual(120);
      expect(await redis.persist(k)).toBe(1);
      expect(await redis.ttl(k)).toBe(-1);
    });

    it("DEL and UNLINK of many keys", async () => {
      const many = Array.from({ length: 30 }, (_, i) => key(`many-${i}`));
      await redis.mset(Object.fromEntries(many.map((k, i) => [k, i])));
      expect(await redis.exists(...many)).toBe(30);
      expect(await redis.del(...many.slice(0, 20), key("not-there"))).toBe(20);
      expect(await redis.unlink(...many.slice(20), key("not-there"))).toBe(10);
      expect(await redis.exists(...many)).toBe(0);
    });

    it("INCR, INCRBY, DECR, and an increment of a non-integer fails", async () => {
      const k = key("counter");
      expect(await redis.incr(k)).toBe(1);
      expect(await redis.incr(k)).toBe(2);
      expect(await redis.incrby(k, 40)).toBe(42);
      expect(await redis.decr(k)).toBe(41);
      expect(await redis.get(k)).toBe(41);
      const s = key("not-a-number");
      await redis.set(s, "abc");
      await expect(redis.incr(s)).rejects.toThrow(/ERR value is not an integer or out of range/);
    });
  });

  describe("sets, sorted sets, hashes", () => {
    it("sets", async () => {
      const k = key("set");
      expect(await redis.sadd(k, "a", "b", "c", "ü")).toBe(4);
      expect(await redis.sadd(k, "a")).toBe(0);
      expect(await redis.scard(k)).toBe(4);
      expect(await redis.sismember(k, "ü")).toBe(1);
      expect(await redis.sismember(k, "z")).toBe(0);
      expect((await redis.smembers(k)).sort()).toEqual(["a", "b", "c", "ü"]);
      expect(await redis.srem(k, "a", "z")).toBe(1);
      expect((await redis.smembers(k)).sort()).toEqual(["b", "c", "ü"]);
      expect(await redis.smembers(key("no-set"))).toEqual([]);
    });

    it("sorted sets, including ZRANGE BYSCORE", async () => {
      const k = key("zset");
      expect(await redis.zadd(k, { score: 1, member: "one" }, { score: 2, member: "two" }, { score: 3, member: "three" }, { score: 2.5, member: "two-and-a-half" })).toBe(4);
      expect(await redis.zcard(k)).toBe(4);
      expect(await redis.zrange(k, 0, -1)).toEqual(["one", "two", "two-and-a-half", "three"]);
      expect(await redis.zrange(k, 0, 1, { withScores: true })).toEqual(["one", 1, "two", 2]);
      expect(await redis.zrange(k, 2, 3, { byScore: true })).toEqual(["two", "two-and-a-half", "three"]);
      expect(await redis.zrange(k, "(2", "+inf", { byScore: true })).toEqual(["two-and-a-half", "three"]);
      expect(await redis.zrange(k, "-inf", 2.5, { byScore: true, withScores: true })).toEqual(["one", 1, "two", 2, "two-and-a-half", 2.5]);
      expect(await redis.zrange(k, "+inf", "-inf", { byScore: true, rev: true, offset: 0, count: 2 })).toEqual(["three", "two-and-a-half"]);
      expect(await redis.zscore(k, "two-and-a-half")).toBe(2.5);
      expect(await redis.zscore(k, "nobody")).toBeNull();
      expect(await redis.zrank(k, "three")).toBe(3);
      expect(await redis.zincrby(k, 10, "one")).toBe(11);
      expect(await redis.zrange(k, -1, -1)).toEqual(["one"]);
      expect(await redis.zrem(k, "one", "nobody")).toBe(1);
      expect(await redis.zadd(k, { nx: true }, { score: 99, member: "two" })).toBe(0);
      expect(await redis.zscore(k, "two")).toBe(2);
      // JSON members round-trip.
      const j = key("zset-json");
      await redis.zadd(j, { score: 1, member: { id: 1 } }, { score: 2, member: { id: 2 } });
      expect(await redis.zrange(j, 0, -1)).toEqual([{ id: 1 }, { id: 2 }]);
    });

    it("hashes, including HGETALL", async () => {
      const k = key("hash");
      expect(await redis.hset(k, { name: "Zoë", age: 30, profile: { tags: ["a", "b"] }, "2": "two", "1": "one" })).toBe(5);
      expect(await redis.hget(k, "name")).toBe("Zoë");
      expect(await redis.hget(k, "age")).toBe(30);
      expect(await redis.hget(k, "missing")).toBeNull();
      expect(await redis.hgetall(k)).toEqual({ name: "Zoë", age: 30, profile: { tags: ["a", "b"] }, "2": "two", "1": "one" });
      expect(await redis.hmget(k, "name", "nope")).toEqual({ name: "Zoë", nope: null });
      expect(await redis.hlen(k)).toBe(5);
      expect(await redis.hincrby(k, "age", 2)).toBe(32);
      expect(await redis.hexists(k, "age")).toBe(1);
      expect(await redis.hdel(k, "age", "nope")).toBe(1);
      expect((await redis.hkeys(k)).sort()).toEqual([1, 2, "name", "profile"]); // the client JSON-parses fields too
      expect(await redis.hgetall(key("no-hash"))).toBeNull();
    });

    it("type errors come back as errors", async () => {
      const k = key("a-string");
      await redis.set(k, "v");
      await expect(redis.hget(k, "f")).rejects.toThrow(/WRONGTYPE/);
      await expect(redis.sadd(k, "m")).rejects.toThrow(/WRONGTYPE/);
    });
  });

  describe("batches", () => {
    it("a pipeline with a failing command in the middle: the others still run", async () => {
      const s = key("pipe-string");
      const n = key("pipe-counter");
      await redis.set(s, "text");

      // exec() rejects on the first failed entry, naming it…
      const p = redis.pipeline();
      p.set(key("pipe-a"), "1");
      p.hget(s, "f");
      p.incr(n);
      await expect(p.exec()).rejects.toThrow("Command 2 [ hget ] failed: WRONGTYPE Operation against a key holding the wrong kind of value");
      // …but the store ran all three.
      expect(await redis.get(key("pipe-a"))).toBe(1);
      expect(await redis.get(n)).toBe(1);

      // keepErrors: every entry, in order, with its own outcome.
      const q = redis.pipeline();
      q.incr(n);
      q.incr(s);
      q.get(n);
      expect(await q.exec({ keepErrors: true })).toEqual([
        { error: undefined, result: 2 },
        { error: "ERR value is not an integer or out of range", result: undefined },
        { error: undefined, result: 2 },
      ]);
    });

    it("auto-pipelined calls in one tick share a batch; a failure only rejects its own call", async () => {
      const h = key("auto-hash");
      const n = key("auto-counter");
      await redis.hset(h, { f: "1" });
      const [bad, good, good2] = await Promise.allSettled([redis.incr(h), redis.incr(n), redis.incrby(n, 10)]);
      expect(bad.status).toBe("rejected");
      expect((bad as PromiseRejectedResult).reason).toBeInstanceOf(errors.UpstashError);
      expect(String((bad as PromiseRejectedResult).reason.message)).toContain("WRONGTYPE");
      expect(good).toEqual({ status: "fulfilled", value: 1 });
      expect(good2).toEqual({ status: "fulfilled", value: 11 });
    });

    it("MULTI/EXEC transactions", async () => {
      const k = key("tx");
      const tx = redis.multi();
      tx.set(k, "1");
      tx.incr(k);
      tx.incrby(k, 5);
      tx.get(k);
      expect(await tx.exec()).toEqual(["OK", 2, 7, 7]);

      // An error while executing (not while queueing) leaves the other entries applied.
      const t = key("tx-string");
      const bad = redis.multi();
      bad.set(t, "abc");
      bad.incr(t);
      bad.get(t);
      await expect(bad.exec()).rejects.toThrow("Command 2 [ incr ] failed: ERR value is not an integer or out of range");
      expect(await redis.get(t)).toBe("abc");
      const kept = redis.multi();
      kept.set(t, "abc");
      kept.incr(t);
      kept.get(t);
      expect(await kept.exec({ keepErrors: true })).toEqual([
        { error: undefined, result: "OK" },
        { error: "ERR value is not an integer or out of range", result: undefined },
        { error: undefined, result: "abc" },
      ]);
    });

    it("a transaction refused while queueing is discarded whole: 400 with one error", async () => {
      const k = key("tx-discarded");
      const r = await raw("/multi-exec", { body: JSON.stringify([["set", k, "1"], ["no-such-command", "x"], ["incr", k]]) });
      expect(r.status).toBe(400);
      expect(Object.keys(r.json)).toEqual(["error"]);
      expect(r.json.error).toMatch(/^EXECABORT Transaction discarded/);
      expect(await redis.exists(k)).toBe(0);
      const wrongArity = await raw("/multi-exec", { body: JSON.stringify([["set", k, "1"], ["get"]]) });
      expect(wrongArity.status).toBe(400);
      expect(wrongArity.json.error).toMatch(/^EXECABORT/);
      expect(await redis.exists(k)).toBe(0);
    });
  });

  describe("scripts", () => {
    it("EVAL returns nested replies; strings, integers and nil keep their types", async () => {
      const k = key("eval");
      await redis.set(k, "stored");
      const out = await redis.eval("return {KEYS[1], ARGV[1], 42, redis.call('GET', KEYS[1]), {ARGV[2]}}", [k], ["plain", "nested"]);
      expect(out).toEqual([k, "plain", 42, "stored", ["nested"]]);
      expect(await redis.eval("return redis.call('GET', KEYS[1])", [key("eval-missing")], [])).toBeNull();
      await expect(redis.eval("return redis.error_reply('my failure')", [], [])).rejects.toThrow(/my failure/);
    });

    it("SCRIPT LOAD + EVALSHA, and NOSCRIPT for an unknown SHA", async () => {
      const script = `-- ${crypto.randomUUID()}\nreturn redis.call('INCRBY', KEYS[1], ARGV[1])`;
      const sha = await redis.scriptLoad(script);
      expect(sha).toBe(await sha1(script));
      const k = key("evalsha");
      expect(await redis.evalsha(sha, [k], [5])).toBe(5);
      expect(await redis.evalsha(sha, [k], [5])).toBe(10);
      expect(await redis.scriptExists(sha, "0".repeat(40))).toEqual([1, 0]);
      await expect(redis.evalsha("0".repeat(40), [], [])).rejects.toThrow(/NOSCRIPT/);
    });

    it("createScript: EVALSHA first, EVAL when the store answers NOSCRIPT", async () => {
      const body = `-- ${crypto.randomUUID()}\nreturn {KEYS[1], ARGV[1], redis.call('INCR', KEYS[1])}`;
      const script = redis.createScript<[string, string, number]>(body);
      const k = key("script");
      await expect(script.evalsha([k], ["a"])).rejects.toThrow(/NOSCRIPT/);
      expect(await script.exec([k], ["a"])).toEqual([k, "a", 1]); // NOSCRIPT → EVAL
      expect(await script.evalsha([k], ["b"])).toEqual([k, "b", 2]); // now cached
      expect(await script.exec([k], ["c"])).toEqual([k, "c", 3]);
    });

    it("Upstash-only shebang flags (allow-key-locking, as @upstash/ratelimit sends) run", async () => {
      const body = `#!lua flags=allow-key-locking\n-- ${crypto.randomUUID()}\nreturn redis.call('INCR', KEYS[1])`;
      const script = redis.createScript<number>(body);
      const k = key("flags");
      expect(await script.exec([k], [])).toBe(1);
      expect(await script.evalsha([k], [])).toBe(2);
      expect(await redis.scriptLoad(body)).toBe(await sha1(body));
    });
  });

  describe("protocol", () => {
    it("one command: {result}, present even when null; JSON replies", async () => {
      const r = await raw("/", { body: JSON.stringify(["get", key("raw-missing")]) });
      expect(r.status).toBe(200);
      expect(r.headers.get("content-type")).toMatch(/^application\/json/);
      expect(r.text).toBe('{"result":null}');
      const empty = await raw("", { base: URL_, body: JSON.stringify(["ping"]) });
      expect(empty.json).toEqual({ result: "PONG" });
    });

    it("every argument goes through String(): numbers and booleans", async () => {
      const k = key("raw-args");
      expect((await raw("/", { body: JSON.stringify(["set", k, 1.5, "ex", 100]) })).json).toEqual({ result: "OK" });
      expect((await raw("/", { body: JSON.stringify(["get", k]) })).json).toEqual({ result: "1.5" });
      await raw("/", { body: JSON.stringify(["set", k, true]) });
      expect((await raw("/", { body: JSON.stringify(["get", k]) })).json).toEqual({ result: "true" });
      expect((await raw("/", { body: JSON.stringify(["SeT", k, "upper", "Ex", "100"]) })).json).toEqual({ result: "OK" });
    });

    it("Upstash-Encoding: base64 encodes every string, recursively; numbers, null and errors stay", async () => {
      const b64 = { "Upstash-Encoding": "base64" };
      const z = key("raw-zset");
      await raw("/", { body: JSON.stringify(["zadd", z, 1, "ä", 2, "aGVsbG8="]) });
      const plain = await raw("/", { body: JSON.stringify(["zrange", z, 0, -1, "withscores"]) });
      expect(plain.json).toEqual({ result: ["ä", "1", "aGVsbG8=", "2"] });
      const enc = await raw("/", { headers: b64, body: JSON.stringify(["zrange", z, 0, -1, "withscores"]) });
      expect(enc.json).toEqual({ result: [btoa("\xc3\xa4"), btoa("1"), btoa("aGVsbG8="), btoa("2")] });
      const batch = await raw("/pipeline", {
        headers: b64,
        body: JSON.stringify([["zcard", z], ["get", key("raw-none")], ["hget", z, "f"], ["eval", "return {1, {'x'}}", 0]]),
      });
      expect(batch.json).toEqual([
        { result: 2 },
        { result: null },
        { error: "WRONGTYPE Operation against a key holding the wrong kind of value" },
        { result: [1, [btoa("x")]] },
      ]);
      const failed = await raw("/", { headers: b64, body: JSON.stringify(["incr", z]) });
      expect(failed.status).toBe(400);
      expect(failed.json).toEqual({ error: "WRONGTYPE Operation against a key holding the wrong kind of value" });
    });

    it("a failed command: 400 with {error}", async () => {
      const r = await raw("/", { body: JSON.stringify(["no-such-command"]) });
      expect(r.status).toBe(400);
      expect(r.json.error).toMatch(/^ERR unknown command/);
    });

    it("a wrong or missing token: 401 with a JSON error, and the client throws", async () => {
      for (const headers of [{ Authorization: "Bearer not-the-token" }, { Authorization: "" }]) {
        const r = await raw("/", { headers, body: JSON.stringify(["ping"]) });
        expect(r.status).toBe(401);
        expect(r.json).toEqual({ error: "Unauthorized" });
      }
      const wrong = new Redis({ url: URL_, token: "not-the-token", enableAutoPipelining: false });
      await expect(wrong.get(key("x"))).rejects.toThrow(/Unauthorized/);
    });

    it("a wrong method: 405", async () => {
      for (const [method, path] of [["GET", "/"], ["PUT", "/"], ["DELETE", "/pipeline"], ["GET", "/multi-exec"]] as const) {
        const r = await raw(path, { method });
        expect(r.status, `${method} ${path}`).toBe(405);
        expect(r.json.error).toMatch(/Method Not Allowed/);
      }
    });

    it("malformed and ill-shaped bodies: 400 with a JSON error", async () => {
      const cases: [string, string][] = [
        ["/", '["set","k",'],
        ["/", "not json"],
        ["/", '{"set":"k"}'],
        ["/", "[]"],
        ["/pipeline", "[]"],
        ["/multi-exec", "[]"],
        ["/pipeline", '["get","k"]'],
        ["/pipeline", '{"0":["get","k"]}'],
        ["/pipeline", "[[]]"],
        ["/pipeline", "{bad"],
      ];
      for (const [path, body] of cases) {
        const r = await raw(path, { body });
        expect(r.status, `${path} ${body}`).toBe(400);
        expect(typeof r.json?.error, `${path} ${body}`).toBe("string");
      }
    });

    it("the path form works for curl users: GET /get/<key>, POST /set/<key> with the value as body", async () => {
      const k = key("path/with slash");
      expect((await raw(`/set/${encodeURIComponent(k)}`, { body: "body value" })).json).toEqual({ result: "OK" });
      expect((await raw(`/get/${encodeURIComponent(k)}`, { method: "GET" })).json).toEqual({ result: "body value" });
      const viaQuery = await fetch(`${URL_}/get/${encodeURIComponent(k)}?_token=${encodeURIComponent(TOKEN)}`);
      expect(await viaQuery.json()).toEqual({ result: "body value" });
    });

    it("commands that need a connection of their own are refused", async () => {
      for (const cmd of [["subscribe", "ch"], ["multi"], ["select", "1"], ["watch", "k"]]) {
        const r = await raw("/", { body: JSON.stringify(cmd) });
        expect(r.status).toBe(400);
        expect(r.json.error).toMatch(/not available/);
      }
    });
  });
});

// -------------------------------------------------------------------------------------------------
// Control API and faults, on a private sibling instance.

interface Instance {
  url: string;
  controlUrl: string;
  token: string;
  port: number;
}

async function control(inst: { controlUrl: string; token: string }, path: string, init: RequestInit = {}) {
  return raw(path, { base: inst.controlUrl, ...init, headers: { Authorization: `Bearer ${inst.token}`, ...(init.headers ?? {}) } });
}

async function withInstance(fn: (inst: Instance) => Promise<void>) {
  const created = await control({ controlUrl: CONTROL, token: TOKEN }, "/_instances", { body: "{}" });
  expect(created.status).toBe(201);
  const inst = created.json as Instance;
  try {
    await fn(inst);
  } finally {
    await control(inst, "/_control", { body: JSON.stringify({ fault: null, latencyMs: 0 }) }).catch(() => {});
    await control({ controlUrl: CONTROL, token: TOKEN }, `/_instances/${inst.port}`, { method: "DELETE" });
  }
}

const clientFor = (inst: Instance, extra: Partial<ConstructorParameters<typeof Redis>[0]> = {}) =>
  new Redis({ url: inst.url, token: inst.token, retry: false, ...extra });

const setControl = async (inst: Instance, body: { latencyMs?: number; fault?: string | null }) => {
  const r = await control(inst, "/_control", { body: JSON.stringify(body) });
  expect(r.status, r.text).toBe(200);
  return r.json as { latencyMs: number; fault: string | null };
};

describe("control API (private instance)", () => {
  it("creates a sibling sharing the data, with its own stats", async () => {
    await withInstance(async (inst) => {
      expect(inst.url).toMatch(/^http:\/\/(127\.0\.0\.1|\[::1\]):\d+$/);
      expect(inst.url).not.toBe(URL_);
      expect(inst.controlUrl).not.toBe(inst.url);
      const k = key("shared");
      await clientFor(inst).set(k, "from the sibling");
      expect(await redis.get(k)).toBe("from the sibling");

      expect((await control(inst, "/_stats/reset", { method: "POST" })).status).toBe(200);
      const r = await raw("/pipeline", { base: inst.url, headers: { Authorization: `Bearer ${inst.token}` }, body: JSON.stringify([["set", k, "1"], ["get", k], ["incr", k]]) });
      expect(r.json).toEqual([{ result: "OK" }, { result: "1" }, { result: 2 }]);
      await raw("/", { base: inst.url, headers: { Authorization: `Bearer ${inst.token}` }, body: JSON.stringify(["get", k]) });
      const s = (await control(inst, "/_stats", { method: "GET" })).json;
      expect(s).toMatchObject({ requests: 2, total: 4, commands: { SET: 1, GET: 2, INCR: 1 }, endpoints: { "/pipeline": 1, "/": 1 }, errors: 0 });
      // The same routes answer on the instance's data port.
      const again = await raw("/_stats", { base: inst.url, method: "GET", headers: { Authorization: `Bearer ${inst.token}` } });
      expect(again.json.total).toBe(4);
    });
  });

  it("control routes need the token and validate their input", async () => {
    await withInstance(async (inst) => {
      expect((await control({ ...inst, token: "nope" }, "/_stats", { method: "GET" })).status).toBe(401);
      expect((await control(inst, "/_control", { method: "GET" })).json).toEqual({ latencyMs: 0, fault: null });
      expect((await control(inst, "/_control", { body: JSON.stringify({ fault: "explode" }) })).status).toBe(400);
      expect((await control(inst, "/_control", { body: JSON.stringify({ latencyMs: -5 }) })).status).toBe(400);
      expect((await control(inst, "/_control", { body: "{nope" })).status).toBe(400);
      expect((await control(inst, "/_nothing", { method: "GET" })).status).toBe(404);
      expect((await control(inst, "/_stats", { method: "DELETE" })).status).toBe(405);
      // The control port serves control routes only.
      expect((await raw("/", { base: inst.controlUrl, headers: { Authorization: `Bearer ${inst.token}` }, body: '["ping"]' })).status).toBe(404);
    });
  });

  it("latency delays every data response", async () => {
    await withInstance(async (inst) => {
      const client = clientFor(inst);
      await client.ping();
      // A large delay, so the "not delayed" checks below keep a wide margin on a busy machine.
      expect(await setControl(inst, { latencyMs: 1000 })).toEqual({ latencyMs: 1000, fault: null });
      let started = Date.now();
      expect(await client.ping()).toBe("PONG");
      expect(Date.now() - started).toBeGreaterThanOrEqual(990);
      started = Date.now();
      const r = await raw("/pipeline", { base: inst.url, headers: { Authorization: `Bearer ${inst.token}` }, body: '[["ping"]]' });
      expect(r.json).toEqual([{ result: "PONG" }]);
      expect(Date.now() - started).toBeGreaterThanOrEqual(990);
      // Control routes are not delayed.
      started = Date.now();
      await control(inst, "/_stats", { method: "GET" });
      expect(Date.now() - started).toBeLessThan(800);
      await setControl(inst, { latencyMs: 0 });
      started = Date.now();
      await client.ping();
      expect(Date.now() - started).toBeLessThan(800);
    });
  });

  it("status500: 500 with a JSON error; the client throws UpstashError", async () => {
    await withInstance(async (inst) => {
      await setControl(inst, { fault: "status500" });
      const r = await raw("/", { base: inst.url, headers: { Authorization: `Bearer ${inst.token}` }, body: '["ping"]' });
      expect(r.status).toBe(500);
      expect(typeof r.json.error).toBe("string");
      const err = await clientFor(inst).ping().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(errors.UpstashError);
      expect(err).not.toBeInstanceOf(errors.UpstashJSONParseError);
      await setControl(inst, { fault: null });
      expect(await clientFor(inst).ping()).toBe("PONG");
    });
  });

  it("invalid-json: 200 with a body that is not JSON; the client throws UpstashJSONParseError", async () => {
    await withInstance(async (inst) => {
      await setControl(inst, { fault: "invalid-json" });
      const r = await raw("/", { base: inst.url, headers: { Authorization: `Bearer ${inst.token}` }, body: '["ping"]' });
      expect(r.status).toBe(200);
      expect(r.json).toBeUndefined();
      await expect(clientFor(inst).ping()).rejects.toBeInstanceOf(errors.UpstashJSONParseError);
    });
  });

  it("unauthorized: 401 even with the right token", async () => {
    await withInstance(async (inst) => {
      await setControl(inst, { fault: "unauthorized" });
      const r = await raw("/", { base: inst.url, headers: { Authorization: `Bearer ${inst.token}` }, body: '["ping"]' });
      expect(r.status).toBe(401);
      expect(r.json).toEqual({ error: "Unauthorized" });
      await expect(clientFor(inst).ping()).rejects.toThrow(/Unauthorized/);
      // Control routes are not affected by faults.
      expect((await control(inst, "/_stats", { method: "GET" })).status).toBe(200);
    });
  });

  it("hang: never answers (the caller's timeout fires), and recovers when cleared", async () => {
    await withInstance(async (inst) => {
      await setControl(inst, { fault: "hang" });
      const started = Date.now();
      const err = await fetch(inst.url, { method: "POST", headers: { Authorization: `Bearer ${inst.token}` }, body: '["ping"]', signal: AbortSignal.timeout(300) }).catch((e: unknown) => e);
      expect((err as Error).name).toBe("TimeoutError");
      expect(Date.now() - started).toBeLessThan(2000);
      // The client with a timeout signal (a function, so each call gets a fresh one) throws too.
      await expect(clientFor(inst, { signal: () => AbortSignal.timeout(200) }).ping()).rejects.toThrow();
      await setControl(inst, { fault: null });
      expect(await clientFor(inst).ping()).toBe("PONG");
    });
  });

  it("refuse: connections are refused while the control port stays up; the same URL works again when cleared", async () => {
    await withInstance(async (inst) => {
      const client = clientFor(inst);
      expect(await client.ping()).toBe("PONG"); // an open keep-alive connection that must be cut
      await setControl(inst, { fault: "refuse" });
      await expect(fetch(inst.url, { method: "POST", headers: { Authorization: `Bearer ${inst.token}` }, body: '["ping"]' })).rejects.toThrow();
      await expect(client.ping()).rejects.toThrow();
      expect((await control(inst, "/_control", { method: "GET" })).json).toEqual({ latencyMs: 0, fault: "refuse" });
      await setControl(inst, { fault: null });
      expect(await client.ping()).toBe("PONG");
    });
  });

  it("refuse set through the data port itself still answers that request", async () => {
    await withInstance(async (inst) => {
      const r = await raw("/_control", { base: inst.url, headers: { Authorization: `Bearer ${inst.token}` }, body: JSON.stringify({ fault: "refuse" }) });
      expect(r.json).toEqual({ latencyMs: 0, fault: "refuse" });
      await expect(fetch(inst.url, { method: "POST", headers: { Authorization: `Bearer ${inst.token}` }, body: '["ping"]' })).rejects.toThrow();
      await setControl(inst, { fault: null });
      expect(await clientFor(inst).ping()).toBe("PONG");
    });
  });

  it("DELETE /_instances/<port> closes the sibling", async () => {
    const main = { controlUrl: CONTROL, token: TOKEN };
    const inst = (await control(main, "/_instances", { body: "{}" })).json as Instance;
    expect(await clientFor(inst).ping()).toBe("PONG");
    const list = (await control(main, "/_instances", { method: "GET" })).json as Instance[];
    expect(list.map((i) => i.port)).toContain(inst.port);
    expect((await control(main, `/_instances/${inst.port}`, { method: "DELETE" })).json).toEqual({ closed: inst.port });
    await expect(fetch(inst.url, { method: "POST", headers: { Authorization: `Bearer ${inst.token}` }, body: '["ping"]' })).rejects.toThrow();
    expect((await control(main, `/_instances/${inst.port}`, { method: "DELETE" })).status).toBe(404);
  });
});
