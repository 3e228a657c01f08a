import { describe, expect, it } from "vitest";
import { MAX_TOKEN_LENGTH, parseToken } from "../../src/token/codec.js";
import { createKeyRing, generateKeyEntry, parseKeyRing } from "../../src/token/key-ring.js";
import { decodeBase64url, encodeBase64url, isBase64url } from "../../src/util/base64url.js";

const entry = (kid: string) => {
  const parsed = parseKeyRing(generateKeyEntry(kid));
  if (!parsed.ok) throw new Error(parsed.problems.join());
  return parsed.entries[0]!;
};

describe("base64url", () => {
  it("round-trips every length", () => {
    for (let n = 0; n < 70; n++) {
      const bytes = crypto.getRandomValues(new Uint8Array(n));
      const s = encodeBase64url(bytes);
      if (n > 0) expect(isBase64url(s)).toBe(true);
      expect(decodeBase64url(s)).toEqual(bytes);
    }
  });
  it("rejects padding, other alphabets and non-canonical tails", () => {
    for (const s of ["", "a", "ab==", "a+b/", "ab c", "é", "AB\u0000C", "AB%2B"]) expect(isBase64url(s)).toBe(false);
    expect(isBase64url("AQ")).toBe(true);
    expect(isBase64url("AR")).toBe(false); // stray bits: a second encoding of the same byte
  });
});

describe("token codec", () => {
  it("issues v1 tokens of at most 100 characters that verify", async () => {
    const ring = await createKeyRing([entry("k1")]);
    const { token } = await ring.issue();
    expect(token).toMatch(/^v1\.k1\.[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}$/);
    expect(token.length).toBeLessThanOrEqual(100);
    expect(MAX_TOKEN_LENGTH).toBeLessThanOrEqual(100);
    expect(await ring.verify(token)).toMatchObject({ ok: true, kid: "k1" });
  });

  it("issues a different id every time (CSPRNG, 256 bits)", async () => {
    const ring = await createKeyRing([entry("k1")]);
    const ids = new Set<string>();
    for (let i = 0; i < 200; i++) ids.add((await ring.issue()).id);
    expect(ids.size).toBe(200);
    expect(decodeBase64url([...ids][0]!).length).toBe(32);
  });

  describe("Security", () => {
    it("rejects a tampered, truncated or extended token", async () => {
      const ring = await createKeyRing([entry("k1")]);
      const { token } = await ring.issue();
      const flip = (i: number) => token.slice(0, i) + (token[i] === "A" ? "B" : "A") + token.slice(i + 1);
      expect(await ring.verify(flip(token.length - 5))).toEqual({ ok: false, reason: "bad_signature" });
      expect(await ring.verify(flip(10))).toEqual({ ok: false, reason: "bad_signature" });
      expect(await ring.verify(token.slice(0, -1))).toEqual({ ok: false, reason: "malformed" });
      expect(await ring.verify(token + "A")).toEqual({ ok: false, reason: "malformed" });
      expect(await ring.verify("")).toEqual({ ok: false, reason: "malformed" });
    });

    it("rejects an unknown version, wrong part counts, padding and escapes", async () => {
      const ring = await createKeyRing([entry("k1")]);
      const { token } = await ring.issue();
      const [, kid, id, mac] = token.split(".") as [string, string, string, string];
      const cases = [
        `v2.${kid}.${id}.${mac}`,
        `V1.${kid}.${id}.${mac}`,
        `v1.${kid}.${id}`,
        `v1.${kid}.${id}.${mac}.x`,
        `v1.${kid}.${id}=.${mac.slice(0, -1)}`,
        `v1.${kid}.${id.slice(0, -1)}+.${mac}`,
        `v1.${kid}.${id.slice(0, -3)}%2B.${mac}`,
        `v1.${kid}.${id.slice(0, -1)}\u0000.${mac}`,
        `v1.${kid}.${id.slice(0, -1)}é.${mac}`,
        `v1..${id}.${mac}`,
        "x".repeat(10_240),
      ];
      for (const c of cases) expect((await ring.verify(c)).ok, c.slice(0, 40)).toBe(false);
      expect(parseToken(`v2.${kid}.${id}.${mac}`)).toEqual({ ok: false, reason: "malformed" });
    });

    it("rejects a token from a key that is not in the ring (re-keyed or retired)", async () => {
      const old = await createKeyRing([entry("k1")]);
      const { token } = await old.issue();
      const rekeyed = await createKeyRing([entry("k1")]); // same kid, new key
      expect(await rekeyed.verify(token)).toEqual({ ok: false, reason: "bad_signature" });
      const retired = await createKeyRing([entry("k2")]);
      expect(await retired.verify(token)).toEqual({ ok: false, reason: "unknown_key" });
    });

    it("verifies with every key, signs with the first (rotation)", async () => {
      const a = entry("a");
      const b = entry("b");
      const before = await createKeyRing([a]);
      const during = await createKeyRing([b, a]);
      const { token: oldToken } = await before.issue();
      const { token: newToken } = await during.issue();
      expect(newToken.startsWith("v1.b.")).toBe(true);
      expect((await during.verify(oldToken)).ok).toBe(true);
      expect((await during.verify(newToken)).ok).toBe(true);
      const after = await createKeyRing([b]);
      expect(await after.verify(oldToken)).toEqual({ ok: false, reason: "unknown_key" });
    });

    it("names every key-ring problem at once", () => {
      const r = parseKeyRing("k1:short,bad kid:AAAA,k1:" + "A".repeat(43) + ",nocolon");
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.problems.join("\n")).toMatch(/at least 32 required/);
        expect(r.problems.join("\n")).toMatch(/key id must be/);
        expect(r.problems.join("\n")).toMatch(/duplicate key id/);
        expect(r.problems.join("\n")).toMatch(/not kid:key/);
        expect(r.problems.join("\n")).not.toContain("short"); // never echoes key material
      }
      expect(parseKeyRing("")).toMatchObject({ ok: false });
      expect(parseKeyRing(undefined)).toMatchObject({ ok: false });
    });
  });
});
