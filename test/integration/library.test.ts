/** The middleware mounted in another Hono app (examples/mount.ts), verifying the worker's tokens. */
import { env } from "cloudflare:test";
import { describe, expect, expectTypeOf, it } from "vitest";
import { Hono } from "hono";
import { createMountedApp } from "../../examples/mount.js";
import { createSessionLayer, sessionAuth, type SessionUser, type SessionVariables } from "../../src/lib.js";
import { call, register } from "../helpers/http.js";

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
