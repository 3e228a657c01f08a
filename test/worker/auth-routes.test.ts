import { describe, expect, it } from "vitest";
import { testApp } from "../helpers/app.js";
import { call, login, PASSWORD, register, uniqueEmail, worker } from "../helpers/http.js";

const challenge = (reason: string) => `Bearer error="invalid_token", error_description="${reason}"`;

describe("register and login", () => {
  it("registers, returns a Bearer token in the body (only), and the token works", async () => {
    const email = uniqueEmail();
    const r = await call("/auth/register", { body: { email, password: PASSWORD } });
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({ tokenType: "Bearer", user: { email, roles: [] } });
    expect(r.headers.get("Authorization")).toBeNull();
    expect(Date.parse(r.json.expiresAt)).toBeGreaterThan(Date.parse(r.json.idleExpiresAt) - 1);
    const me = await call("/api/me", { token: r.json.token });
    expect(me.status).toBe(200);
    expect(me.json.user).toEqual(r.json.user);
  });

  it("refuses registration when SIGNUP is closed", async () => {
    const app = await testApp({ SIGNUP: "closed" });
    const r = await call("/auth/register", { body: { email: uniqueEmail(), password: PASSWORD } }, app.fetch);
    expect(r.status).toBe(403);
    expect(r.json).toEqual({ error: "forbidden", reason: "signup_closed" });
  });

  it("refuses a taken email with 409 (case and spaces normalised)", async () => {
    const a = await register();
    const r = await call("/auth/register", { body: { email: `  ${a.email.toUpperCase()} `, password: PASSWORD } });
    expect(r.status).toBe(409);
    expect(r.json).toEqual({ error: "email_taken" });
  });

  it("logs in with a new session every time, never adopting a presented token", async () => {
    const a = await register();
    const b = await login(worker, a.email);
    expect(b.token).not.toBe(a.token);
    const c = await call("/auth/login", { body: { email: a.email, password: PASSWORD }, token: a.token });
    expect(c.status).toBe(200);
    expect(c.json.token).not.toBe(a.token);
    expect((await call("/api/me", { token: a.token })).status).toBe(200); // other sessions untouched
  });

  it("accepts a 64-character passphrase and a 1024-character password", async () => {
    const long = "p".repeat(1024);
    const a = await register(undefined, uniqueEmail(), "a".repeat(64));
    expect(a.token).toBeTruthy();
    const b = await register(undefined, uniqueEmail(), long);
    expect((await call("/auth/login", { body: { email: b.email, password: long } })).status).toBe(200);
  });

  it("gives unknown user, wrong password and disabled account the same 401 body", async () => {
    const a = await register();
    const unknown = await call("/auth/login", { body: { email: uniqueEmail(), password: PASSWORD } });
    const wrong = await call("/auth/login", { body: { email: a.email, password: "wrong password!" } });
    expect(unknown.status).toBe(401);
    expect(wrong.status).toBe(401);
    expect(unknown.text).toBe(wrong.text);
    expect(unknown.json).toEqual({ error: "invalid_credentials" });
  });

  describe("bad input", () => {
    it.each([
      ["not JSON", "{nope", 400, "invalid_json"],
      ["an array", "[]", 400, "invalid_request"],
      ["missing password", JSON.stringify({ email: "a@b.test" }), 400, "invalid_request"],
      ["short password", JSON.stringify({ email: "a@b.test", password: "short" }), 400, "invalid_request"],
      ["1025-char password", JSON.stringify({ email: "a@b.test", password: "x".repeat(1025) }), 400, "invalid_request"],
      ["bad email", JSON.stringify({ email: "nope", password: PASSWORD }), 400, "invalid_request"],
      ["extra field", JSON.stringify({ email: "a@b.test", password: PASSWORD, roles: ["admin"] }), 400, "invalid_request"],
      ["number email", JSON.stringify({ email: 5, password: PASSWORD }), 400, "invalid_request"],
    ])("login with %s → %i %s", async (_, body, status, error) => {
      const r = await call("/auth/login", { body });
      expect(r.status).toBe(status);
      expect(r.json.error).toBe(error);
    });

    it("names the field at fault", async () => {
      const r = await call("/auth/register", { body: { email: "a@b.test", password: "short" } });
      expect(r.json).toMatchObject({ error: "invalid_request", field: "password" });
    });

    it("rejects a body over 16 KB with 413 before parsing", async () => {
      const r = await call("/auth/login", { body: "x".repeat(1024 * 1024) });
      expect(r.status).toBe(413);
      expect(r.json.error).toBe("payload_too_large");
    });

    it("rejects a non-JSON content type with 400", async () => {
      const r = await call("/auth/login", { body: "email=a", headers: { "Content-Type": "application/x-www-form-urlencoded" } });
      expect(r.status).toBe(400);
    });
  });
});

describe("verification", () => {
  it("401 missing, with the Bearer challenge", async () => {
    const r = await call("/api/me");
    expect(r.status).toBe(401);
    expect(r.json).toEqual({ error: "unauthorized", reason: "missing" });
    expect(r.headers.get("WWW-Authenticate")).toBe(challenge("missing"));
  });

  it("accepts the scheme in any case (RFC 7235)", async () => {
    const a = await register();
    expect((await call("/api/me", { headers: { Authorization: `bearer ${a.token}` } })).status).toBe(200);
  });

  describe("Security", () => {
    it.each([
      ["Basic scheme", (t: string) => `Basic ${t}`, "malformed"],
      ["no space", (t: string) => `Bearer${t}`, "malformed"],
      ["two spaces", (t: string) => `Bearer  ${t}`, "malformed"],
      ["joined duplicate header", (t: string) => `Bearer ${t}, Bearer ${t}`, "malformed"],
      ["10 KB token", () => `Bearer ${"a".repeat(10_240)}`, "malformed"],
      ["flipped MAC", (t: string) => `Bearer ${t.slice(0, -2)}${t.endsWith("AA") ? "BA" : "AA"}`, "bad_signature"],
      ["unknown kid", (t: string) => `Bearer ${t.replace(/^v1\.[^.]+\./, "v1.zz.")}`, "unknown_key"],
      ["unknown version", (t: string) => `Bearer ${t.replace(/^v1/, "v9")}`, "malformed"],
    ])("401 for %s", async (_, header, reason) => {
      const a = await register();
      const r = await call("/api/me", { headers: { Authorization: header(a.token) } });
      expect(r.status).toBe(401);
      expect(r.json).toEqual({ error: "unauthorized", reason });
      expect(r.headers.get("WWW-Authenticate")).toBe(challenge(reason));
    });

    it("ignores a token in the query string (tokens never travel in URLs)", async () => {
      const a = await register();
      const r = await call(`/api/me?token=${a.token}&access_token=${a.token}`);
      expect(r.status).toBe(401);
      expect(r.json.reason).toBe("missing");
    });

    it("identity comes from the session, never from the body", async () => {
      const a = await register();
      const r = await call("/api/me", { token: a.token, method: "GET", headers: { "X-User-Id": "someone-else" } });
      expect(r.json.user.id).toBe(a.user.id);
    });
  });
});

describe("logout and session management", () => {
  it("logout → 204, and the token is dead at once", async () => {
    const a = await register();
    expect((await call("/auth/logout", { method: "POST", token: a.token })).status).toBe(204);
    const r = await call("/api/me", { token: a.token });
    expect(r.status).toBe(401);
    expect(r.json.reason).toBe("revoked");
    expect((await call("/auth/logout", { method: "POST", token: a.token })).status).toBe(401);
  });

  it("GET /auth/session describes the current session", async () => {
    const a = await register(undefined, uniqueEmail(), PASSWORD, { "User-Agent": "TestBrowser/1.0", "CF-Connecting-IP": "203.0.113.7" });
    const r = await call("/auth/session", { token: a.token });
    expect(r.status).toBe(200);
    expect(r.json.session).toMatchObject({ device: "TestBrowser/1.0", ip: "203.0.113.7", current: true });
    expect(r.json.session.id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(JSON.stringify(r.json)).not.toContain(a.token);
  });

  it("lists the user's sessions with a current flag", async () => {
    const a = await register();
    const b = await login(worker, a.email);
    const r = await call("/auth/sessions", { token: b.token });
    expect(r.status).toBe(200);
    expect(r.json.sessions).toHaveLength(2);
    expect(r.json.sessions.filter((s: any) => s.current)).toHaveLength(1);
  });

  it("DELETE /auth/sessions/:id ends one of the caller's sessions", async () => {
    const a = await register();
    const b = await login(worker, a.email);
    const list = await call("/auth/sessions", { token: b.token });
    const other = list.json.sessions.find((s: any) => !s.current);
    expect((await call(`/auth/sessions/${other.id}`, { method: "DELETE", token: b.token })).status).toBe(204);
    expect((await call("/api/me", { token: a.token })).status).toBe(401);
    expect((await call("/api/me", { token: b.token })).status).toBe(200);
  });

  it("DELETE /auth/sessions/:id is 404 for another user's session and for nonsense, without revealing which", async () => {
    const a = await register();
    const x = await register();
    const xs = await call("/auth/session", { token: x.token });
    const foreign = await call(`/auth/sessions/${xs.json.session.id}`, { method: "DELETE", token: a.token });
    const missing = await call(`/auth/sessions/${"A".repeat(22)}`, { method: "DELETE", token: a.token });
    const junk = await call(`/auth/sessions/..%2F..`, { method: "DELETE", token: a.token });
    expect(foreign.status).toBe(404);
    expect(missing.text).toBe(foreign.text);
    expect(junk.status).toBe(404);
    expect((await call("/api/me", { token: x.token })).status).toBe(200);
  });

  it("revoke-others ends every other session, even one in use on another device", async () => {
    const a = await register();
    const b = await login(worker, a.email);
    const c = await login(worker, a.email);
    expect((await call("/api/me", { token: a.token })).status).toBe(200); // warm a's cache entry
    const r = await call("/auth/sessions/revoke-others", { method: "POST", token: c.token });
    expect(r.json).toEqual({ revoked: 2 });
    expect((await call("/api/me", { token: a.token })).status).toBe(401);
    expect((await call("/api/me", { token: b.token })).status).toBe(401);
    expect((await call("/api/me", { token: c.token })).status).toBe(200);
  });

  it("password change ends every session and issues a fresh token; the old password stops working", async () => {
    const a = await register();
    const other = await login(worker, a.email);
    const newPassword = "a brand new passphrase";
    const r = await call("/auth/password", { token: a.token, body: { currentPassword: PASSWORD, newPassword } });
    expect(r.status).toBe(200);
    expect(r.json.token).not.toBe(a.token);
    expect((await call("/api/me", { token: a.token })).status).toBe(401);
    expect((await call("/api/me", { token: other.token })).status).toBe(401);
    expect((await call("/api/me", { token: r.json.token })).status).toBe(200);
    expect((await call("/auth/login", { body: { email: a.email, password: PASSWORD } })).status).toBe(401);
    expect((await call("/auth/login", { body: { email: a.email, password: newPassword } })).status).toBe(200);
  });

  it("password change with a wrong current password → 403, nothing ends", async () => {
    const a = await register();
    const r = await call("/auth/password", { token: a.token, body: { currentPassword: "not the password", newPassword: "whatever12345" } });
    expect(r.status).toBe(403);
    expect(r.json.error).toBe("forbidden");
    expect((await call("/api/me", { token: a.token })).status).toBe(200);
  });
});

describe("concurrent sessions cap", () => {
  it("ends the oldest beyond 20 sessions", async () => {
    const a = await register();
    const tokens = [a.token];
    for (let i = 0; i < 20; i++) tokens.push((await login(worker, a.email)).token);
    expect((await call("/api/me", { token: tokens[0] })).status).toBe(401);
    expect((await call("/api/me", { token: tokens[1] })).status).toBe(200);
    const list = await call("/auth/sessions", { token: tokens[20] });
    expect(list.json.sessions).toHaveLength(20);
  });
});
