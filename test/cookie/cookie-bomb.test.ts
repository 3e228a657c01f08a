/**
 * Other cookies of the site must never cost the user the session cookie. A sibling subdomain can
 * add `Domain=` cookies to the browser's jar for the whole site (about 180 cookies of up to
 * 4 KB each per domain in Chromium), and every one of them rides in the same `Cookie` header.
 */
import { describe, expect, it } from "vitest";
import { readSessionCookie, SESSION_COOKIE } from "../../src/cookie/session-cookie.js";
import { BASE, call } from "../helpers/http.js";
import { cookieSignIn, rawSetCookies } from "../helpers/cookie.js";

const TOKEN = `v1.k1.${"A".repeat(43)}.${"B".repeat(43)}`;
/** `count` cookies of about 4 KB each, as a sibling host sets them with `Domain=`. */
const bomb = (count: number) => Array.from({ length: count }, (_, i) => `junk${i}=${"x".repeat(4090)}`).join("; ");

describe("attack: cookie bomb from a sibling subdomain", () => {
  it("three 4 KB cookies before the session cookie: it is still found", () => {
    expect(readSessionCookie(`${bomb(3)}; ${SESSION_COOKIE}=${TOKEN}`)).toEqual({ token: TOKEN });
    expect(readSessionCookie(`${SESSION_COOKIE}=${TOKEN}; ${bomb(3)}`)).toEqual({ token: TOKEN });
  });

  it("a header of 180 such cookies (what Chromium keeps for one domain): still found", () => {
    expect(readSessionCookie(`${bomb(90)}; ${SESSION_COOKIE}=${TOKEN}; ${bomb(90)}`)).toEqual({ token: TOKEN });
  });

  it("the session survives: 200, and no Set-Cookie clears it", async () => {
    const { token } = await cookieSignIn();
    const headers = { Cookie: `${bomb(3)}; ${SESSION_COOKIE}=${token}; ${bomb(12)}`, Origin: BASE };
    const r = await call("/auth/session", { headers });
    expect(r.status).toBe(200);
    expect(rawSetCookies(r)).toEqual([]);
    // And again: a fresh sign-in is not cleared on its next request either.
    expect((await call("/api/me", { headers })).status).toBe(200);
  });

  it("a planted second session cookie among the junk is still refused as planted", () => {
    expect(readSessionCookie(`${bomb(3)}; ${SESSION_COOKIE}=${TOKEN}; ${SESSION_COOKIE}=${TOKEN}`)).toEqual({ reason: "malformed" });
  });
});
