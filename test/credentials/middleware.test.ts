/** The middleware mounted in another Hono app (examples/mount.ts), verifying the worker's tokens. */
import { env } from "cloudflare:test";
import { describe, expect, expectTypeOf, it, vi } from "vitest";
import { Hono } from "hono";
import { createMountedApp } from "../../examples/mount.js";
import { createSessionLayer, StoreError, type SessionUser } from "edge-session";
import { bearerSource, cookieSource, errorHandler, sessionAuth, type SessionVariables } from "edge-session/hono";
import { AccountStore } from "../../src/accounts/accounts.js";
import { refuse } from "../../src/http/responses.js";
import { call, register } from "../helpers/http.js";
import { cookieSignIn, rawSetCookies } from "../helpers/cookie.js";
import { privateStore, setControl } from "../helpers/store.js";

describe("library: sessionAuth in another Hono app", () => {
  it("verifies tokens issued by the worker, with typed c.var", async () => {
    const app = await createMountedApp(env);
    const a = await register();
    const ok = await app.request("/private/whoami", { headers: { Authorization: `Bearer ${a.token}` } });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ id: a.user.id, email: a.email });
    expect((await app.request("/public")).status).toBe(200);
  });

  it("401 without a token, 403 without the role, 401 after logout", async () => {
    const app = await createMountedApp(env);
    const a = await register();
    const missing = await app.request("/private/whoami");
    expect(missing.status).toBe(401);
    expect(missing.headers.get("WWW-Authenticate")).toContain("missing");
    expect((await app.request("/private/admin", { headers: { Authorization: `Bearer ${a.token}` } })).status).toBe(403);
    await call("/auth/logout", { method: "POST", token: a.token });
    // The mounted app's edge cache may hold the entry for at most SESSION_CACHE_TTL (1 s).
    await new Promise((r) => setTimeout(r, 1100));
    expect((await app.request("/private/whoami", { headers: { Authorization: `Bearer ${a.token}` } })).status).toBe(401);
  });

  it("fails fast on bad configuration, naming every problem", async () => {
    await expect(createSessionLayer({ sessionKeys: "k1:AAAA" })).rejects.toThrow(/at least 32 required.*url and token/);
    expect(() => sessionAuth({} as never)).toThrow(/pass the session layer/);
  });

  it("types c.var.user and c.var.session for every user of the middleware", async () => {
    const layer = await createSessionLayer({ url: env.UPSTASH_REDIS_REST_URL, token: env.UPSTASH_REDIS_REST_TOKEN, sessionKeys: env.SESSION_KEYS });
    new Hono<{ Variables: SessionVariables }>().get("/", sessionAuth(layer), (c) => {
      expectTypeOf(c.var.user).toEqualTypeOf<SessionUser>();
      expectTypeOf(c.var.session.userId).toBeString();
      return c.text("");
    });
  });
});

describe("library: Cache-Control on what sessionAuth lets through", () => {
  it("no-store unless the handler chose a policy, however it built its response", async () => {
    const layer = await createSessionLayer({ url: env.UPSTASH_REDIS_REST_URL, token: env.UPSTASH_REDIS_REST_TOKEN, sessionKeys: env.SESSION_KEYS, prefix: env.STORE_PREFIX });
    const app = new Hono<{ Variables: SessionVariables }>()
      .use(sessionAuth(layer))
      .onError(errorHandler)
      .get("/json", (c) => c.json({ id: c.var.user.id }))
      .get("/raw", () => new Response("raw"))
      .get("/chosen", (c) => {
        c.header("Cache-Control", "private, max-age=60");
        return c.text("chosen");
      })
      .get("/chosen-arg", (c) => c.json({}, 200, { "Cache-Control": "private, max-age=5" }))
      .get("/raw-chosen", () => new Response("raw", { headers: { "Cache-Control": "public, max-age=30" } }))
      .get("/thrown", () => {
        throw refuse({ status: 401, reason: "revoked" });
      });
    const a = await register();
    const get = (path: string) => app.request(path, { headers: { Authorization: `Bearer ${a.token}` } }, env);
    const expected: [string, number, string][] = [
      ["/json", 200, "no-store"],
      ["/raw", 200, "no-store"],
      ["/chosen", 200, "private, max-age=60"],
      ["/chosen-arg", 200, "private, max-age=5"],
      ["/raw-chosen", 200, "public, max-age=30"],
      ["/thrown", 401, "no-store"],
    ];
    for (const [path, status, policy] of expected) {
      const r = await get(path);
      expect(r.status, path).toBe(status);
      expect(r.headers.get("Cache-Control"), path).toBe(policy);
    }
  });
});

describe("library: the session cookie as a token source", () => {
  it("sessionAuth with [bearerSource, cookieSource()]: the cookie authenticates, CSRF guards unsafe methods, a handler's 401 clears the cookie", async () => {
    const layer = await createSessionLayer({ url: env.UPSTASH_REDIS_REST_URL, token: env.UPSTASH_REDIS_REST_TOKEN, sessionKeys: env.SESSION_KEYS, prefix: env.STORE_PREFIX });
    const app = new Hono<{ Variables: SessionVariables }>()
      .use(sessionAuth(layer, { sources: [bearerSource, cookieSource({ sameSite: "Strict" })] }))
      .get("/who", (c) => c.json({ id: c.var.user.id, credential: c.var.credential }))
      .post("/gone", (c) => c.json({ error: "unauthorized", reason: "revoked" }, 401))
      .post("/gone-thrown", () => {
        throw refuse({ status: 401, reason: "revoked" });
      });
    const { token, body } = await cookieSignIn();
    const cookie = { Cookie: `__Host-session=${token}` };
    const who = await app.request("http://app.test/who", { headers: cookie });
    expect(await who.json()).toEqual({ id: body.user.id, credential: "cookie" });
    const forged = await app.request("http://app.test/gone", { method: "POST", headers: { ...cookie, Origin: "https://evil.test", "X-CSRF-Protection": "1" } });
    expect(forged.status).toBe(403);
    expect(await forged.json()).toEqual({ error: "forbidden", reason: "csrf" });
    const gone = await app.request("http://app.test/gone", { method: "POST", headers: { ...cookie, Origin: "http://app.test", "X-CSRF-Protection": "1" } });
    expect(gone.status).toBe(401);
    expect(rawSetCookies(gone)).toEqual(["__Host-session=; Max-Age=0; Path=/; Secure; HttpOnly; SameSite=Strict"]);
    const thrown = await app.request("http://app.test/gone-thrown", { method: "POST", headers: { ...cookie, Origin: "http://app.test", "X-CSRF-Protection": "1" } });
    expect(thrown.status).toBe(401);
    expect(rawSetCookies(thrown)).toEqual(["__Host-session=; Max-Age=0; Path=/; Secure; HttpOnly; SameSite=Strict"]);
    // The default sources stay Bearer only: a cookie alone is no credential there.
    const bearerOnly = new Hono<{ Variables: SessionVariables }>().use(sessionAuth(layer)).get("/who", (c) => c.json(c.var.user));
    expect((await bearerOnly.request("http://app.test/who", { headers: cookie })).status).toBe(401);
  });
});

describe("library: the front-page session API (createSessionLayer)", () => {
  const layerOn = (url = env.UPSTASH_REDIS_REST_URL) => createSessionLayer({ url, token: env.UPSTASH_REDIS_REST_TOKEN, sessionKeys: env.SESSION_KEYS, prefix: env.STORE_PREFIX });
  const uid = () => `lib-${crypto.randomUUID().slice(0, 8)}`;

  it("creates a session for a user signed in elsewhere, validates it, ends it", async () => {
    const layer = await layerOn();
    const id = uid();
    const created = await layer.createSession({ id, email: `${id}@example.test` }, { userAgent: "Mozilla/5.0 (X11; Linux x86_64) Chrome/136.0 Safari/537.36", ip: "203.0.113.9" });
    if (!created.ok) throw new Error(created.reason);
    expect(created.user).toEqual({ id, email: `${id}@example.test`, roles: [] });
    expect(created.session.expiresAt).toBeGreaterThan(created.session.idleExpiresAt - 1);
    const valid = await layer.validateSession(created.token);
    expect(valid).toMatchObject({ ok: true, user: { id } });
    // The worker accepts it as its own.
    expect((await call("/api/me", { token: created.token })).status).toBe(200);
    expect(await layer.endSession(created.session.id)).toBe(true);
    expect(await layer.validateSession(created.token)).toEqual({ ok: false, reason: "revoked" });
    expect(await layer.endSession(created.session.id)).toBe(false);
  });

  it("ends every session of a user", async () => {
    const layer = await layerOn();
    const id = uid();
    const tokens = [];
    for (let i = 0; i < 3; i++) {
      const c = await layer.createSession({ id, email: `${id}@example.test`, roles: ["admin"] });
      if (c.ok) tokens.push(c.token);
    }
    expect(await layer.endUserSessions(id)).toBe(3);
    for (const t of tokens) expect((await layer.validateSession(t)).ok).toBe(false);
  });

  it("refusals are data; a malformed user is a TypeError; a disabled account gets no session", async () => {
    const layer = await layerOn();
    expect(await layer.validateSession("")).toEqual({ ok: false, reason: "missing" });
    expect(await layer.validateSession("v1.k1.nope.nope")).toMatchObject({ ok: false });
    await expect(layer.createSession({ id: "has space", email: "x@example.test" })).rejects.toBeInstanceOf(TypeError);
    await expect(layer.createSession({ id: "ok", email: "x@example.test", roles: ["<script>"] })).rejects.toBeInstanceOf(TypeError);
    const a = await register();
    await new AccountStore(layer.store, layer.keys).setDisabled(a.user.id, true);
    expect(await layer.createSession({ id: a.user.id, email: a.email })).toEqual({ ok: false, reason: "disabled" });
  });

  it("errorHandler: the mounted app answers 503 with Retry-After while the store is down, not 500", async () => {
    const store = await privateStore();
    try {
      const layer = await layerOn(store.url);
      const created = await layer.createSession({ id: uid(), email: "outage@example.test" });
      if (!created.ok) throw new Error(created.reason);
      const withHandler = new Hono<{ Variables: SessionVariables }>();
      withHandler.onError(errorHandler);
      withHandler.get("/me", sessionAuth(layer), (c) => c.json(c.var.user));
      const bare = new Hono<{ Variables: SessionVariables }>().get("/me", sessionAuth(layer), (c) => c.json(c.var.user));
      await setControl(store, { fault: "refuse" });
      const res = await withHandler.request("/me", { headers: { Authorization: `Bearer ${created.token}` } });
      expect(res.status).toBe(503);
      expect(res.headers.get("Retry-After")).toBe("2");
      expect(await res.json()).toEqual({ error: "session_store_unavailable" });
      // What the issue saw without it: Hono's default, a bare 500 (and the StoreError's stack on the console).
      const logged = vi.spyOn(console, "error").mockImplementation(() => {});
      try {
        expect((await bare.request("/me", { headers: { Authorization: `Bearer ${created.token}` } })).status).toBe(500);
        expect(logged.mock.calls.some(([e]) => e instanceof StoreError)).toBe(true);
      } finally {
        logged.mockRestore();
      }
      await expect(layer.createSession({ id: uid(), email: "x@example.test" })).rejects.toBeInstanceOf(StoreError);
    } finally {
      await setControl(store, { fault: null }).catch(() => {});
      await store.close();
    }
  });
});
