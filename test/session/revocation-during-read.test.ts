/**
 * Single-flight reads and revocation: a revocation handled by this isolate while a
 * store read of the same token is in flight. The read may have been answered by the store before
 * the revocation (so it says "live"), but it reaches the manager after `ended()` evicted the
 * session. That late answer must not put a live entry back into the edge cache, and a request
 * arriving after the revocation must not follow a flight that started before it.
 */
import { describe, expect, it, vi } from "vitest";
import { keySpace } from "../../src/store/keys.js";
import { DEFAULT_POLICY, SessionManager } from "../../src/session/manager.js";
import { SessionReader } from "../../src/session/reader.js";
import { sessionIdFor } from "../../src/session/record.js";
import type { RedisStore } from "../../src/store/redis.js";
import { createKeyRing } from "../../src/token/key-ring.js";

/** GETs answered by the test; scripts (END_SESSION) answer 1 at once. */
function controlledStore() {
  const gets: { resolve: (v: string | null) => void }[] = [];
  const scripts: string[] = [];
  const store = new Proxy({} as RedisStore, {
    get: (_t, name) => {
      if (name === "get") return () => new Promise<string | null>((resolve) => gets.push({ resolve }));
      if (name === "run") return async (script: { name: string }) => (scripts.push(script.name), 1);
      return () => {
        throw new Error(`store.${String(name)} called`);
      };
    },
  });
  return { store, gets, scripts };
}

const record = (now: number) => JSON.stringify([1, "u1", "u1@example.test", [], now, 0, 1_800_000, 43_200_000, "", ""]);

async function setup() {
  const ring = await createKeyRing([{ kid: "k1", key: crypto.getRandomValues(new Uint8Array(32)) }]);
  const { store, gets, scripts } = controlledStore();
  // The production cache TTL (1 s): long enough that a stale live entry would be served.
  const reader = new SessionReader({ store, keyRing: ring, keys: keySpace("t:"), cacheTtlMs: 1000, followTimeoutMs: 2000 });
  const manager = new SessionManager({ store, keyRing: ring, keys: keySpace("t:"), policy: DEFAULT_POLICY, reader });
  const { token, id } = await ring.issue();
  return { reader, manager, token, sessionId: await sessionIdFor(id), gets, scripts };
}

describe("single-flight vs a revocation in the same isolate", () => {
  it("a read answered before a logout but arriving after it does not cache the session as live", async () => {
    const { reader, manager, token, sessionId, gets, scripts } = await setup();
    // Request A: a cache miss, its store read in flight.
    const a = reader.read(token);
    await vi.waitFor(() => expect(gets.length).toBe(1));
    // Request B: logout with the same token (fresh read, then END_SESSION).
    const b = reader.read(token, true);
    await vi.waitFor(() => expect(gets.length).toBe(2));
    gets[1]!.resolve(record(Date.now()));
    expect((await b).ok).toBe(true);
    expect(await manager.end({ id: sessionId, userId: "u1" })).toBe(true);
    expect(scripts).toEqual(["end-session"]);
    // A's read was answered by the store before the logout; it arrives only now.
    gets[0]!.resolve(record(Date.now()));
    await a; // A itself may pass: it began before the logout.
    // Any later request in this isolate must be refused: the logout was handled here.
    const after = await Promise.race([reader.read(token), new Promise<"store read">((r) => setTimeout(() => r("store read"), 200))]);
    expect(after).toEqual({ ok: false, reason: "revoked" });
  });

  it("a request arriving after a revocation (by session id) does not follow a read that began before it", async () => {
    const { reader, manager, token, sessionId, gets } = await setup();
    const a = reader.read(token); // leader, read in flight; the token was never cached here
    await vi.waitFor(() => expect(gets.length).toBe(1));
    // The session is ended by id in this isolate (DELETE /auth/sessions/:id, an admin).
    await manager.end({ id: sessionId, userId: "u1" });
    // Request C arrives after the revocation: it must read the store for itself...
    const c = reader.read(token);
    let ownRead = true;
    await vi.waitFor(() => expect(gets.length).toBe(2), { timeout: 500 }).catch(() => (ownRead = false));
    gets[0]!.resolve(record(Date.now())); // the leader's (stale) answer
    if (ownRead) gets[1]!.resolve(null); // the store as it is now: no such session
    expect(ownRead).toBe(true);
    expect(await c).toEqual({ ok: false, reason: "revoked" });
    await a;
    // ...and nothing live is left in the cache.
    const after = await Promise.race([reader.read(token), new Promise<"store read">((r) => setTimeout(() => r("store read"), 200))]);
    expect(after).toEqual({ ok: false, reason: "revoked" });
  });
});
