/**
 * Every authenticated response, and every response that carries a token or a ticket, says
 * `Cache-Control: no-store` (RFC 9111 §5.2.2.5): personal data and credentials must not stay in a
 * browser's or a shared cache. Route by route, successes and refusals after authentication.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { testApp } from "../helpers/app.js";
import { call, login, PASSWORD, register, uniqueEmail, type Fetch } from "../helpers/http.js";

let fetch: Fetch;
let adminToken: string;

beforeAll(async () => {
  const app = await testApp();
  fetch = app.fetch;
  const email = uniqueEmail("admin");
  await app.deps.accounts.create({ email, passwordHash: await app.deps.passwords.hash(PASSWORD), roles: ["admin"] });
  adminToken = (await login(fetch, email)).token;
});

describe("attack: personal data and credentials kept by a browser or shared cache", () => {
  it("every route, success and refusal after authentication", async () => {
    const u = await register(fetch);
    const other = await login(fetch, u.email);
    const sessionId: string = (await call("/auth/session", { token: other.token }, fetch)).json.session.id;
    const victim = await register(fetch);
    const cases: [string, Parameters<typeof call>[1], number][] = [
      ["/auth/register", { body: { email: uniqueEmail(), password: PASSWORD } }, 201],
      ["/auth/login", { body: { email: u.email, password: PASSWORD } }, 200],
      ["/auth/session", { token: u.token }, 200],
      ["/auth/sessions", { token: u.token }, 200],
      ["/api/me", { token: u.token }, 200],
      ["/auth/ws-ticket", { method: "POST", token: u.token }, 200],
      ["/auth/sessions/AAAAAAAAAAAAAAAAAAAAAA", { method: "DELETE", token: u.token }, 404],
      [`/auth/sessions/${sessionId}`, { method: "DELETE", token: u.token }, 204],
      ["/auth/sessions/revoke-others", { method: "POST", token: u.token }, 200],
      ["/auth/password", { token: u.token, body: { currentPassword: "not the password", newPassword: "whatever new one" } }, 403],
      ["/admin/users/x/sessions", { token: u.token }, 403],
      [`/admin/users/${victim.user.id}/sessions`, { token: adminToken }, 200],
      [`/admin/users/${victim.user.id}/sessions`, { method: "DELETE", token: adminToken }, 200],
      [`/admin/users/${victim.user.id}/disable`, { method: "POST", token: adminToken }, 200],
      [`/admin/users/${victim.user.id}/enable`, { method: "POST", token: adminToken }, 200],
      ["/auth/password", { token: u.token, body: { currentPassword: PASSWORD, newPassword: "a brand new password" } }, 200],
    ];
    for (const [path, options, status] of cases) {
      const r = await call(path, options, fetch);
      const what = `${options?.method ?? (options?.body ? "POST" : "GET")} ${path}`;
      expect(r.status, what).toBe(status);
      expect(r.headers.get("Cache-Control"), what).toBe("no-store");
    }
    // Logout last: it ends the session the others used.
    const fresh = await login(fetch, u.email, "a brand new password");
    const out = await call("/auth/logout", { method: "POST", token: fresh.token }, fetch);
    expect(out.status).toBe(204);
    expect(out.headers.get("Cache-Control")).toBe("no-store");
  });
});
