import { describe, expect, it } from "vitest";
import { jwkThumbprint, parseCompactJws, parsePublicJwk, verifyEs256 } from "../../src/device/jwt-es256.js";
import { newKey, signJws } from "../helpers/device-keys.js";

describe("jwkThumbprint (RFC 7638)", () => {
  it("matches the RFC's own construction, hashed independently here", async () => {
    const { publicJwk } = await newKey();
    // Members in lexicographic order, no whitespace (RFC 7638 §3.3).
    const json = JSON.stringify({ crv: publicJwk.crv, kty: publicJwk.kty, x: publicJwk.x, y: publicJwk.y });
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(json)));
    const expected = btoa(String.fromCharCode(...digest)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    expect(await jwkThumbprint(publicJwk)).toBe(expected);
  });
  it("differs between keys and ignores member order and extra members", async () => {
    const a = await newKey();
    const b = await newKey();
    expect(await jwkThumbprint(a.publicJwk)).not.toBe(await jwkThumbprint(b.publicJwk));
    const reordered = parsePublicJwk({ y: a.publicJwk.y, x: a.publicJwk.x, use: "sig", crv: "P-256", kty: "EC" });
    expect(reordered.ok && (await jwkThumbprint(reordered.jwk))).toBe(await jwkThumbprint(a.publicJwk));
  });
});

describe("verifyEs256", () => {
  it("accepts a WebCrypto signature and refuses it under another key", async () => {
    const a = await newKey();
    const b = await newKey();
    const jws = parseCompactJws(await signJws(a.privateKey, { alg: "ES256" }, { n: 1 }));
    expect(jws.ok).toBe(true);
    if (!jws.ok) return;
    expect(await verifyEs256(jws, a.publicJwk)).toBe(true);
    expect(await verifyEs256(jws, b.publicJwk)).toBe(false);
  });
  it("refuses a payload changed after signing", async () => {
    const a = await newKey();
    const token = await signJws(a.privateKey, { alg: "ES256" }, { n: 1 });
    const [h, , s] = token.split(".");
    const other = (await signJws(a.privateKey, { alg: "ES256" }, { n: 2 })).split(".")[1];
    const jws = parseCompactJws(`${h}.${other}.${s}`);
    expect(jws.ok && (await verifyEs256(jws, a.publicJwk))).toBe(false);
  });
});

describe("parseCompactJws and parsePublicJwk: bad input is data", () => {
  it("names each malformed shape", () => {
    expect(parseCompactJws(undefined)).toEqual({ ok: false, reason: "malformed" });
    expect(parseCompactJws("a.b")).toEqual({ ok: false, reason: "malformed" });
    expect(parseCompactJws("a+b.c.d")).toEqual({ ok: false, reason: "malformed" });
    expect(parseCompactJws("bm90IGpzb24.e30.AA")).toEqual({ ok: false, reason: "bad_json" });
    expect(parseCompactJws("W10.e30.AA")).toEqual({ ok: false, reason: "bad_json" }); // header is an array
    expect(parseCompactJws("x".repeat(9000))).toEqual({ ok: false, reason: "too_large" });
  });
  it("refuses keys that are not public P-256 keys", async () => {
    const k = await newKey();
    expect(parsePublicJwk(undefined)).toEqual({ ok: false, reason: "jwk_missing" });
    expect(parsePublicJwk("jwk")).toEqual({ ok: false, reason: "jwk_not_ec_p256" });
    expect(parsePublicJwk({ ...k.publicJwk, crv: "P-384" })).toEqual({ ok: false, reason: "jwk_not_ec_p256" });
    expect(parsePublicJwk({ kty: "oct", k: "c2VjcmV0" })).toEqual({ ok: false, reason: "jwk_not_ec_p256" });
    expect(parsePublicJwk({ ...k.publicJwk, x: "AAAA" })).toEqual({ ok: false, reason: "jwk_bad_coordinates" });
    expect(parsePublicJwk(k.privateJwk)).toEqual({ ok: false, reason: "jwk_private" });
  });
  it("reports an off-curve point as a failed verification, not a throw", async () => {
    const k = await newKey();
    const jws = parseCompactJws(await signJws(k.privateKey, { alg: "ES256" }, {}));
    const offCurve = { ...k.publicJwk, y: k.publicJwk.x };
    expect(jws.ok && (await verifyEs256(jws, offCurve))).toBe(false);
  });
});
