/** The pure cookie and CSRF helpers (src/cookie): serialisation, parsing, stripping, the CSRF verdict. */
import { describe, expect, it } from "vitest";
import { checkCsrf } from "../../src/cookie/csrf.js";
import { clearedSessionCookie, readSessionCookie, SESSION_COOKIE, sessionCookie, withoutSessionCookie } from "../../src/cookie/session-cookie.js";

const TOKEN = `v1.k1.${"A".repeat(43)}.${"B".repeat(43)}`;

describe("sessionCookie()", () => {
  it("__Host- prefix, Max-Age rounded down to the absolute life left, Path=/, Secure, HttpOnly, SameSite, no Domain", () => {
    expect(sessionCookie(TOKEN, 10_000_999, 1_000_000)).toBe(`${SESSION_COOKIE}=${TOKEN}; Max-Age=9000; Path=/; Secure; HttpOnly; SameSite=Lax`);
    expect(sessionCookie(TOKEN, 5_000, 1_000, { sameSite: "Strict" })).toContain("SameSite=Strict");
    expect(sessionCookie(TOKEN, 1_000, 9_000)).toContain("Max-Age=0;");
    expect(clearedSessionCookie()).toBe(`${SESSION_COOKIE}=; Max-Age=0; Path=/; Secure; HttpOnly; SameSite=Lax`);
  });
});

describe("readSessionCookie()", () => {
  it("finds the cookie among others, with or without spaces", () => {
    expect(readSessionCookie(`a=1; ${SESSION_COOKIE}=${TOKEN}; b=2`)).toEqual({ token: TOKEN });
    expect(readSessionCookie(`a=1;${SESSION_COOKIE}=${TOKEN}`)).toEqual({ token: TOKEN });
  });
  it("missing: no header, other cookies, a longer name, the name without a value", () => {
    for (const h of [undefined, null, "", "a=1", `${SESSION_COOKIE}x=${TOKEN}`, `x${SESSION_COOKIE}=${TOKEN}`, SESSION_COOKIE]) expect(readSessionCookie(h)).toEqual({ reason: "missing" });
  });
  it("malformed: twice (a planted second one), empty, oversized value", () => {
    expect(readSessionCookie(`${SESSION_COOKIE}=${TOKEN}; ${SESSION_COOKIE}=${TOKEN}`)).toEqual({ reason: "malformed" });
    expect(readSessionCookie(`${SESSION_COOKIE}=`)).toEqual({ reason: "malformed" });
    expect(readSessionCookie(`${SESSION_COOKIE}=${"x".repeat(200)}`)).toEqual({ reason: "malformed" });
  });
});

describe("withoutSessionCookie()", () => {
  it("removes only the session cookie, keeps the rest in order; null when nothing is left", () => {
    expect(withoutSessionCookie(`a=1; ${SESSION_COOKIE}=${TOKEN}; b=2`)).toBe("a=1; b=2");
    expect(withoutSessionCookie(`${SESSION_COOKIE}=${TOKEN}`)).toBeNull();
    expect(withoutSessionCookie(`${SESSION_COOKIE}=${TOKEN};${SESSION_COOKIE}=x`)).toBeNull();
    expect(withoutSessionCookie(`${SESSION_COOKIE}x=1`)).toBe(`${SESSION_COOKIE}x=1`);
    expect(withoutSessionCookie(undefined)).toBeNull();
  });
});

describe("checkCsrf()", () => {
  const req = (method: string, headers: Record<string, string>) => ({ method, url: "https://app.test/auth/logout", headers: new Headers(headers) });
  it("safe methods pass whatever they carry", () => {
    for (const m of ["GET", "HEAD", "OPTIONS", "get"]) expect(checkCsrf(req(m, { Origin: "https://evil.test" }))).toEqual({ ok: true });
  });
  it("unsafe methods need the origin proof and the header", () => {
    expect(checkCsrf(req("POST", { Origin: "https://app.test", "X-CSRF-Protection": "1" }))).toEqual({ ok: true });
    expect(checkCsrf(req("DELETE", { "Sec-Fetch-Site": "same-origin", "X-CSRF-Protection": "1" }))).toEqual({ ok: true });
    expect(checkCsrf(req("POST", { Origin: "https://app.test" }))).toEqual({ ok: false, detail: "header" });
    expect(checkCsrf(req("POST", { Origin: "https://evil.test", "X-CSRF-Protection": "1" }))).toEqual({ ok: false, detail: "origin" });
    // Origin, when present, decides: a same-origin Sec-Fetch-Site does not rescue a foreign Origin.
    expect(checkCsrf(req("POST", { Origin: "https://evil.test", "Sec-Fetch-Site": "same-origin", "X-CSRF-Protection": "1" }))).toEqual({ ok: false, detail: "origin" });
    expect(checkCsrf(req("PUT", { "X-CSRF-Protection": "1" }))).toEqual({ ok: false, detail: "origin" });
    expect(checkCsrf(req("POST", { Origin: "https://other.test", "X-CSRF-Protection": "1" }), ["https://other.test"])).toEqual({ ok: true });
  });
});
