import { describe, expect, it } from "vitest";
import { challengeHeader, endSessionConfig, parseSessionIdHeader, registrationHeader, sessionConfig, sfString, verifyDbscRefresh, verifyDbscRegistration } from "../../src/device/dbsc.js";
import { jwkThumbprint } from "../../src/device/jwt-es256.js";
import { newKey, signHs256, signJws, unsigned } from "../helpers/device-keys.js";

/** A registration proof shaped as Chromium 150 sent it (docs/DBSC-PROBE.md). */
async function registrationProof(jti = "reg-1", extra: Record<string, unknown> = {}) {
  const k = await newKey();
  const proof = await signJws(k.privateKey, { alg: "ES256", jwk: k.publicJwk, typ: "dbsc+jwt" }, { authorization: "auth-1", jti, ...extra });
  return { k, proof };
}

describe("DBSC registration proof", () => {
  it("accepts Chromium's shape and returns the key and its thumbprint", async () => {
    const { k, proof } = await registrationProof();
    const r = await verifyDbscRegistration(proof, { challenge: "reg-1", authorization: "auth-1" });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.jwk).toEqual(k.publicJwk);
    expect(r.thumbprint).toBe(await jwkThumbprint(k.publicJwk));
  });
  it("accepts the draft's sf-string form of the header value", async () => {
    const { proof } = await registrationProof();
    expect((await verifyDbscRegistration(`"${proof}"`, { challenge: "reg-1" })).ok).toBe(true);
  });
  it("checks aud and iat when the proof carries them (string or number iat)", async () => {
    const now = 1_800_000_000;
    const ok = await registrationProof("reg-1", { aud: "https://a.example/reg", iat: String(now - 10) });
    expect((await verifyDbscRegistration(ok.proof, { challenge: "reg-1", audience: "https://a.example/reg", now })).ok).toBe(true);
    expect(await verifyDbscRegistration(ok.proof, { challenge: "reg-1", audience: "https://b.example/reg", now })).toEqual({ ok: false, reason: "audience_mismatch" });
    const old = await registrationProof("reg-1", { iat: now - 301 });
    expect(await verifyDbscRegistration(old.proof, { challenge: "reg-1", now })).toEqual({ ok: false, reason: "iat_out_of_window" });
  });
  it("names the reason for a wrong typ, challenge or authorization", async () => {
    const k = await newKey();
    const wrongTyp = await signJws(k.privateKey, { alg: "ES256", jwk: k.publicJwk, typ: "JWT" }, { jti: "reg-1" });
    expect(await verifyDbscRegistration(wrongTyp, { challenge: "reg-1" })).toEqual({ ok: false, reason: "bad_typ" });
    const { proof } = await registrationProof();
    expect(await verifyDbscRegistration(proof, { challenge: "reg-2" })).toEqual({ ok: false, reason: "challenge_mismatch" });
    expect(await verifyDbscRegistration(proof, { challenge: "reg-1", authorization: "other" })).toEqual({ ok: false, reason: "authorization_mismatch" });
  });
});

describe("DBSC refresh proof", () => {
  it("verifies against the stored key, not one in the proof", async () => {
    const k = await newKey();
    const proof = await signJws(k.privateKey, { alg: "ES256", typ: "dbsc+jwt" }, { jti: "ref-1" });
    expect((await verifyDbscRefresh(proof, k.publicJwk, { challenge: "ref-1" })).ok).toBe(true);
    expect(await verifyDbscRefresh(proof, k.publicJwk, { challenge: "ref-2" })).toEqual({ ok: false, reason: "challenge_mismatch" });
  });
});

describe("attack: stolen bound cookie, refreshed with the thief's key", () => {
  it("refuses a refresh signed by another key", async () => {
    const victim = await newKey();
    const thief = await newKey();
    const proof = await signJws(thief.privateKey, { alg: "ES256", typ: "dbsc+jwt" }, { jti: "ref-1" });
    expect(await verifyDbscRefresh(proof, victim.publicJwk, { challenge: "ref-1" })).toEqual({ ok: false, reason: "bad_signature" });
  });
  it("refuses a refresh that brings its own jwk", async () => {
    const victim = await newKey();
    const thief = await newKey();
    const proof = await signJws(thief.privateKey, { alg: "ES256", typ: "dbsc+jwt", jwk: thief.publicJwk }, { jti: "ref-1" });
    expect(await verifyDbscRefresh(proof, victim.publicJwk, { challenge: "ref-1" })).toEqual({ ok: false, reason: "jwk_on_refresh" });
  });
});

describe("attack: algorithm confusion and unsigned proofs", () => {
  it("refuses alg none and HS256 keyed with the public key", async () => {
    const k = await newKey();
    const none = unsigned({ alg: "none", typ: "dbsc+jwt" }, { jti: "ref-1" });
    expect(await verifyDbscRefresh(none, k.publicJwk, { challenge: "ref-1" })).toEqual({ ok: false, reason: "malformed" });
    const noneSigned = unsigned({ alg: "none", typ: "dbsc+jwt" }, { jti: "ref-1" }) + "AA";
    expect(await verifyDbscRefresh(noneSigned, k.publicJwk, { challenge: "ref-1" })).toEqual({ ok: false, reason: "bad_alg" });
    const hs = await signHs256(new TextEncoder().encode(JSON.stringify(k.publicJwk)), { alg: "HS256", typ: "dbsc+jwt" }, { jti: "ref-1" });
    expect(await verifyDbscRefresh(hs, k.publicJwk, { challenge: "ref-1" })).toEqual({ ok: false, reason: "bad_alg" });
  });
  it("refuses a registration whose jwk carries the private d", async () => {
    const k = await newKey();
    const proof = await signJws(k.privateKey, { alg: "ES256", typ: "dbsc+jwt", jwk: k.privateJwk }, { jti: "reg-1" });
    expect(await verifyDbscRegistration(proof, { challenge: "reg-1" })).toEqual({ ok: false, reason: "jwk_private" });
  });
});

describe("attack: oversized and hostile header values", () => {
  it("refuses an oversized proof before decoding it", async () => {
    expect(await verifyDbscRegistration("a".repeat(100_000), { challenge: "x" })).toEqual({ ok: false, reason: "too_large" });
  });
  it("bounds and cleans Sec-Secure-Session-Id", () => {
    expect(parseSessionIdHeader(null)).toBeNull();
    expect(parseSessionIdHeader('"s-1";x=1')).toBe("s-1");
    expect(parseSessionIdHeader('"a\\"b"')).toBe('a"b');
    expect(parseSessionIdHeader("bare-id")).toBe("bare-id");
    expect(parseSessionIdHeader(`"${"a".repeat(300)}"`)).toBeNull();
    expect(parseSessionIdHeader('""')).toBeNull();
    expect(parseSessionIdHeader("caf\u00e9")).toBeNull();
  });
  it("refuses to build a header from a value that is not printable ASCII", () => {
    expect(() => sfString("a\r\nSet-Cookie: x=1")).toThrow(RangeError);
  });
});

describe("DBSC headers and session config", () => {
  it("builds the registration and challenge headers of the current draft", () => {
    expect(registrationHeader({ path: "/dbsc/register", challenge: 'c"1' })).toBe('(ES256);path="/dbsc/register";challenge="c\\"1"');
    expect(registrationHeader({ path: "/r", challenge: "c", authorization: "a", algorithms: ["ES256", "RS256"] })).toBe('(ES256 RS256);path="/r";challenge="c";authorization="a"');
    expect(challengeHeader("c2", "s1")).toBe('"c2";id="s1"');
  });
  it("builds the session instructions JSON and the end-of-session answer", () => {
    const config = sessionConfig({ sessionId: "s1", refreshUrl: "/dbsc/refresh", credentials: [{ name: "__Host-bound", attributes: "Path=/; Secure; HttpOnly; SameSite=Lax" }], scopeRules: [{ type: "exclude", path: "/static" }] });
    expect(config).toEqual({
      session_identifier: "s1",
      refresh_url: "/dbsc/refresh",
      scope: { include_site: false, scope_specification: [{ type: "exclude", path: "/static" }] },
      credentials: [{ type: "cookie", name: "__Host-bound", attributes: "Path=/; Secure; HttpOnly; SameSite=Lax" }],
      allowed_refresh_initiators: [],
    });
    expect(endSessionConfig()).toEqual({ continue: false });
  });
});
