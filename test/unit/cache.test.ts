import { describe, expect, it } from "vitest";
import { BoundedLru, SessionCache } from "../../src/session/cache.js";
import type { Session } from "../../src/session/record.js";

const session = (id: string, expiresIn = 3_600_000, now = 0): Session => ({
  id,
  userId: "u",
  email: "u@example.test",
  roles: [],
  createdAt: now,
  lastSeenAt: now,
  idleExpiresAt: now + expiresIn,
  absoluteExpiresAt: now + expiresIn,
  device: "",
  ip: "",
});

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

describe("SessionCache", () => {
  it("serves an entry for at most ttlMs", () => {
    let now = 1000;
    const cache = new SessionCache({ ttlMs: 1000, now: () => now });
    cache.putLive("tok", session("s1", 3_600_000, now));
    now += 999;
    expect(cache.get("tok")).toMatchObject({ live: true });
    now += 1;
    expect(cache.get("tok")).toBeUndefined();
  });

  it("never caches past the session's own expiry", () => {
    let now = 0;
    const cache = new SessionCache({ ttlMs: 10_000, now: () => now });
    cache.putLive("tok", session("s1", 500, now));
    now = 500;
    expect(cache.get("tok")).toBeUndefined();
  });

  it("evicting a session replaces it with a dead entry", () => {
    const cache = new SessionCache({ ttlMs: 1000, now: () => 0 });
    cache.putLive("tok", session("s1"));
    cache.evictSession("s1");
    expect(cache.get("tok")).toMatchObject({ live: false, reason: "revoked" });
  });

  it("is off at ttl 0", () => {
    const cache = new SessionCache({ ttlMs: 0, now: () => 0 });
    cache.putLive("tok", session("s1"));
    cache.putDead("tok2", "revoked", "s2");
    expect(cache.get("tok")).toBeUndefined();
    expect(cache.get("tok2")).toBeUndefined();
  });

  it("stays bounded under a flood of distinct tokens", () => {
    const cache = new SessionCache({ ttlMs: 1000, maxEntries: 100, now: () => 0 });
    for (let i = 0; i < 5000; i++) cache.putDead(`t${i}`, "revoked", `s${i}`);
    for (let i = 0; i < 5000; i++) cache.putLive(`l${i}`, session(`ls${i}`));
    expect(cache.size).toBe(100);
  });

  it("remembers forged strings apart: a flood of distinct ones never evicts a live session", () => {
    const cache = new SessionCache({ ttlMs: 1000, maxEntries: 10, maxForged: 50, now: () => 0 });
    cache.putLive("good", session("s1"));
    for (let i = 0; i < 10_000; i++) cache.rememberForged(`forged-${i}`);
    expect(cache.get("good")?.live).toBe(true);
    expect(cache.isForged("forged-9999")).toBe(true);
    expect(cache.isForged("forged-0")).toBe(false); // bounded: the oldest went
    expect(cache.isForged("good")).toBe(false);
  });
});
