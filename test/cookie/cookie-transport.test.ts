/**
 * The `__Host-session` cookie transport: every attribute of the cookie, what the body and headers
 * no longer carry, logout and password change, a refused cookie cleared (forged, expired,
 * revoked, malformed: a forged one costs the store nothing), and the precedence rules when a
 * request carries both a cookie and `Authorization`.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Clock, testApp } from "../helpers/app.js";
import { call, login, PASSWORD, register, request, uniqueEmail, worker, type Fetch } from "../helpers/http.js";
import { COOKIE, cookieHeader, rawSetCookies, cookieSignIn, SAME_ORIGIN, sessionSetCookie, setCookies, type ParsedSetCookie } from "../helpers/cookie.js";
import { privateStore, resetStats, totalCommands, type StoreInstance } from "../helpers/store.js";

const TOKEN_SHAPE = /^v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}$/;

function expectCleared(c: ParsedSetCookie | null, sameSite = "Lax") {
  expect(c).not.toBeNull();
  expect(c!.value).toBe("");
  expect(c!.attributes.get("max-age")).toBe("0");
  expect(c!.attributes.get("path")).toBe("/");
  expect(c!.attributes.has("secure")).toBe(true);
  expect(c!.attributes.has("httponly")).toBe(true);
  expect(c!.attributes.get("samesite")).toBe(sameSite);
  expect(c!.attributes.has("domain")).toBe(false);
}

const session = (token: string, fetcher?: Fetch) => call("/auth/session", { headers: cookieHeader(token) }, fetcher);

describe("cookie transport: the cookie and what the response no longer carries", () => {
  it("register with transport cookie: __Host-session; Max-Age; Path=/; Secure; HttpOnly; SameSite=Lax; no Domain; no token in body or headers", async () => {
    const before = Date.now();
    const { res, body, token } = await cookieSignIn();
    expect(res.status).toBe(201);
    const c = sessionSetCookie(res)!;
    expect(c.name).toBe(COOKIE);
    expect(c.value).toMatch(TOKEN_SHAPE);
    expect([...c.attributes.keys()].sort()).toEqual(["httponly", "max-age", "path", "samesite", "secure"]);
    expect(c.attributes.get("path")).toBe("/");
    expect(c.attributes.get("samesite")).toBe("Lax");
    expect(c.attributes.has("domain")).toBe(false);
    expect(c.attributes.has("expires")).toBe(false);
    // Max-Age never outlives the session's absolute expiry.
    const maxAge = Number(c.attributes.get("max-age"));
    const absoluteLeft = (Date.parse(body.expiresAt) - before) / 1000;
    expect(maxAge).toBeLessThanOrEqual(absoluteLeft);
    expect(maxAge).toBeGreaterThan(absoluteLeft - 5);
    // Not in the body, not in a header.
    expect(body.token).toBeUndefined();
    expect(body.transport).toBe("cookie");
    expect(body.user.email).toMatch(/@example\.test$/);
    expect(JSON.stringify(body)).not.toContain(token);
    expect(res.headers.get("Authorization")).toBeNull();
    for (const [name, value] of res.headers) if (name !== "set-cookie") expect(value).not.toContain(token);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    // The cookie authenticates.
    const me = await call("/api/me", { headers: cookieHeader(token) });
    expect(me.status).toBe(200);
    expect(me.json.user.email).toBe(body.user.email);
  });

  it("login with transport cookie: 200 and the same cookie; a Bearer login (the default) sets no cookie", async () => {
    const u = await register();
    const viaCookie = await cookieSignIn(undefined, { email: u.email, path: "/auth/login" });
    expect(viaCookie.res.status).toBe(200);
    expect(viaCookie.body.token).toBeUndefined();
    const bearer = await call("/auth/login", { body: { email: u.email, password: PASSWORD } });
    expect(bearer.status).toBe(200);
    expect(bearer.json.token).toMatch(TOKEN_SHAPE);
    expect(bearer.headers.get("Authorization")).toBeNull(); // the token travels in the body only
    expect(rawSetCookies(bearer)).toEqual([]);
    const explicit = await call("/auth/login", { body: { email: u.email, password: PASSWORD, transport: "bearer" } });
    expect(explicit.status).toBe(200);
    expect(rawSetCookies(explicit)).toEqual([]);
  });

  it("an unknown transport is 400 invalid_request naming the field", async () => {
    const r = await call("/auth/login", { body: { email: uniqueEmail(), password: PASSWORD, transport: "localStorage" } });
    expect(r.status).toBe(400);
    expect(r.json).toMatchObject({ error: "invalid_request", field: "transport" });
  });

  it("SESSION_COOKIE_SAMESITE=strict: SameSite=Strict, also when cleared", async () => {
    const { fetch } = await testApp({ SESSION_COOKIE_SAMESITE: "strict" });
    const { res, token } = await cookieSignIn(fetch);
    expect(sessionSetCookie(res)!.attributes.get("samesite")).toBe("Strict");
    const out = await fetch(request("/auth/logout", { method: "POST", headers: { ...cookieHeader(token), ...SAME_ORIGIN } }));
    expect(out.status).toBe(204);
    expectCleared(sessionSetCookie(out), "Strict");
  });

  it("SESSION_COOKIE_SAMESITE=none is a configuration error (None would send the cookie cross-site)", async () => {
    await expect(testApp({ SESSION_COOKIE_SAMESITE: "none" })).rejects.toThrow(/SESSION_COOKIE_SAMESITE must be lax or strict/);
  });

  it("Max-Age is the absolute life left, to the second (controlled clock, 1 h absolute)", async () => {
    const clock = new Clock();
    const { fetch } = await testApp({ SESSION_ABSOLUTE_TIMEOUT: "1 h", SESSION_IDLE_TIMEOUT: "30 m" }, clock);
    const { res } = await cookieSignIn(fetch);
    expect(sessionSetCookie(res)!.attributes.get("max-age")).toBe("3600");
  });
});

describe("cookie transport: logout, password change", () => {
  it("logout clears the cookie and ends the session", async () => {
    const { token } = await cookieSignIn();
    const out = await worker(request("/auth/logout", { method: "POST", headers: { ...cookieHeader(token), ...SAME_ORIGIN } }));
    expect(out.status).toBe(204);
    expectCleared(sessionSetCookie(out));
    const after = await session(token);
    expect(after.status).toBe(401);
  });

  it("password change through the cookie: a new cookie replaces it, no token in the body, the old cookie is refused and cleared", async () => {
    const { token, email } = await cookieSignIn();
    const changed = await worker(request("/auth/password", { headers: { ...cookieHeader(token), ...SAME_ORIGIN }, body: { currentPassword: PASSWORD, newPassword: "a brand new password 1" } }));
    expect(changed.status).toBe(200);
    const body = (await changed.json()) as any;
    expect(body.token).toBeUndefined();
    expect(body.transport).toBe("cookie");
    expect(changed.headers.get("Authorization")).toBeNull();
    const fresh = sessionSetCookie(changed)!;
    expect(fresh.value).toMatch(TOKEN_SHAPE);
    expect(fresh.value).not.toBe(token);
    expect(fresh.attributes.has("httponly")).toBe(true);
    expect(Number(fresh.attributes.get("max-age"))).toBeGreaterThan(0);
    const old = await session(token);
    expect(old.status).toBe(401);
    expectCleared(sessionSetCookie(old));
    expect((await session(fresh.value)).status).toBe(200);
    expect((await call("/auth/login", { body: { email, password: "a brand new password 1" } })).status).toBe(200);
  });
});

describe("forged, expired, revoked and malformed session cookies: 401, cleared", () => {
  let store: StoreInstance & { close(): Promise<void> };
  let app: Fetch;

  beforeAll(async () => {
    store = await privateStore();
    // No edge cache: a refusal cannot come from memory.
    app = (await testApp({ UPSTASH_REDIS_REST_URL: store.url, UPSTASH_REDIS_REST_TOKEN: store.token, SESSION_CACHE_TTL: "0" })).fetch;
  });
  afterAll(() => store?.close());

  it("a forged token in the cookie: 401 bad_signature, cookie cleared, zero store commands", async () => {
    const { token } = await cookieSignIn(app);
    const [v, kid, id, mac] = token.split(".") as [string, string, string, string];
    const forged = `${v}.${kid}.${id}.${mac[0] === "A" ? "B" : "A"}${mac.slice(1)}`;
    await resetStats(store);
    for (const path of ["/api/me", "/auth/session"]) {
      const r = await app(request(path, { headers: cookieHeader(forged) }));
      expect(r.status).toBe(401);
      expect(await r.json()).toEqual({ error: "unauthorized", reason: "bad_signature" });
      expectCleared(sessionSetCookie(r));
    }
    const out = await app(request("/auth/logout", { method: "POST", headers: { ...cookieHeader(forged), ...SAME_ORIGIN } }));
    expect(out.status).toBe(401);
    expectCleared(sessionSetCookie(out));
    expect(await totalCommands(store)).toBe(0);
  });

  it("garbage, an empty value, or the cookie named twice: 401 malformed, cleared, zero store commands", async () => {
    const { token } = await cookieSignIn(app);
    await resetStats(store);
    for (const cookie of [`${COOKIE}=garbage`, `${COOKIE}=`, `${COOKIE}=${token}; ${COOKIE}=${token}`, `a=b; ${COOKIE}=${"x".repeat(200)}`]) {
      const r = await app(request("/api/me", { headers: { Cookie: cookie } }));
      expect(r.status, cookie).toBe(401);
      expect((await r.json()) as any).toMatchObject({ reason: "malformed" });
      expectCleared(sessionSetCookie(r));
    }
    expect(await totalCommands(store)).toBe(0);
  });

  it("no session cookie (other cookies only): 401 missing and nothing cleared", async () => {
    const r = await app(request("/api/me", { headers: { Cookie: "theme=dark; __Host-sessionx=1" } }));
    expect(r.status).toBe(401);
    expect((await r.json()) as any).toMatchObject({ reason: "missing" });
    expect(setCookies(r)).toEqual([]);
  });

  it("a revoked session's cookie: 401 revoked, cleared", async () => {
    const { token, email } = await cookieSignIn(app);
    const other = await login(app, email);
    const mine = await call("/auth/session", { headers: cookieHeader(token) }, app);
    const ended = await call(`/auth/sessions/${mine.json.session.id}`, { method: "DELETE", token: other.token }, app);
    expect(ended.status).toBe(204);
    for (const path of ["/api/me", "/auth/session", "/auth/sessions"]) {
      const r = await app(request(path, { headers: cookieHeader(token) }));
      expect(r.status, path).toBe(401);
      expect((await r.json()) as any).toMatchObject({ reason: "revoked" });
      expectCleared(sessionSetCookie(r));
    }
  });

  it("an expired session's cookie: 401 expired, cleared (controlled clock)", async () => {
    const clock = new Clock();
    const { fetch } = await testApp({ UPSTASH_REDIS_REST_URL: store.url, UPSTASH_REDIS_REST_TOKEN: store.token, SESSION_CACHE_TTL: "0" }, clock);
    const { token } = await cookieSignIn(fetch);
    expect((await fetch(request("/api/me", { headers: cookieHeader(token) }))).status).toBe(200);
    clock.advance(30 * 60_000 + 1);
    const r = await fetch(request("/api/me", { headers: cookieHeader(token) }));
    expect(r.status).toBe(401);
    expect((await r.json()) as any).toMatchObject({ reason: "expired" });
    expectCleared(sessionSetCookie(r));
  });
});

describe("precedence: a request with both Authorization and the cookie is authenticated by Authorization alone", () => {
  let cookieUser: { token: string; email: string };
  let bearerUser: { token: string; email: string };

  beforeAll(async () => {
    const c = await cookieSignIn();
    cookieUser = { token: c.token, email: c.email };
    const b = await register();
    bearerUser = { token: b.token, email: b.email };
  });

  it("different sessions (different users): the Bearer session answers; the cookie is neither used nor cleared", async () => {
    const r = await call("/api/me", { token: bearerUser.token, headers: cookieHeader(cookieUser.token) });
    expect(r.status).toBe(200);
    expect(r.json.user.email).toBe(bearerUser.email);
    expect(rawSetCookies(r)).toEqual([]);
    const s = await call("/auth/session", { token: bearerUser.token, headers: cookieHeader(cookieUser.token) });
    expect(s.json.user.email).toBe(bearerUser.email);
  });

  it("same user, two sessions: /auth/session names the Bearer one; logout ends only it and leaves the cookie's", async () => {
    const second = await login(worker, cookieUser.email);
    const viaCookie = await session(cookieUser.token);
    const both = await call("/auth/session", { token: second.token, headers: cookieHeader(cookieUser.token) });
    expect(both.json.session.id).not.toBe(viaCookie.json.session.id);
    // Unsafe, cross-site Origin, no CSRF header: a Bearer request needs no CSRF proof.
    const out = await call("/auth/logout", { method: "POST", token: second.token, headers: { ...cookieHeader(cookieUser.token), Origin: "https://evil.example" } });
    expect(out.status).toBe(204);
    expect(rawSetCookies(out)).toEqual([]);
    expect((await call("/api/me", { token: second.token })).status).toBe(401);
    expect((await session(cookieUser.token)).status).toBe(200);
  });

  it("a refused Bearer header next to a good cookie: 401 for the header, the cookie is not used and not cleared", async () => {
    for (const header of ["Bearer v1.k1.nope.nope", "Basic dXNlcjpwYXNz", "Bearer"]) {
      const r = await call("/api/me", { headers: { Authorization: header, ...cookieHeader(cookieUser.token) } });
      expect(r.status, header).toBe(401);
      expect(rawSetCookies(r)).toEqual([]);
    }
    expect((await session(cookieUser.token)).status).toBe(200);
  });

  it("a good Bearer header next to a forged cookie: 200, nothing cleared", async () => {
    const r = await call("/api/me", { token: bearerUser.token, headers: { Cookie: `${COOKIE}=v1.k1.${"A".repeat(43)}.${"B".repeat(43)}` } });
    expect(r.status).toBe(200);
    expect(rawSetCookies(r)).toEqual([]);
  });

  it("password change with Bearer while a cookie is present: the new token comes back as Bearer, no cookie is set", async () => {
    const b = await register();
    const c = await cookieSignIn();
    const r = await call("/auth/password", { token: b.token, headers: cookieHeader(c.token), body: { currentPassword: PASSWORD, newPassword: "another new password 2" } });
    expect(r.status).toBe(200);
    expect(r.json.token).toMatch(TOKEN_SHAPE);
    expect(rawSetCookies(r)).toEqual([]);
    expect((await session(c.token)).status).toBe(200);
  });
});
