import { beforeAll, describe, expect, it } from "vitest";
import { testApp } from "../helpers/app.js";
import { call, login, PASSWORD, register, uniqueEmail, worker } from "../helpers/http.js";

let adminToken: string;

beforeAll(async () => {
  const { deps } = await testApp();
  const email = uniqueEmail("admin");
  await deps.accounts.create({ email, passwordHash: await deps.passwords.hash(PASSWORD), roles: ["admin"] });
  adminToken = (await login(worker, email)).token;
});

describe("admin", () => {
  it("lists a user's sessions", async () => {
    const u = await register();
    await login(worker, u.email);
    const r = await call(`/admin/users/${u.user.id}/sessions`, { token: adminToken });
    expect(r.status).toBe(200);
    expect(r.json.sessions).toHaveLength(2);
  });

  it("kill switch: DELETE ends every session of the user", async () => {
    const u = await register();
    const second = await login(worker, u.email);
    const r = await call(`/admin/users/${u.user.id}/sessions`, { method: "DELETE", token: adminToken });
    expect(r.json).toEqual({ revoked: 2 });
    expect((await call("/api/me", { token: u.token })).status).toBe(401);
    expect((await call("/api/me", { token: second.token })).status).toBe(401);
  });

  it("disable ends all sessions and login then fails with the usual 401", async () => {
    const u = await register();
    const r = await call(`/admin/users/${u.user.id}/disable`, { method: "POST", token: adminToken });
    expect(r.json).toEqual({ disabled: true, revoked: 1 });
    expect((await call("/api/me", { token: u.token })).status).toBe(401);
    const again = await call("/auth/login", { body: { email: u.email, password: PASSWORD } });
    expect(again.status).toBe(401);
    expect(again.json).toEqual({ error: "invalid_credentials" });
  });

  it("disable of an id without an account is stored too (users of createSession have none); a malformed id → 404", async () => {
    const r = await call(`/admin/users/${"Z".repeat(22)}/disable`, { method: "POST", token: adminToken });
    expect(r.json).toEqual({ disabled: true, revoked: 0 });
    expect((await call(`/admin/users/${"Z".repeat(65)}/disable`, { method: "POST", token: adminToken })).status).toBe(404);
  });

  describe("Security", () => {
    it("a non-admin gets 403 forbidden on every admin route", async () => {
      const u = await register();
      for (const [method, path] of [["GET", `/admin/users/${u.user.id}/sessions`], ["DELETE", `/admin/users/${u.user.id}/sessions`], ["POST", `/admin/users/${u.user.id}/disable`]] as const) {
        const r = await call(path, { method, token: u.token });
        expect(r.status).toBe(403);
        expect(r.json).toEqual({ error: "forbidden" });
      }
      expect((await call("/api/me", { token: u.token })).status).toBe(200);
    });

    it("no token → 401, not 403", async () => {
      expect((await call("/admin/users/x/sessions")).status).toBe(401);
    });

    it("decisions use the pathname only: a query cannot smuggle a route", async () => {
      const u = await register();
      const r = await call(`/admin/users/${u.user.id}/sessions?path=/api/me`, { token: u.token });
      expect(r.status).toBe(403);
    });
  });
});

describe("attack: an admin disabling themselves, or the admins disabling each other", () => {
  async function newAdmin() {
    const { deps } = await testApp();
    const email = uniqueEmail("admin");
    const account = await deps.accounts.create({ email, passwordHash: await deps.passwords.hash(PASSWORD), roles: ["admin"] });
    return { id: account!.id, token: (await login(worker, email)).token, email };
  }

  it("self-disable → 409 cannot_disable_self, nothing changes", async () => {
    const me = await newAdmin();
    const r = await call(`/admin/users/${me.id}/disable`, { method: "POST", token: me.token });
    expect(r.status).toBe(409);
    expect(r.json).toEqual({ error: "conflict", reason: "cannot_disable_self" });
    expect((await call("/auth/session", { token: me.token })).status).toBe(200);
    expect((await call("/auth/login", { body: { email: me.email, password: PASSWORD } })).status).toBe(200);
  });

  it("two admins disabling each other at once: at most one succeeds, an enabled admin remains", async () => {
    for (let round = 0; round < 5; round++) {
      const [a, b] = [await newAdmin(), await newAdmin()];
      const [ab, ba] = await Promise.all([
        call(`/admin/users/${b.id}/disable`, { method: "POST", token: a.token }),
        call(`/admin/users/${a.id}/disable`, { method: "POST", token: b.token }),
      ]);
      const statuses = [ab.status, ba.status].sort();
      expect(statuses, `round ${round}`).toEqual([200, 401]);
      const loser = ab.status === 401 ? ab : ba;
      expect(loser.json).toEqual({ error: "unauthorized", reason: "revoked" });
      const survivor = ab.status === 200 ? a : b;
      expect((await call("/auth/login", { body: { email: survivor.email, password: PASSWORD } })).status).toBe(200);
    }
  });
});

describe("enable", () => {
  it("POST /admin/users/:id/enable lets a disabled user log in again (old sessions stay ended)", async () => {
    const u = await register();
    expect((await call(`/admin/users/${u.user.id}/disable`, { method: "POST", token: adminToken })).status).toBe(200);
    expect((await call("/auth/login", { body: { email: u.email, password: PASSWORD } })).status).toBe(401);
    const r = await call(`/admin/users/${u.user.id}/enable`, { method: "POST", token: adminToken });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ disabled: false });
    expect((await call("/auth/login", { body: { email: u.email, password: PASSWORD } })).status).toBe(200);
    expect((await call("/api/me", { token: u.token })).status).toBe(401);
  });

  it("an id without an account: 200 (nothing to lift is not an error); a non-admin → 403", async () => {
    expect((await call(`/admin/users/${"Y".repeat(22)}/enable`, { method: "POST", token: adminToken })).status).toBe(200);
    const u = await register();
    expect((await call(`/admin/users/${u.user.id}/enable`, { method: "POST", token: u.token })).status).toBe(403);
  });
});
