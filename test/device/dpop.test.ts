import { describe, expect, it } from "vitest";
import { DpopVerifier, accessTokenHash, normaliseHtu } from "../../src/device/dpop.js";
import { jwkThumbprint } from "../../src/device/jwt-es256.js";
import { type TestKey, newKey, signHs256, signJws, unsigned } from "../helpers/device-keys.js";

const NOW = 1_800_000_000;
const URL_ = "https://api.example/v1/items";

async function proof(k: TestKey, claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}) {
  return signJws(k.privateKey, { typ: "dpop+jwt", alg: "ES256", jwk: k.publicJwk, ...header }, { jti: crypto.randomUUID(), htm: "GET", htu: URL_, iat: NOW, ...claims });
}

describe("DPoP proof", () => {
  it("accepts a fresh proof bound to the token and the key", async () => {
    const k = await newKey();
    const token = "opaque-access-token";
    const jkt = await jwkThumbprint(k.publicJwk);
    const p = await proof(k, { ath: await accessTokenHash(token) });
    const r = await new DpopVerifier().verify(p, { method: "get", url: `${URL_}?page=2#top`, accessToken: token, expectedJkt: jkt, now: NOW + 5 });
    expect(r.ok && r.jkt).toBe(jkt);
  });
  it("normalises htu: no query or fragment, case and default port folded", () => {
    expect(normaliseHtu("HTTPS://API.Example:443/v1/items?x=1#f")).toBe(URL_);
    expect(normaliseHtu("not a url")).toBeNull();
  });
  it("allows iat up to the window either side and no further", async () => {
    const k = await newKey();
    const v = new DpopVerifier({ iatWindowSeconds: 60 });
    expect((await v.verify(await proof(k, { iat: NOW - 60 }), { method: "GET", url: URL_, now: NOW })).ok).toBe(true);
    expect((await v.verify(await proof(k, { iat: NOW + 60 }), { method: "GET", url: URL_, now: NOW })).ok).toBe(true);
    expect(await v.verify(await proof(k, { iat: NOW - 61 }), { method: "GET", url: URL_, now: NOW })).toEqual({ ok: false, reason: "iat_out_of_window" });
    expect(await v.verify(await proof(k, { iat: NOW + 61 }), { method: "GET", url: URL_, now: NOW })).toEqual({ ok: false, reason: "iat_out_of_window" });
  });
  it("names missing or mistyped claims", async () => {
    const k = await newKey();
    const v = new DpopVerifier();
    expect(await v.verify(await proof(k, { iat: "soon" }), { method: "GET", url: URL_, now: NOW })).toEqual({ ok: false, reason: "bad_claims" });
    expect(await v.verify(await proof(k, { jti: "" }), { method: "GET", url: URL_, now: NOW })).toEqual({ ok: false, reason: "bad_claims" });
    expect(await v.verify(await proof(k, {}, { typ: "JWT" }), { method: "GET", url: URL_, now: NOW })).toEqual({ ok: false, reason: "bad_typ" });
    expect(await v.verify(await proof(k), { method: "GET", url: URL_, accessToken: "t", now: NOW })).toEqual({ ok: false, reason: "ath_missing" });
  });
});

describe("attack: replayed proof", () => {
  it("refuses the same proof twice within the window", async () => {
    const k = await newKey();
    const v = new DpopVerifier();
    const p = await proof(k);
    expect((await v.verify(p, { method: "GET", url: URL_, now: NOW })).ok).toBe(true);
    expect(await v.verify(p, { method: "GET", url: URL_, now: NOW + 1 })).toEqual({ ok: false, reason: "replayed" });
  });
  it("keeps its memory bounded: the oldest jtis are forgotten first", async () => {
    const k = await newKey();
    const v = new DpopVerifier({ maxRememberedJtis: 2 });
    const [a, b, c] = [await proof(k), await proof(k), await proof(k)];
    for (const p of [a, b, c]) expect((await v.verify(p, { method: "GET", url: URL_, now: NOW })).ok).toBe(true);
    expect(await v.verify(c, { method: "GET", url: URL_, now: NOW })).toEqual({ ok: false, reason: "replayed" });
    // `a` fell out of a memory of two: the window (and nonces, where needed) is what still bounds it.
    expect((await v.verify(a, { method: "GET", url: URL_, now: NOW })).ok).toBe(true);
  });
  it("does not let an unsigned proof poison another client's jti", async () => {
    const victim = await newKey();
    const v = new DpopVerifier();
    const jti = "shared-jti";
    const forged = (await proof(victim, { jti })).replace(/\.[^.]+$/, ".AAAA");
    expect(await v.verify(forged, { method: "GET", url: URL_, now: NOW })).toEqual({ ok: false, reason: "bad_signature" });
    expect((await v.verify(await proof(victim, { jti }), { method: "GET", url: URL_, now: NOW })).ok).toBe(true);
  });
});

describe("attack: proof made for another request", () => {
  it("refuses another method and another URL", async () => {
    const k = await newKey();
    const v = new DpopVerifier();
    expect(await v.verify(await proof(k), { method: "POST", url: URL_, now: NOW })).toEqual({ ok: false, reason: "htm_mismatch" });
    expect(await v.verify(await proof(k), { method: "GET", url: "https://api.example/v1/admin", now: NOW })).toEqual({ ok: false, reason: "htu_mismatch" });
    expect(await v.verify(await proof(k), { method: "GET", url: "https://evil.example/v1/items", now: NOW })).toEqual({ ok: false, reason: "htu_mismatch" });
  });
});

describe("attack: stolen token without the key", () => {
  it("refuses the thief's own key against the token's cnf.jkt", async () => {
    const owner = await newKey();
    const thief = await newKey();
    const token = "stolen-access-token";
    const p = await proof(thief, { ath: await accessTokenHash(token) });
    expect(await new DpopVerifier().verify(p, { method: "GET", url: URL_, accessToken: token, expectedJkt: await jwkThumbprint(owner.publicJwk), now: NOW })).toEqual({ ok: false, reason: "jkt_mismatch" });
  });
  it("refuses a proof hashed for another token", async () => {
    const k = await newKey();
    const p = await proof(k, { ath: await accessTokenHash("token-a") });
    expect(await new DpopVerifier().verify(p, { method: "GET", url: URL_, accessToken: "token-b", now: NOW })).toEqual({ ok: false, reason: "ath_mismatch" });
  });
  it("refuses a proof whose header key did not sign it", async () => {
    const owner = await newKey();
    const thief = await newKey();
    const p = await signJws(thief.privateKey, { typ: "dpop+jwt", alg: "ES256", jwk: owner.publicJwk }, { jti: "j", htm: "GET", htu: URL_, iat: NOW });
    expect(await new DpopVerifier().verify(p, { method: "GET", url: URL_, expectedJkt: await jwkThumbprint(owner.publicJwk), now: NOW })).toEqual({ ok: false, reason: "bad_signature" });
  });
});

describe("attack: algorithm confusion, private keys, oversized input", () => {
  it("refuses alg none and HS256", async () => {
    const k = await newKey();
    const claims = { jti: "j", htm: "GET", htu: URL_, iat: NOW };
    const v = new DpopVerifier();
    expect(await v.verify(unsigned({ typ: "dpop+jwt", alg: "none", jwk: k.publicJwk }, claims) + "AA", { method: "GET", url: URL_, now: NOW })).toEqual({ ok: false, reason: "bad_alg" });
    const hs = await signHs256(new TextEncoder().encode(JSON.stringify(k.publicJwk)), { typ: "dpop+jwt", alg: "HS256", jwk: k.publicJwk }, claims);
    expect(await v.verify(hs, { method: "GET", url: URL_, now: NOW })).toEqual({ ok: false, reason: "bad_alg" });
  });
  it("refuses a jwk that carries the private d", async () => {
    const k = await newKey();
    expect(await new DpopVerifier().verify(await proof(k, {}, { jwk: k.privateJwk }), { method: "GET", url: URL_, now: NOW })).toEqual({ ok: false, reason: "jwk_private" });
  });
  it("refuses oversized and non-string input without throwing", async () => {
    const v = new DpopVerifier();
    expect(await v.verify("e".repeat(1_000_000), { method: "GET", url: URL_, now: NOW })).toEqual({ ok: false, reason: "too_large" });
    expect(await v.verify(42, { method: "GET", url: URL_, now: NOW })).toEqual({ ok: false, reason: "malformed" });
    expect(await v.verify(await proof(await newKey()), { method: "GET", url: "::", now: NOW })).toEqual({ ok: false, reason: "htu_mismatch" });
  });
});
