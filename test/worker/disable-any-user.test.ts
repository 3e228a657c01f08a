/**
 * Account disable and enable for every user id, and the acting admin's session checked in the
 * same atomic step as either change. Users created with `createSession` (an SSO callback, the
 * RPC entrypoint, a library sign-in) have no password account; the kill switch must hold for
 * them all the same.
 */
import { describe, expect, it } from "vitest";
import { sessionApi } from "../../src/session/api.js";
import type { Deps } from "../../src/worker/deps.js";
import type { StoreScript } from "../../src/store/redis.js";
import { testApp } from "../helpers/app.js";
import { call, login, PASSWORD, uniqueEmail, type Fetch } from "../helpers/http.js";

async function admin(fetch: Fetch, deps: Deps) {
  const email = uniqueEmail("admin");
  const account = await deps.accounts.create({ email, passwordHash: await deps.passwords.hash(PASSWORD), roles: ["admin"] });
  return { id: account!.id, email, token: (await login(fetch, email)).token };
}

const ssoId = () => `sso-${crypto.randomUUID().replaceAll("-", "")}`;

describe("attack: signing straight back in after the kill switch, as a user without a password account", () => {
  it("disable of a createSession user: 200, its sessions end, createSession then refuses it", async () => {
    const { fetch, deps } = await testApp({ SESSION_CACHE_TTL: "0" });
    const boss = await admin(fetch, deps);
    const api = sessionApi(deps);
    const user = { id: ssoId(), email: uniqueEmail("sso") };
    const first = await api.createSession(user);
    expect(first.ok).toBe(true);
    const token = first.ok ? first.token : "";
    expect((await call("/api/me", { token }, fetch)).status).toBe(200);

    const r = await call(`/admin/users/${user.id}/disable`, { method: "POST", token: boss.token }, fetch);
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ disabled: true, revoked: 1 });
    expect((await call("/api/me", { token }, fetch)).status).toBe(401);
    expect(await api.createSession(user)).toEqual({ ok: false, reason: "disabled" });
  });

  it("an id that never signed in yet can be disabled ahead of its first sign-in", async () => {
    const { fetch, deps } = await testApp();
    const boss = await admin(fetch, deps);
    const user = { id: ssoId(), email: uniqueEmail("sso") };
    expect((await call(`/admin/users/${user.id}/disable`, { method: "POST", token: boss.token }, fetch)).json).toEqual({ disabled: true, revoked: 0 });
    expect(await sessionApi(deps).createSession(user)).toEqual({ ok: false, reason: "disabled" });
  });

  it("enable lifts it: createSession works again, the old sessions stay ended", async () => {
    const { fetch, deps } = await testApp({ SESSION_CACHE_TTL: "0" });
    const boss = await admin(fetch, deps);
    const api = sessionApi(deps);
    const user = { id: ssoId(), email: uniqueEmail("sso") };
    const old = await api.createSession(user);
    await call(`/admin/users/${user.id}/disable`, { method: "POST", token: boss.token }, fetch);
    const r = await call(`/admin/users/${user.id}/enable`, { method: "POST", token: boss.token }, fetch);
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ disabled: false });
    const again = await api.createSession(user);
    expect(again.ok).toBe(true);
    expect((await call("/api/me", { token: old.ok ? old.token : "" }, fetch)).status).toBe(401);
  });

  it("the library's own switch: disableUser / enableUser", async () => {
    const { deps } = await testApp({ SESSION_CACHE_TTL: "0" });
    const api = sessionApi(deps);
    const user = { id: ssoId(), email: uniqueEmail("lib") };
    const s = await api.createSession(user);
    expect(await api.disableUser(user.id)).toEqual({ revoked: 1 });
    expect((await api.validateSession(s.ok ? s.token : "")).ok).toBe(false);
    expect(await api.createSession(user)).toEqual({ ok: false, reason: "disabled" });
    await api.enableUser(user.id);
    expect((await api.createSession(user)).ok).toBe(true);
  });
});

/**
 * Runs `before` once, just before the next enable/disable-flag write reaches the store: the
 * interleaving "the admin was authenticated, then disabled elsewhere, then the write ran".
 * `settle()` runs it afterwards if no write came (a request refused before writing): the other
 * admin's disable lands all the same.
 */
function beforeFlagWrite(deps: Deps, before: () => Promise<unknown>): { settle(): Promise<void> } {
  const store = deps.store as unknown as { run: (script: StoreScript, ...rest: unknown[]) => Promise<unknown> };
  const original = store.run.bind(store);
  let armed = true;
  store.run = async (script, ...rest) => {
    if (armed && (script.name === "set-disabled" || script.name === "enable-account")) {
      armed = false;
      await before();
    }
    return original(script, ...rest);
  };
  return {
    async settle() {
      if (!armed) return;
      armed = false;
      await before();
    },
  };
}

describe("attack: an admin being disabled undoes it with an in-flight enable", () => {
  it("self-enable → 409 cannot_enable_self, nothing changes", async () => {
    const { fetch, deps } = await testApp();
    const me = await admin(fetch, deps);
    const r = await call(`/admin/users/${me.id}/enable`, { method: "POST", token: me.token }, fetch);
    expect(r.status).toBe(409);
    expect(r.json).toEqual({ error: "conflict", reason: "cannot_enable_self" });
  });

  it("disabled between authentication and the write, re-enabling themselves: stays disabled", async () => {
    const { fetch, deps } = await testApp({ SESSION_CACHE_TTL: "0" });
    const [a, b] = [await admin(fetch, deps), await admin(fetch, deps)];
    const race = beforeFlagWrite(deps, () => call(`/admin/users/${a.id}/disable`, { method: "POST", token: b.token }, fetch));
    const r = await call(`/admin/users/${a.id}/enable`, { method: "POST", token: a.token }, fetch);
    await race.settle();
    expect(r.status).not.toBe(200);
    expect((await deps.accounts.findById(a.id))!.disabled).toBe(true);
    expect((await call("/auth/login", { body: { email: a.email, password: PASSWORD } }, fetch)).status).toBe(401);
  });

  it("disabled between authentication and the write, enabling someone else: 401 revoked, nothing enabled", async () => {
    const { fetch, deps } = await testApp({ SESSION_CACHE_TTL: "0" });
    const [a, b, c] = [await admin(fetch, deps), await admin(fetch, deps), await admin(fetch, deps)];
    expect((await call(`/admin/users/${c.id}/disable`, { method: "POST", token: b.token }, fetch)).status).toBe(200);
    beforeFlagWrite(deps, () => call(`/admin/users/${a.id}/disable`, { method: "POST", token: b.token }, fetch));
    const r = await call(`/admin/users/${c.id}/enable`, { method: "POST", token: a.token }, fetch);
    expect(r.status).toBe(401);
    expect(r.json).toEqual({ error: "unauthorized", reason: "revoked" });
    expect((await deps.accounts.findById(c.id))!.disabled).toBe(true);
  });
});
