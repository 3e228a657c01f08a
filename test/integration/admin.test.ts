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

  it("disable of an unknown user → 404", async () => {
    const r = await call(`/admin/users/${"Z".repeat(22)}/disable`, { method: "POST", token: adminToken });
    expect(r.status).toBe(404);
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
