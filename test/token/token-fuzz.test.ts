/**
 * Property tests (fast-check) over the token codec and the key ring:
 * - random strings and bytes never throw and never verify;
 * - every single-character mutation, truncation and extension of a valid token is rejected
 *   (exhaustively over positions for the token alphabet and a set of hostile characters, and
 *   randomly over the whole of Unicode);
 * - sign/verify round-trips, across key-ring order changes (rotation), and a token from a key
 *   not in the ring never verifies.
 *
 * Runs per property: 10,000 in `npm test`. `npm run test:fuzz` sets FUZZ_RUNS (default
 * 1,000,000). Inside workerd there is no `process.env`: the script hands the figure over as
 * `VITE_FUZZ_RUNS`, which Vite exposes to the test as `import.meta.env.VITE_FUZZ_RUNS`.
 * Measured: ~10 s for the whole file at 10,000 runs; 818 s (about 14 minutes) at 1,000,000 runs
 * per property on the 2-core development machine — the HMAC-verifying properties take ~100 s each.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ENCODED_32, MAX_TOKEN_LENGTH, MIN_TOKEN_LENGTH, parseToken } from "../../src/token/codec.js";
import { createKeyRing, generateKeyEntry, parseKeyRing, type KeyRing } from "../../src/token/key-ring.js";
import { decodeBase64url, encodeBase64url, isBase64url } from "../../src/util/base64url.js";

const fromEnv = Number((import.meta as unknown as { env?: Record<string, string | undefined> }).env?.VITE_FUZZ_RUNS);
const RUNS = Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : 10_000;
/** Generous time per test: ~0.3 ms a run is the slowest property measured (an HMAC verify a run). */
const TIMEOUT = Math.max(30_000, RUNS * 0.6);
const params = { numRuns: RUNS };

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
/** Characters that have broken token parsers before: separators, padding, escapes, NUL, whitespace, look-alikes. */
const HOSTILE = [".", "=", "+", "/", "%", " ", "\t", "\n", "\r", "\0", "\u00e9", "\u0430" /* Cyrillic a */, "\uff21" /* fullwidth A */, "\u200b", "\ud83d\ude00", "\ud800", "\\", "\"", ","];

const entry = (kid: string) => {
  const parsed = parseKeyRing(generateKeyEntry(kid));
  if (!parsed.ok) throw new Error(parsed.problems.join());
  return parsed.entries[0]!;
};

const k2 = entry("k2");
const k1 = entry("k1");
const retired = entry("old");
const ring = await createKeyRing([k2, k1]);
/** The same keys, the other signer first: what a ring looks like mid-rotation. */
const rotated = await createKeyRing([k1, k2]);
/** The same kids, other key material: a token of `ring` must never verify here. */
const impostor = await createKeyRing([{ kid: "k2", key: entry("k2").key }, { kid: "k1", key: entry("k1").key }]);
const retiredRing = await createKeyRing([retired]);

/** A pool of genuine tokens from every key (so mutations cover kids of 1, 2 and 3 characters). */
const pool: string[] = [];
for (let i = 0; i < 16; i++) pool.push((await ring.issue()).token, (await rotated.issue()).token);
const legacy = (await retiredRing.issue()).token;

/** Verifies with every ring that could plausibly accept it; returns true if any did. */
async function anyAccepts(token: string): Promise<boolean> {
  for (const r of [ring, rotated]) {
    const v = await r.verify(token);
    if (v.ok) return true;
    expect(["malformed", "unknown_key", "bad_signature"]).toContain(v.reason);
  }
  return false;
}

const tokenArb = fc.constantFrom(...pool);
const b64Char = fc.constantFrom(...B64);
const b64String = (len: number) => fc.string({ unit: b64Char, minLength: len, maxLength: len });
/** Strings shaped exactly like tokens (right version, a kid from the ring, right lengths): only the MAC can save them. */
const bytes32 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map(encodeBase64url);
/** Mostly canonical encodings of 32 random bytes; sometimes any 43 characters of the alphabet. */
const part = fc.oneof({ arbitrary: bytes32, weight: 4 }, { arbitrary: b64String(ENCODED_32), weight: 1 });
const tokenShaped = fc
  .tuple(fc.constantFrom("k1", "k2", "k2", "k1", "old", "x", "abcdefgh"), part, part)
  .map(([kid, id, mac]) => `v1.${kid}.${id}.${mac}`);

describe("token fuzz: random input", () => {
  it(`arbitrary strings never throw and never verify (${RUNS} runs per alphabet)`, { timeout: TIMEOUT }, async () => {
    for (const unit of ["binary", "grapheme", "binary-ascii"] as const) {
      await fc.assert(
        fc.asyncProperty(fc.string({ unit, maxLength: 160 }), async (s) => {
          expect(parseToken(s).ok).toBe(false);
          expect(await anyAccepts(s)).toBe(false);
        }),
        { numRuns: Math.ceil(RUNS / 3) },
      );
    }
  });

  it(`strings of the token alphabet and length never verify (${RUNS} runs)`, { timeout: TIMEOUT }, async () => {
    const alphabetSoup = fc.string({ unit: fc.constantFrom(...B64, "."), minLength: MIN_TOKEN_LENGTH - 2, maxLength: MAX_TOKEN_LENGTH + 2 });
    await fc.assert(
      fc.asyncProperty(alphabetSoup, async (s) => {
        expect(await anyAccepts(s)).toBe(false);
      }),
      params,
    );
  });

  it(`token-shaped strings with a random MAC never verify (${RUNS} runs)`, { timeout: TIMEOUT }, async () => {
    let parsedCount = 0;
    await fc.assert(
      fc.asyncProperty(tokenShaped, async (s) => {
        if (parseToken(s).ok) parsedCount++;
        expect(await anyAccepts(s)).toBe(false);
        expect((await impostor.verify(s)).ok).toBe(false);
      }),
      params,
    );
    // The generator really reaches the MAC check (not all rejected as malformed on the way).
    expect(parsedCount).toBeGreaterThan(RUNS / 2);
  });

  it(`random bytes, read as Latin-1 and as UTF-8, never throw and never verify (${RUNS} runs)`, { timeout: TIMEOUT }, async () => {
    const utf8 = new TextDecoder("utf-8", { fatal: false, ignoreBOM: false });
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 200 }), async (bytes) => {
        const latin1 = String.fromCharCode(...bytes);
        const text = utf8.decode(bytes);
        for (const s of [latin1, text]) {
          expect(() => parseToken(s)).not.toThrow();
          expect(await anyAccepts(s)).toBe(false);
        }
      }),
      params,
    );
  });

  it("non-strings and huge inputs are refused without throwing", async () => {
    for (const v of [undefined, null, 0, {}, [], "x".repeat(1 << 20), "v1." + "A".repeat(10_240)]) {
      expect(parseToken(v as unknown as string)).toEqual({ ok: false, reason: "malformed" });
      expect((await ring.verify(v as unknown as string)).ok).toBe(false);
    }
  });
});

describe("token fuzz: mutations of a valid token", () => {
  it("every single-character substitution is rejected (exhaustive: every position × token alphabet and hostile characters)", { timeout: 120_000 }, async () => {
    const replacements = [...B64, ...HOSTILE];
    let checked = 0;
    for (const token of pool.slice(0, 4)) {
      expect(await anyAccepts(token)).toBe(true);
      for (let i = 0; i < token.length; i++) {
        for (const ch of replacements) {
          if (ch === token[i]) continue;
          const mutated = token.slice(0, i) + ch + token.slice(i + 1);
          if (await anyAccepts(mutated)) throw new Error(`accepted a mutation at ${i} (${JSON.stringify(ch)})`);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(4 * 90 * 64);
  });

  it("every truncation and every one-character extension is rejected (exhaustive)", { timeout: 60_000 }, async () => {
    for (const token of pool.slice(0, 4)) {
      for (let n = 0; n < token.length; n++) expect(await anyAccepts(token.slice(0, n))).toBe(false);
      for (const ch of [...B64, ...HOSTILE]) {
        expect(await anyAccepts(token + ch)).toBe(false);
        expect(await anyAccepts(ch + token)).toBe(false);
      }
      for (let n = 1; n < token.length; n++) expect(await anyAccepts(token.slice(n))).toBe(false);
    }
  });

  it(`a random substitution by any Unicode character is rejected (${RUNS} runs)`, { timeout: TIMEOUT }, async () => {
    const anyChar = fc.oneof(b64Char, fc.string({ unit: "binary", minLength: 1, maxLength: 1 }), fc.constantFrom(...HOSTILE));
    await fc.assert(
      fc.asyncProperty(tokenArb, fc.nat(), anyChar, async (token, at, ch) => {
        const i = at % token.length;
        fc.pre(ch !== token[i]);
        expect(await anyAccepts(token.slice(0, i) + ch + token.slice(i + 1))).toBe(false);
      }),
      params,
    );
  });

  it(`random truncations, extensions, insertions, deletions and bit flips are rejected (${RUNS} runs)`, { timeout: TIMEOUT }, async () => {
    type Edit = { kind: "truncate" | "extend" | "insert" | "delete" | "flip" | "swap"; at: number; text: string; bit: number };
    const edit: fc.Arbitrary<Edit> = fc.record({
      kind: fc.constantFrom("truncate", "extend", "insert", "delete", "flip", "swap"),
      at: fc.nat(),
      text: fc.string({ unit: fc.oneof(b64Char, fc.constantFrom(...HOSTILE)), minLength: 1, maxLength: 12 }),
      bit: fc.integer({ min: 0, max: 15 }),
    });
    const apply = (t: string, e: Edit): string => {
      const i = e.at % t.length;
      switch (e.kind) {
        case "truncate":
          return t.slice(0, i);
        case "extend":
          return t + e.text;
        case "insert":
          return t.slice(0, i) + e.text + t.slice(i);
        case "delete":
          return t.slice(0, i) + t.slice(i + 1 + (e.bit % 3));
        case "flip":
          return t.slice(0, i) + String.fromCharCode(t.charCodeAt(i) ^ (1 << e.bit)) + t.slice(i + 1);
        case "swap": {
          const j = (i + 1 + e.bit) % t.length;
          const a = [...t];
          [a[i], a[j]] = [a[j]!, a[i]!];
          return a.join("");
        }
      }
    };
    await fc.assert(
      fc.asyncProperty(tokenArb, edit, async (token, e) => {
        const mutated = apply(token, e);
        fc.pre(mutated !== token);
        expect(await anyAccepts(mutated)).toBe(false);
      }),
      params,
    );
  });

  it(`a MAC moved onto another id, or a kid swapped for another key's, never verifies (${RUNS} runs)`, { timeout: TIMEOUT }, async () => {
    await fc.assert(
      fc.asyncProperty(tokenArb, tokenArb, fc.constantFrom("k1", "k2"), async (a, b, kid) => {
        const [, kidA, idA] = a.split(".") as [string, string, string, string];
        const [, , idB, macB] = b.split(".") as [string, string, string, string];
        fc.pre(idA !== idB || kid !== kidA);
        expect(await anyAccepts(`v1.${kidA}.${idA}.${macB}`)).toBe(idA === idB && a === b);
        const relabelled = `v1.${kid}.${idA}.${a.split(".")[3]}`;
        expect(await anyAccepts(relabelled)).toBe(kid === kidA);
      }),
      params,
    );
  });
});

describe("token fuzz: round trip", () => {
  it(`every issued token verifies, to its own kid and id, in any key order (${RUNS} runs)`, { timeout: TIMEOUT }, async () => {
    const seen = new Set<string>();
    await fc.assert(
      fc.asyncProperty(fc.boolean(), async (useRotated) => {
        const issuer: KeyRing = useRotated ? rotated : ring;
        const { token, id } = await issuer.issue();
        expect(seen.has(id)).toBe(false);
        if (seen.size < 100_000) seen.add(id);
        expect(token.length).toBeGreaterThanOrEqual(MIN_TOKEN_LENGTH);
        expect(token.length).toBeLessThanOrEqual(MAX_TOKEN_LENGTH);
        const parsed = parseToken(token);
        expect(parsed.ok).toBe(true);
        for (const verifier of [ring, rotated]) expect(await verifier.verify(token)).toEqual({ ok: true, kid: issuer.signerKid, id });
        expect(decodeBase64url(id).length).toBe(32);
        expect(encodeBase64url(decodeBase64url(id))).toBe(id);
        expect((await impostor.verify(token)).ok).toBe(false);
        expect(await retiredRing.verify(token)).toEqual({ ok: false, reason: "unknown_key" });
      }),
      params,
    );
  });

  it("a token of a retired key verifies only where that key is still in the ring", async () => {
    expect((await retiredRing.verify(legacy)).ok).toBe(true);
    expect(await ring.verify(legacy)).toEqual({ ok: false, reason: "unknown_key" });
    const withOld = await createKeyRing([k2, k1, retired]);
    expect((await withOld.verify(legacy)).ok).toBe(true);
  });

  it(`base64url round-trips any bytes and accepts only its canonical form (${RUNS} runs)`, { timeout: TIMEOUT }, () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 96 }), (bytes) => {
        const s = encodeBase64url(bytes);
        expect(isBase64url(s)).toBe(true);
        expect(decodeBase64url(s)).toEqual(bytes);
      }),
      params,
    );
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...B64), minLength: 2, maxLength: 64 }), (s) => {
        // Canonical iff re-encoding the decoded bytes gives the same string back.
        const canonical = s.length % 4 !== 1 && encodeBase64url(decodeBase64url(s)) === s;
        expect(isBase64url(s)).toBe(canonical);
      }),
      params,
    );
  });
});
