/**
 * Single-flight reads and revocation, against the real store: a logout handled by
 * this isolate while another request's read of the same token is in flight. The store answers
 * that read before the logout ("live"), but the answer reaches the worker only after the logout
 * (network latency on the way back). The late answer must not re-populate the edge cache with
 * a live entry: this isolate handled the logout, so it refuses the token at once afterwards.
 */
import { describe, expect, it } from "vitest";
import { DEFAULT_POLICY, SessionManager } from "../../src/session/manager.js";
import { SessionReader } from "../../src/session/reader.js";
import type { RedisStore } from "../../src/store/redis.js";
import { testApp } from "../helpers/app.js";
import { register } from "../helpers/http.js";

describe("single-flight vs logout in the same isolate (real store)", () => {
  it("a read answered before the logout but delivered after it leaves the token refused here", async () => {
    const { fetch, deps } = await testApp();
    const user = await register(fetch);
    // The real store, with the reply to the first GET held back until the test releases it.
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let readDone!: () => void;
    const read = new Promise<void>((r) => (readDone = r));
    let held = false;
    const store: RedisStore = {
      ...deps.store,
      get: async (key) => {
        const value = await deps.store.get(key);
        if (!held) {
          held = true;
          readDone();
          await gate;
        }
        return value;
      },
      run: (script, keys, args) => deps.store.run(script, keys, args),
    };
    const reader = new SessionReader({ store, keyRing: deps.keyRing, keys: deps.keys, cacheTtlMs: 1000 });
    const manager = new SessionManager({ store, keyRing: deps.keyRing, keys: deps.keys, policy: DEFAULT_POLICY, reader });
    const a = reader.read(user.token); // request A: a miss, its GET answered "live" by the store...
    await read; // ...and held on the way back
    // Request B: logout with the same token, in this isolate (fresh read, then END_SESSION).
    const b = await reader.read(user.token, true);
    expect(b.ok).toBe(true);
    if (!b.ok) return;
    expect(await manager.end(b.session)).toBe(true);
    expect(await deps.store.get(deps.keys.session(b.session.id))).toBeNull();
    release(); // A's stale answer arrives now
    await a;
    const after = await reader.read(user.token);
    expect(after).toEqual({ ok: false, reason: "revoked" });
  });
});
