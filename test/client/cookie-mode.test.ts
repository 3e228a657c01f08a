/**
 * The browser client in cookie mode against the real worker, inside workerd. workerd has no
 * cookie jar, so `browserFetch` plays the browser's part that matters here: it keeps what
 * `Set-Cookie` says (a `Max-Age=0` removes it), sends it back as `Cookie`, and adds the `Origin`
 * a browser adds to a same-origin unsafe request. The real browser is in test/e2e/cookie.test.ts.
 */
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createSessionClient, type CookieGrant, type FetchFunction, type SessionEvents } from "../../src/client/index.js";
import { PASSWORD, uniqueEmail } from "../helpers/http.js";
import { COOKIE } from "../helpers/cookie.js";

const BASE = "http://x";

function browser() {
  const jar = new Map<string, string>();
  const sent: Request[] = [];
  const fetch: FetchFunction = async (input, init) => {
    const req = new Request(input, init);
    const headers = new Headers(req.headers);
    if (jar.size) headers.set("Cookie", [...jar].map(([k, v]) => `${k}=${v}`).join("; "));
    if (req.method !== "GET" && req.method !== "HEAD") headers.set("Origin", BASE);
    const out = new Request(req, { headers });
    sent.push(out.clone());
    const res = await SELF.fetch(out);
    for (const raw of (res.headers as unknown as { getSetCookie(): string[] }).getSetCookie()) {
      const [pair] = raw.split(";");
      const [name, value] = [pair!.slice(0, pair!.indexOf("=")), pair!.slice(pair!.indexOf("=") + 1)];
      if (/;\s*Max-Age=0\b/i.test(raw)) jar.delete(name);
      else jar.set(name, value);
    }
    return res;
  };
  return { jar, sent, fetch };
}

function cookieClient(fetch: FetchFunction) {
  const c = createSessionClient({ baseUrl: BASE, transport: "cookie", fetch });
  const events: { name: keyof SessionEvents; detail: unknown }[] = [];
  for (const name of ["login", "logout", "unauthorized"] as const) c.on(name, (detail) => events.push({ name, detail }));
  return { c, events };
}

describe("session client, cookie mode", () => {
  it("register: the token goes to the cookie jar, never to the client; requests carry the CSRF header", async () => {
    const b = browser();
    const { c, events } = cookieClient(b.fetch);
    const email = uniqueEmail("cc");
    const grant: CookieGrant = await c.register(email, PASSWORD);
    expect(grant.token).toBeNull();
    expect(grant.tokenType).toBe("Cookie");
    expect(c.token).toBeNull();
    expect(c.user?.email).toBe(email);
    expect(b.jar.get(COOKIE)).toMatch(/^v1\./);
    expect(events.map((e) => e.name)).toEqual(["login"]);
    expect(JSON.parse(await b.sent[0]!.text())).toMatchObject({ transport: "cookie" });
    expect(b.sent[0]!.headers.get("X-CSRF-Protection")).toBe("1");

    const me = await c.fetch("/api/me");
    expect(me.status).toBe(200);
    expect(b.sent.at(-1)!.headers.get("Authorization")).toBeNull();
    const ticketless = await c.fetch("/auth/ws-ticket", { method: "POST" });
    expect(ticketless.status).toBe(200);
  });

  it("restore(): a new client on the same jar (a reload) is signed back in; without a cookie it is null", async () => {
    const b = browser();
    const email = uniqueEmail("cc");
    await cookieClient(b.fetch).c.register(email, PASSWORD);
    const reloaded = cookieClient(b.fetch);
    expect(reloaded.c.user).toBeNull();
    expect((await reloaded.c.restore())?.email).toBe(email);
    expect(reloaded.c.user?.email).toBe(email);
    expect(reloaded.events.map((e) => e.name)).toEqual(["login"]);
    const fresh = cookieClient(browser().fetch);
    expect(await fresh.c.restore()).toBeNull();
    expect(fresh.events).toEqual([]);
  });

  it("logout clears the cookie; restore() after it is null", async () => {
    const b = browser();
    const { c, events } = cookieClient(b.fetch);
    await c.register(uniqueEmail("cc"), PASSWORD);
    expect(await c.logout()).toEqual({ ended: true });
    expect(b.jar.has(COOKIE)).toBe(false);
    expect(c.user).toBeNull();
    expect(events.map((e) => e.name)).toEqual(["login", "logout"]);
    expect(await cookieClient(b.fetch).c.restore()).toBeNull();
  });

  it("password change: the new cookie replaces the old one and the client emits login", async () => {
    const b = browser();
    const { c, events } = cookieClient(b.fetch);
    await c.register(uniqueEmail("cc"), PASSWORD);
    const before = b.jar.get(COOKIE);
    const res = await c.fetch("/auth/password", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ currentPassword: PASSWORD, newPassword: "changed password 123" }) });
    expect(res.status).toBe(200);
    expect(b.jar.get(COOKIE)).not.toBe(before);
    expect(events.map((e) => e.name)).toEqual(["login", "login"]);
    expect((await c.fetch("/api/me")).status).toBe(200);
  });

  it("a session ended elsewhere: 401, the worker clears the cookie, the client emits unauthorized", async () => {
    const b = browser();
    const { c, events } = cookieClient(b.fetch);
    const email = uniqueEmail("cc");
    await c.register(email, PASSWORD);
    const other = (await (await SELF.fetch(`${BASE}/auth/login`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ email, password: PASSWORD }) })).json()) as { token: string };
    await SELF.fetch(`${BASE}/auth/sessions/revoke-others`, { method: "POST", headers: { Authorization: `Bearer ${other.token}` } });
    const res = await c.fetch("/auth/session");
    expect(res.status).toBe(401);
    expect(b.jar.has(COOKIE)).toBe(false);
    expect(c.user).toBeNull();
    expect(events.at(-1)).toMatchObject({ name: "unauthorized", detail: { reason: "revoked" } });
  });

  it("cookie mode refuses a storage, and an unknown transport", () => {
    const storage = { getItem: () => null, setItem: () => {}, removeItem: () => {} };
    expect(() => createSessionClient({ baseUrl: BASE, transport: "cookie", storage })).toThrow(/storage/);
    expect(() => createSessionClient({ baseUrl: BASE, transport: "local" as "cookie" })).toThrow(/transport/);
  });
});
