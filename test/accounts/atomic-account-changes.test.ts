/**
 * Password change and account disable are each one atomic step in the store. A store wrapper
 * (patched onto the app's own store object, which the account store and the session manager
 * share) makes the k-th store command of the request fail — before it reaches the store, or
 * after it ran with its reply lost — and every later one fail too. Whatever k, the account ends
 * up all-old or all-new: never a changed password with the other sessions alive, never a
 * disabled account whose tokens still work.
 */
import { describe, expect, it } from "vitest";
import type { Deps } from "../../src/worker/deps.js";
import { StoreError, type RedisStore } from "../../src/store/redis.js";
import { testApp } from "../helpers/app.js";
import { call, login, PASSWORD, register, uniqueEmail, type Fetch } from "../helpers/http.js";

type Mode = "before" | "after";

/** Arms a fault on the app's store: command number `k` (1-based) and every later one fail. */
function faultFrom(deps: Deps) {
  const store = deps.store as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  const originals = new Map<string, (...args: unknown[]) => Promise<unknown>>();
  const methods: (keyof RedisStore)[] = ["get", "set", "getdel", "hgetall", "run", "ping"];
  for (const m of methods) originals.set(m, store[m]!.bind(store));
  let armed: { k: number; mode: Mode; seen: number } | null = null;
  for (const m of methods) {
    store[m] = async (...args: unknown[]) => {
      if (!armed) return originals.get(m)!(...args);
      const n = ++armed.seen;
      if (n < armed.k) return originals.get(m)!(...args);
      if (n === armed.k && armed.mode === "after") await originals.get(m)!(...args);
      throw new StoreError(new Error(`injected fault at command ${n} (${m})`));
    };
  }
  return {
    arm(k: number, mode: Mode) {
      armed = { k, mode, seen: 0 };
    },
    disarm(): number {
      const seen = armed?.seen ?? 0;
      armed = null;
      return seen;
    },
  };
}

async function admin(fetch: Fetch, deps: Deps) {
  const email = uniqueEmail("admin");
  await deps.accounts.create({ email, passwordHash: await deps.passwords.hash(PASSWORD), roles: ["admin"] });
  return login(fetch, email);
}

const canLogin = async (fetch: Fetch, email: string, password: string) => (await call("/auth/login", { body: { email, password } }, fetch)).status === 200;
const alive = async (fetch: Fetch, token: string) => (await call("/auth/session", { token }, fetch)).status === 200;

describe("attack: a store fault between the steps of a password change", () => {
  it("for every failing command, before or after it ran: all-old or all-new, never half", { timeout: 90_000 }, async () => {
    const { fetch, deps } = await testApp({ SESSION_CACHE_TTL: "0" });
    const fault = faultFrom(deps);
    let maxCommands = 0;
    for (const mode of ["before", "after"] as const) {
      for (let k = 1; k <= 4; k++) {
        const u = await register(fetch);
        const other = await login(fetch, u.email);
        const next = `new ${crypto.randomUUID()}`;
        fault.arm(k, mode);
        const r = await call("/auth/password", { token: u.token, body: { currentPassword: PASSWORD, newPassword: next } }, fetch);
        maxCommands = Math.max(maxCommands, fault.disarm());
        expect([200, 503]).toContain(r.status);
        const state = {
          oldWorks: await canLogin(fetch, u.email, PASSWORD),
          newWorks: await canLogin(fetch, u.email, next),
          otherAlive: await alive(fetch, other.token),
        };
        const what = `k=${k} ${mode}: ${r.status} ${JSON.stringify(state)}`;
        const allOld = state.oldWorks && !state.newWorks && state.otherAlive;
        const allNew = !state.oldWorks && state.newWorks && !state.otherAlive;
        expect(allOld || allNew, what).toBe(true);
        if (r.status === 200) expect(allNew, what).toBe(true);
      }
    }
    // The change itself is one store command after the account read: nothing to fall between.
    expect(maxCommands).toBeGreaterThanOrEqual(2);
  });
});

describe("attack: a store fault inside account disable leaves the user's tokens working", () => {
  it("for every failing command, before or after it ran: disabled with no working token, or untouched", { timeout: 60_000 }, async () => {
    const { fetch, deps } = await testApp({ SESSION_CACHE_TTL: "0" });
    const boss = await admin(fetch, deps);
    const fault = faultFrom(deps);
    for (const mode of ["before", "after"] as const) {
      for (let k = 1; k <= 3; k++) {
        const u = await register(fetch);
        const second = await login(fetch, u.email);
        fault.arm(k, mode);
        const r = await call(`/admin/users/${u.user.id}/disable`, { method: "POST", token: boss.token }, fetch);
        fault.disarm();
        expect([200, 503]).toContain(r.status);
        const state = {
          disabled: (await deps.accounts.findById(u.user.id))!.disabled,
          first: await alive(fetch, u.token),
          second: await alive(fetch, second.token),
        };
        const what = `k=${k} ${mode}: ${r.status} ${JSON.stringify(state)}`;
        const untouched = !state.disabled && state.first && state.second;
        const done = state.disabled && !state.first && !state.second;
        expect(untouched || done, what).toBe(true);
        if (r.status === 200) expect(done, what).toBe(true);
        if (state.disabled) expect(await canLogin(fetch, u.email, PASSWORD), what).toBe(false);
      }
    }
  });

  it("another isolate stops honouring a disabled user's cached token within SESSION_CACHE_TTL", async () => {
    const a = await testApp({ SESSION_CACHE_TTL: "1 s" });
    const b = await testApp({ SESSION_CACHE_TTL: "1 s" });
    const boss = await admin(b.fetch, b.deps);
    const u = await register(a.fetch);
    expect((await call("/api/me", { token: u.token }, a.fetch)).status).toBe(200); // cached in A
    const disabledAt = Date.now();
    expect((await call(`/admin/users/${u.user.id}/disable`, { method: "POST", token: boss.token }, b.fetch)).status).toBe(200);
    let refusedAt = 0;
    while (Date.now() - disabledAt < 3000) {
      if ((await call("/api/me", { token: u.token }, a.fetch)).status === 401) {
        refusedAt = Date.now();
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(refusedAt).toBeGreaterThan(0);
    expect(refusedAt - disabledAt).toBeLessThanOrEqual(1000 + 250);
  });
});
