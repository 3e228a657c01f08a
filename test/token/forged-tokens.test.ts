/**
 * Black box: forged and mangled credentials sent through the worker are refused with 401, and
 * cost the store nothing (ASVS 9.1.1: the MAC is checked before anything in the token is used).
 * The store's own counters (a private instance) are the witness. A validly signed token over an
 * id never issued does cost one read, which shows the counters would see a leak.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKeyRing, generateKeyEntry, parseKeyRing } from "../../src/token/key-ring.js";
import { testApp } from "../helpers/app.js";
import { BASE, call, register, type Fetch, type LoggedIn } from "../helpers/http.js";
import { privateStore, resetStats, stats, totalCommands, type StoreInstance } from "../helpers/store.js";
import { figure } from "../helpers/figure.js";

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

let store: StoreInstance & { close(): Promise<void> };
let app: Fetch;
let sessionKeys: string;
let user: LoggedIn;

beforeAll(async () => {
  store = await privateStore();
  // No edge cache: a refusal cannot come from memory, and an accepted forgery would show up as a read.
  const built = await testApp({ UPSTASH_REDIS_REST_URL: store.url, UPSTASH_REDIS_REST_TOKEN: store.token, SESSION_CACHE_TTL: "0" });
  app = built.fetch;
  sessionKeys = built.env.SESSION_KEYS!;
  user = await register(app);
});
afterAll(() => store?.close());

/** Every single-character substitution, truncation, extension, and a few structural lies. */
function mutations(token: string): string[] {
  const out = new Set<string>();
  const replacements = ["A", "B", "_", "-", "0", ".", "=", "+"];
  for (let i = 0; i < token.length; i++) {
    for (const ch of replacements) if (ch !== token[i]) out.add(token.slice(0, i) + ch + token.slice(i + 1));
    out.add(token.slice(0, i) + token.slice(i + 1)); // deletion
  }
  for (let n = 0; n < token.length; n += 3) out.add(token.slice(0, n)); // truncations
  for (const tail of ["A", "AA", "=", ".", ".x", "%3D", token]) out.add(token + tail);
  const [, kid, id, mac] = token.split(".") as [string, string, string, string];
  for (const v of ["v0", "v2", "V1", "v11", "", "v1.v1"]) out.add(`${v}.${kid}.${id}.${mac}`);
  for (const k of ["k1", "k2", "k3", "", "K2", "k2k2k2k2", "k2k2k2k2k"]) if (k !== kid) out.add(`v1.${k}.${id}.${mac}`);
  out.add(`v1.${kid}.${mac}.${id}`); // parts swapped
  out.add(`v1.${kid}.${id}`);
  out.add(`v1.${kid}.${id}.${mac}.${mac}`);
  out.add(`v1.${kid}.${id}.${mac.slice(0, 42)}`); // MAC one character short
  out.add(`v1.${kid}.${id}.${mac}A`);
  out.add(`v1.${kid}.${id}.${"A".repeat(43)}`);
  out.add(`v1.${kid}.${id}.${mac.slice(0, 40)}%2B`);
  out.add(`v1.${kid}.${id}=.${mac}`);
  out.add(`v1.${kid}.${id}.${mac}==`);
  out.add(encodeURIComponent(token).replace(/\./g, "%2E"));
  out.add(token.toUpperCase());
  out.add(" ".repeat(3) + token);
  out.add("x".repeat(10_240));
  out.add(token.repeat(100));
  // Random base64url noise in the token's shape.
  for (const s of fc.sample(fc.string({ unit: fc.constantFrom(...B64), minLength: 86, maxLength: 86 }), { numRuns: 100, seed: 42 })) {
    out.add(`v1.${kid}.${s.slice(0, 43)}.${s.slice(43)}`);
  }
  out.delete(token);
  return [...out];
}

/** The routes a token can unlock, each with how it presents the token. */
const routes: { name: string; req: (authorization: string) => Request }[] = [
  { name: "GET /api/me", req: (a) => new Request(`${BASE}/api/me`, { headers: { Authorization: a } }) },
  { name: "GET /auth/session", req: (a) => new Request(`${BASE}/auth/session`, { headers: { Authorization: a } }) },
  { name: "GET /auth/sessions", req: (a) => new Request(`${BASE}/auth/sessions`, { headers: { Authorization: a } }) },
  { name: "POST /auth/logout", req: (a) => new Request(`${BASE}/auth/logout`, { method: "POST", headers: { Authorization: a } }) },
  { name: "POST /auth/ws-ticket", req: (a) => new Request(`${BASE}/auth/ws-ticket`, { method: "POST", headers: { Authorization: a } }) },
  { name: "POST /auth/sessions/revoke-others", req: (a) => new Request(`${BASE}/auth/sessions/revoke-others`, { method: "POST", headers: { Authorization: a } }) },
  { name: "GET /admin/users/x/sessions", req: (a) => new Request(`${BASE}/admin/users/${user.user.id}/sessions`, { headers: { Authorization: a } }) },
  { name: "GET /ws (Bearer)", req: (a) => new Request(`${BASE}/ws`, { headers: { Authorization: a, Upgrade: "websocket", Origin: "https://app.example" } }) },
];

async function expect401(req: Request, what: string) {
  const res = await app(req);
  const text = await res.text();
  expect(res.status, `${what}: ${text.slice(0, 200)}`).toBe(401);
  expect(JSON.parse(text).error, what).toBe("unauthorized");
  expect(res.headers.get("WWW-Authenticate"), what).toMatch(/^Bearer error="invalid_token"/);
}

describe("forged tokens through the worker", () => {
  it("hundreds of mutations of a genuine token: all 401 on every route, zero store commands", { timeout: 60_000 }, async () => {
    const forged = mutations(user.token);
    expect(forged.length).toBeGreaterThan(900);
    await resetStats(store);
    let sent = 0;
    for (const [i, t] of forged.entries()) {
      // Every mutation on /api/me; each route gets its own share of them.
      await expect401(routes[0]!.req(`Bearer ${t}`), `mutation ${i} on /api/me`);
      const route = routes[1 + (i % (routes.length - 1))]!;
      await expect401(route.req(`Bearer ${t}`), `mutation ${i} on ${route.name}`);
      sent += 2;
    }
    const s = await stats(store);
    figure(`[forged] ${sent} forged requests, store commands: ${JSON.stringify(s.commands)}, HTTP requests: ${s.requests}`);
    expect(await totalCommands(store)).toBe(0);
    expect(s.requests).toBe(0);
    // The genuine token still works (nothing above was a lucky hit on something else).
    expect((await call("/api/me", { token: user.token }, app)).status).toBe(200);
  });

  it("malformed Authorization headers: other schemes, duplicates, empty, oversized — 401, zero store commands", async () => {
    const t = user.token;
    const headers = [
      `Basic ${btoa(`${user.email}:secret`)}`,
      `Token ${t}`,
      `Bearer`,
      `Bearer `,
      `Bearer  ${t}`,
      // (A trailing space is not here: Fetch strips a header value's surrounding whitespace.)
      `Bearer ${t}x`,
      `Bearer ${t} x`,
      `Bearer\t${t}`,
      `Bearer ${t}, Bearer ${t}`,
      `${t}`,
      `Bearer ${"A".repeat(32 * 1024)}`,
      `Bearer ${t.replace(/\./g, "%2E")}`,
      `Bearer "${t}"`,
    ];
    await resetStats(store);
    for (const h of headers) for (const route of routes) await expect401(route.req(h), `${route.name} with ${JSON.stringify(h.slice(0, 40))}`);
    // A duplicate header (two fields) arrives joined: still refused.
    const dup = new Headers();
    dup.append("Authorization", `Bearer ${t}`);
    dup.append("Authorization", `Bearer ${t}`);
    await expect401(new Request(`${BASE}/api/me`, { headers: dup }), "duplicate Authorization fields");
    // The token in the query instead of the header is not read at all.
    await expect401(new Request(`${BASE}/api/me?token=${t}&access_token=${t}`), "token in the query");
    expect(await totalCommands(store)).toBe(0);
  });

  it("tokens MAC'd with a retired or foreign key: 401 without a store command; a genuine MAC over an unissued id costs one read", async () => {
    const foreignEntry = parseKeyRing(generateKeyEntry("k2"));
    const retiredEntry = parseKeyRing(generateKeyEntry("old"));
    const real = parseKeyRing(sessionKeys);
    if (!foreignEntry.ok || !retiredEntry.ok || !real.ok) throw new Error("key setup");
    const foreign = await createKeyRing(foreignEntry.entries); // same kid as the signer, other key
    const retired = await createKeyRing(retiredEntry.entries);
    const genuine = await createKeyRing(real.entries);
    await resetStats(store);
    for (let i = 0; i < 20; i++) {
      await expect401(routes[0]!.req(`Bearer ${(await foreign.issue()).token}`), "foreign key");
      await expect401(routes[1]!.req(`Bearer ${(await retired.issue()).token}`), "retired key");
    }
    expect(await totalCommands(store)).toBe(0);
    // Contrast: a correctly signed token for an id that was never issued passes the MAC check and
    // needs the store to say "no such session" — one GET, which the counters do see.
    const unissued = (await genuine.issue()).token;
    const r = await call("/api/me", { token: unissued }, app);
    expect(r.status).toBe(401);
    expect(r.json.reason).toBe("revoked");
    expect((await stats(store)).commands).toEqual({ GET: 1 });
  });
});
