/**
 * Which origins' pages may have the `__Host-session` cookie authenticate a WebSocket upgrade.
 * `CORS_ORIGINS` / `WS_ALLOWED_ORIGINS` name SPAs that call with Bearer tokens and tickets; a
 * page there is same-site with the worker, so the browser attaches the cookie to its handshake.
 * The cookie must count only from the worker's own origin (or `COOKIE_TRUSTED_ORIGINS`, the list
 * the CSRF check shares), on `/ws` and on the gateway's socket relay alike.
 */
import { describe, expect, it } from "vitest";
import { testApp } from "../helpers/app.js";
import { BASE, call, worker } from "../helpers/http.js";
import { cookieHeader, cookieSignIn, rawSetCookies } from "../helpers/cookie.js";
import { open, ticketFor, upgrade } from "../helpers/ws.js";

const CSRF = { error: "forbidden", reason: "csrf" };
/** Both are in the suite's CORS_ORIGINS (vitest.config.ts): allowed for Bearer SPAs and tickets. */
const SPA_ORIGINS = ["https://app.example", "http://localhost:5173"];

describe("attack: cross-site WebSocket hijacking from a same-site origin in the CORS allowlist", () => {
  it.each(SPA_ORIGINS)("/ws from %s with only the cookie: 403 csrf, no socket, the cookie kept", async (origin) => {
    const { token } = await cookieSignIn();
    const r = await upgrade("/ws", { ...cookieHeader(token), Origin: origin });
    expect(r.status).toBe(403);
    expect(r.webSocket).toBeNull();
    expect(await r.json()).toEqual(CSRF);
    // The request is suspect, not the session.
    expect(rawSetCookies(r)).toEqual([]);
    expect((await call("/auth/session", { headers: { ...cookieHeader(token), Origin: BASE } })).status).toBe(200);
  });

  it("the gateway's socket relay from a CORS-allowed origin with only the cookie: 403 csrf before the origin is asked", async () => {
    // Nothing listens at the origin: a relay attempt would answer 502 bad_gateway.
    const app = await testApp({ ORIGIN_URL: "http://127.0.0.1:9", GATEWAY_PATHS: "/app/*", GATEWAY_ASSERTION_KEY: "k".repeat(40) });
    const { token } = await cookieSignIn(app.fetch);
    const r = await upgrade("/app/live", { ...cookieHeader(token), Origin: "https://app.example" }, app.fetch);
    expect(r.status).toBe(403);
    expect(await r.json()).toEqual(CSRF);
  });

  it("the SPA's own way still works from that origin: a ticket minted with its Bearer token", async () => {
    const bearer = await call("/auth/register", { body: { email: `spa-${crypto.randomUUID()}@example.test`, password: "correct horse battery staple" } });
    const { token: cookie } = await cookieSignIn();
    const ticket = await ticketFor(bearer.json.token);
    // The same browser also holds another user's cookie: the ticket decides, the cookie is not read.
    const r = await upgrade(`/ws?token=${ticket}`, { ...cookieHeader(cookie), Origin: "https://app.example" });
    expect(r.status).toBe(101);
    const s = open(r);
    expect(await s.next()).toMatchObject({ type: "hello", user: { id: bearer.json.user.id } });
    s.ws.close();
  });
});

describe("COOKIE_TRUSTED_ORIGINS: one list for the CSRF check and the upgrade", () => {
  it("a listed origin's cookie opens a socket and passes the CSRF check; an unlisted CORS origin does neither", async () => {
    const app = await testApp({ COOKIE_TRUSTED_ORIGINS: "https://app.example" });
    const { token } = await cookieSignIn(app.fetch);
    const trusted = await upgrade("/ws", { ...cookieHeader(token), Origin: "https://app.example" }, app.fetch);
    expect(trusted.status).toBe(101);
    open(trusted).ws.close();
    const other = await upgrade("/ws", { ...cookieHeader(token), Origin: "http://localhost:5173" }, app.fetch);
    expect(other.status).toBe(403);
    const csrf = { "X-CSRF-Protection": "1" };
    expect((await call("/auth/ws-ticket", { method: "POST", headers: { ...cookieHeader(token), ...csrf, Origin: "http://localhost:5173" } }, app.fetch)).json).toEqual(CSRF);
    expect((await call("/auth/ws-ticket", { method: "POST", headers: { ...cookieHeader(token), ...csrf, Origin: "https://app.example" } }, app.fetch)).status).toBe(200);
  });

  it("the worker's own origin needs no listing", async () => {
    const { token } = await cookieSignIn();
    const r = await worker(new Request(BASE + "/ws", { headers: { Upgrade: "websocket", ...cookieHeader(token), Origin: BASE } }));
    expect(r.status).toBe(101);
    open(r).ws.close();
  });

  it("is a configuration error unless every entry is an origin", async () => {
    await expect(testApp({ COOKIE_TRUSTED_ORIGINS: "app.example" })).rejects.toThrow(/COOKIE_TRUSTED_ORIGINS/);
  });
});
