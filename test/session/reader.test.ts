/**
 * The session reader's own logic, against a key ring and a store the test controls (the real
 * store is exercised by test/integration/): forged strings pay the HMAC once per isolate and
 * never reach the store; concurrent misses share one read, its failure, and never wait forever.
 */
import { describe, expect, it, vi } from "vitest";
import { keySpace } from "../../src/store/keys.js";
import { SessionReader } from "../../src/session/reader.js";
import type { RedisStore } from "../../src/store/redis.js";
import { createKeyRing, type KeyRing } from "../../src/token/key-ring.js";

/** A store that must never be called: any use fails the test. */
const untouchable = new Proxy({} as RedisStore, {
  get: (_t, name) => () => {
    throw new Error(`store.${String(name)} called`);
  },
});

async function countingRing(): Promise<{ ring: KeyRing; verifies: () => number }> {
  const ring = await createKeyRing([{ kid: "k1", key: crypto.getRandomValues(new Uint8Array(32)) }]);
  let n = 0;
  return {
    ring: { ...ring, signerKid: ring.signerKid, kids: ring.kids, issue: () => ring.issue(), verify: (t) => (n++, ring.verify(t)) },
    verifies: () => n,
  };
}

describe("forged tokens in the session reader", () => {
  it("a repeated forged string is refused without a second MAC check; a distinct one is checked", async () => {
    const { ring, verifies } = await countingRing();
    const reader = new SessionReader({ store: untouchable, keyRing: ring, keys: keySpace("t:") });
    const { token } = await ring.issue();
    // One MAC character changed, away from the end (the last one carries padding bits).
    const flip = (t: string, at: number, to: string) => t.slice(0, at) + (t[at] === to ? "Z" : to) + t.slice(at + 1);
    const forged = flip(token, token.length - 10, "A");
    for (let i = 0; i < 5; i++) expect(await reader.read(forged)).toEqual({ ok: false, reason: "bad_signature" });
    expect(verifies()).toBe(1);
    expect(await reader.read(forged, true)).toEqual({ ok: false, reason: "bad_signature" });
    expect(verifies()).toBe(1);
    const other = flip(token, token.length - 11, "B");
    expect(await reader.read(other)).toEqual({ ok: false, reason: "bad_signature" });
    expect(verifies()).toBe(2);
  });

  it("malformed strings and unknown keys are not remembered (they are cheap to refuse anyway)", async () => {
    const { ring, verifies } = await countingRing();
    const reader = new SessionReader({ store: untouchable, keyRing: ring, keys: keySpace("t:") });
    const { token } = await ring.issue();
    const unknownKid = token.replace("k1", "k9");
    for (let i = 0; i < 3; i++) {
      expect((await reader.read("garbage")).ok).toBe(false);
      expect((await reader.read(unknownKid)).ok).toBe(false);
    }
    expect(verifies()).toBe(6);
  });
});

describe("single-flight followers", () => {
  /** A store whose GETs are answered by the test: each call is recorded with its resolvers. */
  function controlledStore() {
    const calls: { resolve: (v: string | null) => void; reject: (e: unknown) => void }[] = [];
    const store = new Proxy({} as RedisStore, {
      get: (_t, name) =>
        name === "get"
          ? () => new Promise<string | null>((resolve, reject) => calls.push({ resolve, reject }))
          : () => {
              throw new Error(`store.${String(name)} called`);
            },
    });
    return { store, calls };
  }
  const record = (now: number) =>
    JSON.stringify([1, "u1", "u1@example.test", [], now, 0, 1_800_000, 43_200_000, "", ""]);

  it("followers of a read take its answer: one store read for ten concurrent misses", async () => {
    const { ring } = await countingRing();
    const { store, calls } = controlledStore();
    const reader = new SessionReader({ store, keyRing: ring, keys: keySpace("t:"), cacheTtlMs: 0 });
    const { token } = await ring.issue();
    const pending = Array.from({ length: 10 }, () => reader.read(token));
    await vi.waitFor(() => expect(calls.length).toBe(1));
    calls[0]!.resolve(record(Date.now()));
    const results = await Promise.all(pending);
    expect(results.every((r) => r.ok)).toBe(true);
    expect(calls.length).toBe(1);
  });

  it("followers share the leader's failure (no second read during an outage)", async () => {
    const { ring } = await countingRing();
    const { store, calls } = controlledStore();
    const reader = new SessionReader({ store, keyRing: ring, keys: keySpace("t:") });
    const { token } = await ring.issue();
    const pending = Array.from({ length: 5 }, () => reader.read(token).then(() => "resolved", (e: Error) => e.message));
    await vi.waitFor(() => expect(calls.length).toBe(1));
    calls[0]!.reject(new Error("store down"));
    expect(await Promise.all(pending)).toEqual(Array(5).fill("store down"));
    expect(calls.length).toBe(1);
  });

  it("a leader that never answers does not hold its followers: they read for themselves after followTimeoutMs", async () => {
    const { ring } = await countingRing();
    const { store, calls } = controlledStore();
    const reader = new SessionReader({ store, keyRing: ring, keys: keySpace("t:"), cacheTtlMs: 0, followTimeoutMs: 50 });
    const { token } = await ring.issue();
    void reader.read(token); // the leader: its read is never answered
    await vi.waitFor(() => expect(calls.length).toBe(1));
    const follower = reader.read(token);
    // After 50 ms the follower gives up waiting and issues its own read.
    await vi.waitFor(() => expect(calls.length).toBe(2), { timeout: 1000 });
    calls[1]!.resolve(record(Date.now()));
    expect((await follower).ok).toBe(true);
    // The silent leader's flight is forgotten: the next miss reads at once instead of waiting 50 ms.
    const next = reader.read(token);
    await new Promise((r) => setTimeout(r, 10));
    expect(calls.length).toBe(3);
    calls[2]!.resolve(record(Date.now()));
    expect((await next).ok).toBe(true);
  });

  it("flights left by leaders that never finish stay bounded (a cancelled request never cleans up)", async () => {
    const { ring } = await countingRing();
    const { store, calls } = controlledStore();
    const reader = new SessionReader({ store, keyRing: ring, keys: keySpace("t:"), cacheTtlMs: 0 });
    const tokens = await Promise.all(Array.from({ length: 1500 }, () => ring.issue().then((t) => t.token)));
    for (const t of tokens) void reader.read(t); // every read is left unanswered
    await vi.waitFor(() => expect(calls.length).toBe(1500));
    expect((reader as unknown as { inflight: Map<string, unknown> }).inflight.size).toBe(1000);
  });
});
