/**
 * The reference verifier an origin runs (examples/verify-assertion.mjs) against assertions made
 * by the gateway's own signer (src/gateway/assertion.ts): what it accepts, and every
 * near-miss an attacker holding captured headers could try.
 */
import { createHmac, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { verifyAssertion } from "../../examples/verify-assertion.mjs";
import { ASSERTION_TTL_SECONDS, importAssertionKey, signAssertion, type AssertedRequest } from "../../src/gateway/assertion.ts";

const KEY = randomBytes(32).toString("base64url");
const AUDIENCE = "https://origin.internal";
const NOW = Date.UTC(2026, 11, 1, 8, 0, 0);

const request: AssertedRequest = {
  user: "u_123",
  roles: "admin,billing",
  sessionId: "AAAAAAAAAAAAAAAAAAAAAA",
  method: "GET",
  target: "/app/orders?id=1",
  audience: AUDIENCE,
};

async function headersFor(r: AssertedRequest = request, nowMs = NOW): Promise<Record<string, string>> {
  const assertion = await signAssertion(await importAssertionKey(KEY), r, nowMs);
  return { "x-session-user": r.user, "x-session-roles": r.roles, "x-session-id": r.sessionId, "x-session-assertion": assertion };
}

const expected = { method: "GET", target: "/app/orders?id=1", audience: AUDIENCE, key: KEY, nowMs: NOW };

describe("reference verifier: what it accepts", () => {
  it("a fresh assertion for this method, target and audience → the identity, with a unique id", async () => {
    const h = await headersFor();
    const got = verifyAssertion(h, expected);
    expect(got).toMatchObject({ user: "u_123", roles: ["admin", "billing"], sessionId: request.sessionId });
    expect(got!.jti).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(got!.expiresAt).toBe(Math.floor(NOW / 1000) + ASSERTION_TTL_SECONDS);
    const again = verifyAssertion(await headersFor(), expected);
    expect(again!.jti).not.toBe(got!.jti);
  });

  it("lives about 10 s", () => {
    expect(ASSERTION_TTL_SECONDS).toBeLessThanOrEqual(10);
  });

  it("works with a Fetch Headers object too", async () => {
    expect(verifyAssertion(new Headers(await headersFor()), expected)).not.toBeNull();
  });
});

describe("attack: replaying a captured assertion on another query, method, audience or later", () => {
  it("another query on the same path is refused (?id=2&delete=1)", async () => {
    const h = await headersFor();
    expect(verifyAssertion(h, { ...expected, target: "/app/orders?id=2&delete=1" })).toBeNull();
    expect(verifyAssertion(h, { ...expected, target: "/app/orders" })).toBeNull();
    expect(verifyAssertion(h, { ...expected, target: "/app/orders?id=1&" })).toBeNull();
  });

  it("another method or path is refused", async () => {
    const h = await headersFor();
    expect(verifyAssertion(h, { ...expected, method: "POST" })).toBeNull();
    expect(verifyAssertion(h, { ...expected, method: "DELETE" })).toBeNull();
    expect(verifyAssertion(h, { ...expected, target: "/app/orders/1?id=1" })).toBeNull();
  });

  it("another audience (a second origin sharing the key) is refused", async () => {
    const h = await headersFor();
    expect(verifyAssertion(h, { ...expected, audience: "https://other.internal" })).toBeNull();
  });

  it("expired (after ≈ 10 s) or from the far future is refused", async () => {
    const h = await headersFor();
    expect(verifyAssertion(h, { ...expected, nowMs: NOW + (ASSERTION_TTL_SECONDS + 1) * 1000 })).toBeNull();
    expect(verifyAssertion(h, { ...expected, nowMs: NOW + 60_000 })).toBeNull();
    // Signed with the right key but a lifetime no gateway issues: refused, not trusted for an hour.
    const far = await headersFor(request, NOW + 3_600_000);
    expect(verifyAssertion(far, expected)).toBeNull();
  });

  it("a changed identity header is refused", async () => {
    const h = await headersFor();
    expect(verifyAssertion({ ...h, "x-session-user": "admin" }, expected)).toBeNull();
    expect(verifyAssertion({ ...h, "x-session-roles": "admin,billing,root" }, expected)).toBeNull();
    expect(verifyAssertion({ ...h, "x-session-id": "BBBBBBBBBBBBBBBBBBBBBB" }, expected)).toBeNull();
    expect(verifyAssertion({ ...h, "x-session-user": ["u_123", "admin"] as unknown as string }, expected)).toBeNull();
  });
});

describe("attack: malleable assertion encodings accepted by a lenient verifier", () => {
  it("<assertion>.junk, <assertion>junk, extra or missing parts are refused", async () => {
    const h = await headersFor();
    const a = h["x-session-assertion"]!;
    for (const bad of [`${a}.junk`, `${a}x`, `${a}.`, a.split(".").slice(0, 3).join("."), `x${a}`, ` ${a}`, `${a} `, a.replace(/^v2/, "v1")]) {
      expect(verifyAssertion({ ...h, "x-session-assertion": bad }, expected), bad).toBeNull();
    }
  });

  it("a padded, standard-alphabet or non-canonical MAC is refused", async () => {
    const h = await headersFor();
    const a = h["x-session-assertion"]!;
    const head = a.slice(0, a.lastIndexOf(".") + 1);
    const mac = a.slice(a.lastIndexOf(".") + 1);
    const raw = Buffer.from(mac, "base64url");
    const standard = raw.toString("base64"); // with '=' padding, maybe '+' and '/'
    expect(verifyAssertion({ ...h, "x-session-assertion": head + standard }, expected)).toBeNull();
    expect(verifyAssertion({ ...h, "x-session-assertion": head + mac + "=" }, expected)).toBeNull();
    // The same bytes, but the unused low bits of the last character set: Buffer decodes it the same.
    const last = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const i = last.indexOf(mac.at(-1)!);
    const noncanonical = mac.slice(0, -1) + last[i + 1]!;
    expect(Buffer.from(noncanonical, "base64url").equals(raw)).toBe(true);
    expect(verifyAssertion({ ...h, "x-session-assertion": head + noncanonical }, expected)).toBeNull();
  });

  it("a MAC over the message under another key, or a truncated MAC, is refused", async () => {
    const h = await headersFor();
    const [v, exp, jti] = h["x-session-assertion"]!.split(".");
    const forged = createHmac("sha256", "another key").update(`whatever`).digest("base64url");
    expect(verifyAssertion({ ...h, "x-session-assertion": `${v}.${exp}.${jti}.${forged}` }, expected)).toBeNull();
    const mac = h["x-session-assertion"]!.split(".")[3]!;
    expect(verifyAssertion({ ...h, "x-session-assertion": `${v}.${exp}.${jti}.${mac.slice(0, 22)}` }, expected)).toBeNull();
  });

  it("no assertion, or a verifier called without audience or key, refuses", async () => {
    const h = await headersFor();
    expect(verifyAssertion({ ...h, "x-session-assertion": undefined as unknown as string }, expected)).toBeNull();
    expect(() => verifyAssertion(h, { ...expected, audience: "" })).toThrow();
    expect(() => verifyAssertion(h, { ...expected, key: "" })).toThrow();
  });
});
