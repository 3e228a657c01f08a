/**
 * A cookie-mode page's first visit: it asks GET /auth/session whether it has a session, with no
 * cookie to present. A 401 there is logged by every browser as an error on every first visit;
 * the worker answers 204 (no session, nothing to clear) to a cookie-mode caller that presents
 * nothing, and keeps 401 for a Bearer caller without a token and for a cookie that is refused.
 */
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createSessionClient, type SessionEvents } from "../../src/client/index.js";
import { call, login, register, worker } from "../helpers/http.js";
import { cookieHeader, cookieSignIn, SAME_ORIGIN, sessionSetCookie } from "../helpers/cookie.js";

const BASE = "http://x";

describe("GET /auth/session on a cookie-mode page's first visit", () => {
  it("no cookie, CSRF header: 204, no-store, nothing set", async () => {
    const r = await call("/auth/session", { headers: SAME_ORIGIN });
    expect(r.status).toBe(204);
    expect(r.text).toBe("");
    expect(r.headers.get("Cache-Control")).toContain("no-store");
    expect(r.headers.get("Set-Cookie")).toBeNull();
  });

  it("a Bearer caller without a token still gets 401 missing", async () => {
    const r = await call("/auth/session");
    expect(r.status).toBe(401);
    expect(r.json).toMatchObject({ error: "unauthorized", reason: "missing" });
  });

  it("a cookie is always checked: a live one 200, an ended or forged one 401 and cleared", async () => {
    const { token } = await cookieSignIn();
    expect((await call("/auth/session", { headers: { ...SAME_ORIGIN, ...cookieHeader(token) } })).status).toBe(200);
    await call("/auth/logout", { method: "POST", headers: { ...SAME_ORIGIN, ...cookieHeader(token) } });
    const ended = await SELF.fetch(new Request(`${BASE}/auth/session`, { headers: { ...SAME_ORIGIN, ...cookieHeader(token) } }));
    expect(ended.status).toBe(401);
    expect(sessionSetCookie(ended)?.value).toBe("");
    const forged = await call("/auth/session", { headers: { ...SAME_ORIGIN, ...cookieHeader("v1.k1.forged.forged") } });
    expect(forged.status).toBe(401);
  });

  it("a Bearer token alongside the CSRF header is checked as usual", async () => {
    const u = await register();
    expect((await call("/auth/session", { token: u.token, headers: SAME_ORIGIN })).status).toBe(200);
    const again = await login(worker, u.email);
    await call("/auth/logout", { method: "POST", token: again.token });
    expect((await call("/auth/session", { token: again.token, headers: SAME_ORIGIN })).status).toBe(401);
  });

  it("the client's restore() on a first visit: null, no unauthorized event, no error", async () => {
    const c = createSessionClient({ baseUrl: BASE, transport: "cookie", fetch: (input, init) => SELF.fetch(new Request(input, init)) });
    const events: (keyof SessionEvents)[] = [];
    for (const name of ["login", "logout", "unauthorized"] as const) c.on(name, () => events.push(name));
    const statuses: number[] = [];
    const watched = createSessionClient({
      baseUrl: BASE,
      transport: "cookie",
      fetch: async (input, init) => {
        const res = await SELF.fetch(new Request(input, init));
        statuses.push(res.status);
        return res;
      },
    });
    await expect(c.restore()).resolves.toBeNull();
    await expect(watched.restore()).resolves.toBeNull();
    expect(statuses).toEqual([204]);
    expect(events).toEqual([]);
  });
});
