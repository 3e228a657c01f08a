/**
 * The read path's edge cache, through its one public read: entries live at most the TTL and
 * never past the session's expiry, an end evicts at once, the cache is off at TTL 0, it stays
 * bounded, and forged strings are remembered apart from live sessions. The store is a Map that
 * counts GETs (the real store is exercised by test/integration/).
 */
import { describe, expect, it } from "vitest";
import { SessionReader } from "../../src/session/reader.js";
import { encodeRecord, sessionIdFor, type Session } from "../../src/session/record.js";
import { keySpace } from "../../src/store/keys.js";
import type { RedisStore } from "../../src/store/redis.js";
import { createKeyRing, type KeyRing } from "../../src/token/key-ring.js";
import { BoundedLru } from "../../src/util/lru.js";

const keys = keySpace("t:");

function mapStore() {
  const data = new Map<string, string>();
  let gets = 0;
  const store = {
    get: async (k: string) => (gets++, data.get(k) ?? null),
  } as unknown as RedisStore;
  return { store, data, gets: () => gets };
}

async function setup(o: { ttlMs: number; maxEntries?: number; forgedMax?: number }) {
  let now = 1_000_000;
  const ring: KeyRing = await createKeyRing([{ kid: "k1", key: crypto.getRandomValues(new Uint8Array(32)) }]);
  const { store, data, gets } = mapStore();
  const reader = new SessionReader({ store, keyRing: ring, keys, cacheTtlMs: o.ttlMs, cacheMaxEntries: o.maxEntries, forgedMaxEntries: o.forgedMax, now: () => now });
  const mint = async (expiresIn = 3_600_000) => {
    const { token, id } = await ring.issue();
    const sid = await sessionIdFor(id);
    const s: Session = { id: sid, userId: "u", email: "u@example.test", roles: [], createdAt: now, lastSeenAt: now, idleExpiresAt: now + expiresIn, expiresAt: now + expiresIn, device: "", ip: "" };
    data.set(keys.session(sid), encodeRecord(s));
    return { token, sid };
  };
  return { reader, data, gets, mint, advance: (ms: number) => (now += ms) };
}

describe("BoundedLru", () => {
  it("never holds more than max entries and evicts the least recently used", () => {
    const evicted: string[] = [];
    const lru = new BoundedLru<string, number>(3, (_, k) => evicted.push(k));
    lru.set("a", 1);
    lru.set("b", 2);
    lru.set("c", 3);
    lru.get("a"); // a is now the most recent
    lru.set("d", 4);
    expect(lru.size).toBe(3);
    expect(evicted).toEqual(["b"]);
    expect(lru.get("b")).toBeUndefined();
    expect(lru.get("a")).toBe(1);
    for (let i = 0; i < 10_000; i++) lru.set(`k${i}`, i);
    expect(lru.size).toBe(3);
  });
});

describe("the edge cache in the read path", () => {
  it("serves an entry for at most ttlMs, then reads the store again", async () => {
    const t = await setup({ ttlMs: 1000 });
    const { token } = await t.mint();
    expect(await t.reader.read(token)).toMatchObject({ ok: true, source: "miss" });
    t.advance(999);
    expect(await t.reader.read(token)).toMatchObject({ ok: true, source: "hit" });
    expect(t.gets()).toBe(1);
    t.advance(1);
    expect(await t.reader.read(token)).toMatchObject({ ok: true, source: "miss" });
    expect(t.gets()).toBe(2);
  });

  it("never caches past the session's own expiry", async () => {
    const t = await setup({ ttlMs: 10_000 });
    const { token } = await t.mint(500);
    expect((await t.reader.read(token)).ok).toBe(true);
    t.advance(500);
    expect(await t.reader.read(token)).toEqual({ ok: false, reason: "expired" });
  });

  it("an end evicts at once and the token is remembered as revoked (no store read)", async () => {
    const t = await setup({ ttlMs: 1000 });
    const { token, sid } = await t.mint();
    await t.reader.read(token);
    t.reader.evict([sid]);
    expect(await t.reader.read(token)).toEqual({ ok: false, reason: "revoked" });
    expect(t.gets()).toBe(1);
  });

  it("is off at ttl 0: every read goes to the store, dead answers too", async () => {
    const t = await setup({ ttlMs: 0 });
    const { token } = await t.mint();
    await t.reader.read(token);
    await t.reader.read(token);
    t.data.clear();
    await t.reader.read(token);
    await t.reader.read(token);
    expect(t.gets()).toBe(4);
    expect(t.reader.cachedTokens).toBe(0);
  });

  it("stays bounded under a flood of distinct tokens", async () => {
    const t = await setup({ ttlMs: 1000, maxEntries: 10 });
    for (let i = 0; i < 50; i++) await t.reader.read((await t.mint()).token);
    expect(t.reader.cachedTokens).toBe(10);
  });

  it("remembers forged strings apart: a flood of distinct ones never evicts a live session", async () => {
    const t = await setup({ ttlMs: 1000, maxEntries: 10, forgedMax: 50 });
    const { token } = await t.mint();
    await t.reader.read(token);
    const head = token.slice(0, token.lastIndexOf(".") + 1);
    for (let i = 0; i < 500; i++) {
      const mac = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32)))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
      expect((await t.reader.read(head + mac)).ok).toBe(false);
    }
    expect(await t.reader.read(token)).toMatchObject({ ok: true, source: "hit" });
    expect(t.gets()).toBe(1);
  });
});
