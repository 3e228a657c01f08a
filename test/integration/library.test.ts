/** The middleware mounted in another Hono app (examples/mount.ts), verifying the worker's tokens. */
import { env } from "cloudflare:test";
import { describe, expect, expectTypeOf, it } from "vitest";
import { Hono } from "hono";
import { createMountedApp } from "../../examples/mount.js";
import { bearerSource, cookieSource, createSessionLayer, refuse, sessionAuth, type SessionUser, type SessionVariables } from "../../src/lib.js";
import { call, register } from "../helpers/http.js";
import { cookieSignIn, rawSetCookies } from "../helpers/cookie.js";

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
