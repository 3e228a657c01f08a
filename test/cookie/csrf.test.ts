/**
 * CSRF against the cookie transport: a cookie-authenticated unsafe request passes only with an
 * allowed `Origin` (or, without one, `Sec-Fetch-Site: same-origin`) AND the
 * `X-CSRF-Protection: 1` header; refusals are 403 `{"error":"forbidden","reason":"csrf"}` and
 * change nothing. Bearer requests need neither. Also: the cross-site WebSocket hijacking defence
 * for cookie-authenticated upgrades (the `Origin` allowlist), and tickets still working.
 * The browser-level versions (real cross-site pages in Chromium) are in test/e2e/cookie.test.ts.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { BASE, call, PASSWORD, worker } from "../helpers/http.js";
import { COOKIE, cookieHeader, rawSetCookies, cookieSignIn, SAME_ORIGIN, sessionSetCookie } from "../helpers/cookie.js";
import { open, upgrade, within } from "../helpers/ws.js";

const CSRF = { error: "forbidden", reason: "csrf" };
const EVIL = "https://evil.example";

/** The unsafe routes a cookie can reach, with a body that would succeed from the right page. */
function unsafeRoutes(sessionId: string): { path: string; method: string; body?: unknown }[] {
  return [
    { path: "/auth/logout", method: "POST" },
    { path: "/auth/password", method: "POST", body: { currentPassword: PASSWORD, newPassword: "attacker chosen password" } },
    { path: "/auth/sessions/revoke-others", method: "POST" },
    { path: `/auth/sessions/${sessionId}`, method: "DELETE" },
    { path: "/auth/ws-ticket", method: "POST" },
  ];
}

/** Header sets a forged or misdirected request may carry: none passes. */
const REFUSED: [string, Record<string, string>][] = [
  ["cross-site Origin, with the CSRF header", { Origin: EVIL, "X-CSRF-Protection": "1" }],
  ["cross-site Origin, Sec-Fetch-Site cross-site", { Origin: EVIL, "Sec-Fetch-Site": "cross-site" }],
  ["same-site sibling Origin, with the CSRF header", { Origin: "https://sub.edge.test", "Sec-Fetch-Site": "same-site", "X-CSRF-Protection": "1" }],
  ["Origin: null (sandboxed or privacy-redirected page)", { Origin: "null", "X-CSRF-Protection": "1" }],
  ["an http:// Origin for the https:// site", { Origin: BASE.replace("https:", "http:"), "X-CSRF-Protection": "1" }],
  ["a CORS-allowed SPA origin (Bearer only)", { Origin: "https://app.example", "X-CSRF-Protection": "1" }],
  ["no Origin, Sec-Fetch-Site cross-site", { "Sec-Fetch-Site": "cross-site", "X-CSRF-Protection": "1" }],
  ["no Origin, Sec-Fetch-Site same-site", { "Sec-Fetch-Site": "same-site", "X-CSRF-Protection": "1" }],
  ["no Origin, Sec-Fetch-Site none", { "Sec-Fetch-Site": "none", "X-CSRF-Protection": "1" }],
  ["neither Origin nor Sec-Fetch-Site", { "X-CSRF-Protection": "1" }],
  ["same Origin, no CSRF header (a same-origin <form>)", { Origin: BASE, "Sec-Fetch-Site": "same-origin" }],
  ["same Origin, wrong CSRF header value", { Origin: BASE, "Sec-Fetch-Site": "same-origin", "X-CSRF-Protection": "0" }],
];

describe("CSRF: forged cookie-authenticated requests to unsafe routes", () => {
  let token: string;
  let email: string;
  let sessionId: string;

  beforeEach(async () => {
    ({ token, email } = await cookieSignIn());
    sessionId = (await call("/auth/session", { headers: cookieHeader(token) })).json.session.id;
  });

  it.each(REFUSED)("%s: 403 csrf on every unsafe route, and nothing changed", async (_name, headers) => {
    for (const route of unsafeRoutes(sessionId)) {
      const r = await call(route.path, { method: route.method, body: route.body, headers: { ...cookieHeader(token), ...headers } });
      expect(r.status, `${route.method} ${route.path}`).toBe(403);
      expect(r.json).toEqual(CSRF);
      // The request is suspect, not the session: the cookie stays.
      expect(rawSetCookies(r)).toEqual([]);
    }
    // Nothing changed: the session lives, the password is the old one.
    expect((await call("/auth/session", { headers: cookieHeader(token) })).status).toBe(200);
    expect((await call("/auth/login", { body: { email, password: PASSWORD } })).status).toBe(200);
    expect((await call("/auth/login", { body: { email, password: "attacker chosen password" } })).status).toBe(401);
  });

  it("a form-encoded cross-site POST with the cookie (what <form method=post> sends) is refused", async () => {
    const r = await worker(
      new Request(BASE + "/auth/password", {
        method: "POST",
        headers: { ...cookieHeader(token), Origin: EVIL, "Sec-Fetch-Site": "cross-site", "Content-Type": "application/x-www-form-urlencoded" },
        body: "currentPassword=x&newPassword=attacker+chosen+password",
      }),
    );
    expect(r.status).toBe(403);
    expect(await r.json()).toEqual(CSRF);
  });

  it("the CSRF check runs before the token is looked at: a forged cookie from a cross-site page gets 403, not 401", async () => {
    const r = await call("/auth/logout", { method: "POST", headers: { Cookie: `${COOKIE}=v1.k1.${"A".repeat(43)}.${"B".repeat(43)}`, Origin: EVIL } });
    expect(r.status).toBe(403);
    expect(r.json).toEqual(CSRF);
  });

  it("login CSRF: a cross-site page cannot sign the browser into another account with transport cookie", async () => {
    for (const headers of [{ Origin: EVIL, "X-CSRF-Protection": "1" }, { Origin: BASE }, {}] as Record<string, string>[]) {
      const r = await call("/auth/login", { body: { email, password: PASSWORD, transport: "cookie" }, headers });
      expect(r.status).toBe(403);
      expect(r.json).toEqual(CSRF);
      expect(rawSetCookies(r)).toEqual([]);
    }
  });
});

describe("CSRF: what passes", () => {
  it("same Origin + the CSRF header passes; so does Sec-Fetch-Site same-origin + the header without Origin", async () => {
    const a = await cookieSignIn();
    const viaOrigin = await call("/auth/logout", { method: "POST", headers: { ...cookieHeader(a.token), Origin: BASE, "X-CSRF-Protection": "1" } });
    expect(viaOrigin.status).toBe(204);
    const b = await cookieSignIn();
    const viaFetchMetadata = await call("/auth/logout", { method: "POST", headers: { ...cookieHeader(b.token), "Sec-Fetch-Site": "same-origin", "X-CSRF-Protection": "1" } });
    expect(viaFetchMetadata.status).toBe(204);
  });

  it("safe methods need no proof, and GET changes nothing: GET on the unsafe routes is 404", async () => {
    const { token } = await cookieSignIn();
    const me = await call("/api/me", { headers: { ...cookieHeader(token), Origin: EVIL, "Sec-Fetch-Site": "cross-site" } });
    expect(me.status).toBe(200);
    for (const path of ["/auth/logout", "/auth/password", "/auth/sessions/revoke-others", "/auth/ws-ticket"]) {
      const r = await call(path, { headers: { ...cookieHeader(token), ...SAME_ORIGIN } });
      expect(r.status, path).toBe(404);
    }
    expect((await call("/auth/session", { headers: cookieHeader(token) })).status).toBe(200);
  });

  it("Bearer requests need neither proof: cross-site Origin, no header, unsafe method → 204", async () => {
    const login = await call("/auth/register", { body: { email: `bearer-${crypto.randomUUID()}@example.test`, password: PASSWORD } });
    const r = await call("/auth/logout", { method: "POST", token: login.json.token, headers: { Origin: EVIL, "Sec-Fetch-Site": "cross-site" } });
    expect(r.status).toBe(204);
  });

  it("CORS never grants credentials: no Access-Control-Allow-Credentials on a preflight for the CSRF header or on a response", async () => {
    const pre = await worker(new Request(BASE + "/auth/logout", { method: "OPTIONS", headers: { Origin: "https://app.example", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "x-csrf-protection" } }));
    expect(pre.headers.get("Access-Control-Allow-Credentials")).toBeNull();
    const { token } = await cookieSignIn();
    const r = await call("/api/me", { headers: { ...cookieHeader(token), Origin: "https://app.example" } });
    expect(r.headers.get("Access-Control-Allow-Credentials")).toBeNull();
  });
});

describe("cross-site WebSocket hijacking with the session cookie", () => {
  it("a foreign Origin is refused (403 origin_not_allowed) even with a good cookie; so is no Origin", async () => {
    const { token } = await cookieSignIn();
    for (const origin of [EVIL, "https://sub.edge.test", "null"]) {
      const r = await upgrade("/ws", { ...cookieHeader(token), Origin: origin });
      expect(r.status, origin).toBe(403);
      expect(await r.json()).toMatchObject({ error: "forbidden", reason: "origin_not_allowed" });
    }
    const none = await worker(new Request(BASE + "/ws", { headers: { Upgrade: "websocket", ...cookieHeader(token) } }));
    expect(none.status).toBe(403);
  });
});

describe("WebSocket upgrades with the session cookie", () => {
  it("a same-origin page's cookie authenticates the upgrade without a ticket", async () => {
    const { token, email } = await cookieSignIn();
    const r = await upgrade("/ws", { ...cookieHeader(token), Origin: BASE });
    expect(r.status).toBe(101);
    expect(r.headers.get("Sec-WebSocket-Protocol")).toBeNull();
    const s = open(r);
    const hello = await s.next();
    expect(hello).toMatchObject({ type: "hello", user: { email } });
    // Logout through the cookie closes it with 4401.
    const out = await call("/auth/logout", { method: "POST", headers: { ...cookieHeader(token), ...SAME_ORIGIN } });
    expect(out.status).toBe(204);
    expect((await within(s.closed, 5_000, "close after logout")).code).toBe(4401);
  });

  it("a forged or revoked cookie on the upgrade: 401, cookie cleared", async () => {
    const { token } = await cookieSignIn();
    const forged = await upgrade("/ws", { Cookie: `${COOKIE}=v1.k1.${"A".repeat(43)}.${"B".repeat(43)}`, Origin: BASE });
    expect(forged.status).toBe(401);
    expect(sessionSetCookie(forged)?.attributes.get("max-age")).toBe("0");
    await call("/auth/logout", { method: "POST", headers: { ...cookieHeader(token), ...SAME_ORIGIN } });
    const revoked = await upgrade("/ws", { ...cookieHeader(token), Origin: BASE });
    expect(revoked.status).toBe(401);
    expect(await revoked.json()).toMatchObject({ reason: "revoked" });
    expect(sessionSetCookie(revoked)?.attributes.get("max-age")).toBe("0");
  });

  it("tickets keep working, and a ticket wins over a cookie: the ticket's session is the socket's", async () => {
    const a = await cookieSignIn();
    const b = await cookieSignIn();
    const t = await call("/auth/ws-ticket", { method: "POST", headers: { ...cookieHeader(a.token), ...SAME_ORIGIN } });
    expect(t.status).toBe(200);
    const r = await upgrade("/ws", { ...cookieHeader(b.token), Origin: BASE, "Sec-WebSocket-Protocol": `session, ${t.json.ticket}` });
    expect(r.status).toBe(101);
    expect(r.headers.get("Sec-WebSocket-Protocol")).toBe("session");
    const s = open(r);
    expect(await s.next()).toMatchObject({ type: "hello", user: { email: a.email } });
    s.ws.close();
  });
});


