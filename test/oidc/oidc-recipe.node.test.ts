/**
 * The OpenID Connect recipe (examples/oidc-sign-in.ts, with arctic, mounted by examples/oidc-worker.ts) end to end against a real
 * local OpenID Connect provider (oauth2-mock-server: discovery, authorize with PKCE and nonce,
 * token endpoint, RS256 ID tokens), the recipe running in workerd (Miniflare) against the
 * local store, ending in an edge-session token that sessionAuth() accepts.
 */
import { randomBytes } from "node:crypto";
import path from "node:path";
import { build } from "esbuild";
import { packageSource } from "../../dev/package-entries.ts";
import { Miniflare } from "miniflare";
import { OAuth2Server } from "oauth2-mock-server";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startStore, type StoreServer } from "@edge-session/local-store";
import { COMPATIBILITY_DATE } from "../helpers/node/bundle.ts";

const CLIENT_ID = "edge-session-test";
let idp: OAuth2Server;
let store: StoreServer;
let mf: Miniflare;
let base = "";
/** Claims the provider puts in the next ID tokens (set per test). */
let claims: Record<string, unknown> = {};

beforeAll(async () => {
  idp = new OAuth2Server();
  await idp.issuer.keys.generate("RS256");
  await idp.start(0, "127.0.0.1");
  idp.service.on("beforeTokenSigning", (token: { payload: Record<string, unknown> }) => Object.assign(token.payload, claims));
  store = await startStore({ port: 0, redisUrl: process.env.REDIS_URL || undefined });
  const outfile = path.resolve(".tmp/oidc-worker/index.js");
  await build({
    entryPoints: [path.resolve("examples/oidc-worker.ts")],
    outfile,
    bundle: true,
    format: "esm",
    target: "es2022",
    platform: "neutral",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["module", "main"],
    plugins: [packageSource],
    external: ["cloudflare:*", "node:*"],
    logLevel: "silent",
  });
  const bindings: Record<string, string> = {
    UPSTASH_REDIS_REST_URL: store.url,
    UPSTASH_REDIS_REST_TOKEN: store.token,
    SESSION_KEYS: `k1:${randomBytes(32).toString("base64url")}`,
    STORE_PREFIX: `oidc-${randomBytes(4).toString("hex")}:`,
    OIDC_ISSUER: idp.issuer.url!,
    OIDC_CLIENT_ID: CLIENT_ID,
    OIDC_CLIENT_SECRET: randomBytes(16).toString("hex"),
  };
  // The worker's public URL is its callback's origin: known only once it listens, so start it twice.
  mf = new Miniflare({ host: "127.0.0.1", port: 0, cf: false, modules: true, scriptPath: outfile, compatibilityDate: COMPATIBILITY_DATE, bindings: { ...bindings, PUBLIC_URL: "http://placeholder" } });
  base = (await mf.ready).toString().replace(/\/$/, "");
  await mf.setOptions({ host: "127.0.0.1", port: Number(new URL(base).port), cf: false, modules: true, scriptPath: outfile, compatibilityDate: COMPATIBILITY_DATE, bindings: { ...bindings, PUBLIC_URL: base } });
}, 120_000);

afterAll(async () => {
  await mf?.dispose();
  await store?.close();
  await idp?.stop();
});

afterEach(() => {
  claims = {};
});

/** /sso/start → the provider's authorize endpoint → back to /sso/callback, as a browser would (minus the rendering). */
async function signInAtProvider(tamper: { state?: string; dropCookie?: boolean } = {}) {
  const start = await fetch(`${base}/sso/start`, { redirect: "manual" });
  expect(start.status).toBe(302);
  const cookie = start.headers.getSetCookie().find((c) => c.startsWith("__Host-edge-session-oidc="))!;
  expect(cookie).toMatch(/HttpOnly/i);
  expect(cookie).toMatch(/Secure/i);
  expect(cookie).toMatch(/SameSite=Lax/i);
  const authorize = new URL(start.headers.get("Location")!);
  expect(authorize.origin).toBe(new URL(idp.issuer.url!).origin);
  expect(authorize.searchParams.get("code_challenge_method")).toBe("S256");
  expect(authorize.searchParams.get("nonce")).toBeTruthy();
  const atIdp = await fetch(authorize, { redirect: "manual" });
  expect(atIdp.status).toBe(302);
  const callback = new URL(atIdp.headers.get("Location")!);
  expect(callback.href.startsWith(`${base}/sso/callback?`)).toBe(true);
  if (tamper.state) callback.searchParams.set("state", tamper.state);
  const headers: Record<string, string> = { Accept: "application/json" };
  if (!tamper.dropCookie) headers.Cookie = cookie.split(";")[0]!;
  const res = await fetch(callback, { headers, redirect: "manual" });
  return { res, body: (await res.json()) as Record<string, unknown>, callback, cookie: headers.Cookie };
}

describe("OpenID Connect sign-in with arctic (oauth2-mock-server)", () => {
  it("ends in an edge-session token that sessionAuth() accepts", async () => {
    claims = { sub: "user-123", email: "Sso.User@example.test", email_verified: true };
    const { res, body } = await signInAtProvider();
    expect(res.status).toBe(200);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    expect(body).toMatchObject({ tokenType: "Bearer", user: { email: "sso.user@example.test", roles: [] } });
    const me = await fetch(`${base}/private/me`, { headers: { Authorization: `Bearer ${body.token as string}` } });
    expect(me.status).toBe(200);
    expect(((await me.json()) as { user: { id: string } }).user.id).toBe((body.user as { id: string }).id);
  });

  it("the same provider subject is the same user in every sign-in", async () => {
    claims = { sub: "same-subject", email: "same@example.test", email_verified: true };
    const a = await signInAtProvider();
    const b = await signInAtProvider();
    expect((a.body.user as { id: string }).id).toBe((b.body.user as { id: string }).id);
    expect(a.body.token).not.toBe(b.body.token);
  });

  it("without Accept: application/json, a page hands the grant to the opener (no token in any URL)", async () => {
    claims = { sub: "page-user", email: "page@example.test", email_verified: true };
    const start = await fetch(`${base}/sso/start`, { redirect: "manual" });
    const cookie = start.headers.getSetCookie()[0]!.split(";")[0]!;
    const atIdp = await fetch(start.headers.get("Location")!, { redirect: "manual" });
    const res = await fetch(atIdp.headers.get("Location")!, { headers: { Cookie: cookie } });
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toMatch(/text\/html/);
    const html = await res.text();
    const grant = JSON.parse(/<script type="application\/json" id="sso-grant">(.*?)<\/script>/.exec(html)![1]!) as { grant: { token: string } };
    expect((await fetch(`${base}/private/me`, { headers: { Authorization: `Bearer ${grant.grant.token}` } })).status).toBe(200);
  });
});

describe("attacks on the SSO callback", () => {
  it("login CSRF: a callback whose state is not this browser's is refused (400 state_mismatch), no session", async () => {
    claims = { sub: "victim", email: "victim@example.test", email_verified: true };
    const { res, body } = await signInAtProvider({ state: "attacker-state" });
    expect(res.status).toBe(400);
    expect(body).toEqual({ error: "invalid_request", reason: "state_mismatch" });
    expect(body.token).toBeUndefined();
  });

  it("a callback with no sign-in in progress (no cookie) is refused", async () => {
    claims = { sub: "x", email: "x@example.test", email_verified: true };
    const { res, body } = await signInAtProvider({ dropCookie: true });
    expect(res.status).toBe(400);
    expect(body.reason).toBe("no_sign_in_in_progress");
  });

  it("a replayed callback (same code, same cookie) gets no second session", async () => {
    claims = { sub: "replay", email: "replay@example.test", email_verified: true };
    const first = await signInAtProvider();
    expect(first.res.status).toBe(200);
    const again = await fetch(first.callback, { headers: { Accept: "application/json", Cookie: first.cookie! } });
    expect(again.status).toBe(401);
    expect(((await again.json()) as { error: string }).error).toBe("sso_failed");
  });

  it("an ID token minted for another client (wrong audience) is refused", async () => {
    claims = { sub: "aud", email: "aud@example.test", email_verified: true, aud: "some-other-client" };
    const { res, body } = await signInAtProvider();
    expect(res.status).toBe(401);
    expect(body).toEqual({ error: "sso_failed", reason: "wrong_audience" });
  });

  it("an ID token with another sign-in's nonce is refused", async () => {
    claims = { sub: "nonce", email: "nonce@example.test", email_verified: true, nonce: "not-this-one" };
    const { res, body } = await signInAtProvider();
    expect(res.status).toBe(401);
    expect(body.reason).toBe("nonce_mismatch");
  });

  it("an ID token from another issuer is refused", async () => {
    claims = { sub: "iss", email: "iss@example.test", email_verified: true, iss: "https://evil.example" };
    const { res, body } = await signInAtProvider();
    expect(res.status).toBe(401);
    expect(body.reason).toBe("wrong_issuer");
  });

  it("an unverified email gets no session (403)", async () => {
    claims = { sub: "unverified", email: "boss@example.test", email_verified: false };
    const { res, body } = await signInAtProvider();
    expect(res.status).toBe(403);
    expect(body.reason).toBe("user_not_allowed");
  });

  it("a store outage while creating the session is a 503 with Retry-After, not a 500", async () => {
    claims = { sub: "outage", email: "outage@example.test", email_verified: true };
    await store.setFault("refuse");
    try {
      const { res } = await signInAtProvider();
      expect(res.status).toBe(503);
      expect(res.headers.get("Retry-After")).toBe("2");
    } finally {
      await store.setFault(null);
    }
  });
});
