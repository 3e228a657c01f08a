/**
 * The OpenID Connect module inside workerd: examples/oidc-worker.ts (the README's worker, with
 * `edge-session/oidc`) bundled and run by Miniflare on a loopback port, over the real session
 * layer and the local store.
 *
 * - Against the real certified provider (oidc-provider in its default configuration, Node,
 *   loopback) with EdDSA-signed ID tokens: Ed25519 verification and the JWKS cache in the
 *   Workers runtime, and back-channel logout reaching the worker.
 * - Against oauth2-mock-server, which signs whatever claims it is told to: the answers a
 *   certified provider never gives (another audience, several audiences without or with another
 *   `azp`, another nonce or issuer, expired, a changed claim under a valid signature) — the
 *   only reason the mock stays.
 */
import { randomBytes } from "node:crypto";
import path from "node:path";
import { build } from "esbuild";
import { Miniflare } from "miniflare";
import { OAuth2Server } from "oauth2-mock-server";
import type Provider from "oidc-provider";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStore, type StoreServer } from "@edge-session/local-store";
import { packageSource } from "../../dev/package-entries.ts";
import { COMPATIBILITY_DATE } from "../helpers/node/bundle.ts";
import { browse, confirmLogout, Jar, listen, newProvider, type Handler } from "../helpers/node/oidc-op.ts";

const CLIENT_ID = "edge-session-workerd";
const SECRET = randomBytes(16).toString("base64url");
let store: StoreServer;
let script = "";
const workers: Miniflare[] = [];

/** The example worker in workerd, told its own public URL (known once it listens, so started twice). */
async function startWorker(issuer: string): Promise<string> {
  const bindings = {
    UPSTASH_REDIS_REST_URL: store.url,
    UPSTASH_REDIS_REST_TOKEN: store.token,
    SESSION_KEYS: `k1:${randomBytes(32).toString("base64url")}`,
    STORE_PREFIX: `oidc-wd-${randomBytes(4).toString("hex")}:`,
    OIDC_ISSUER: issuer,
    OIDC_CLIENT_ID: CLIENT_ID,
    OIDC_CLIENT_SECRET: SECRET,
    ENVIRONMENT: "development",
  };
  const options = { host: "127.0.0.1", cf: false, modules: true, scriptPath: script, compatibilityDate: COMPATIBILITY_DATE };
  const mf = new Miniflare({ ...options, port: 0, bindings: { ...bindings, PUBLIC_URL: "http://placeholder" } });
  workers.push(mf);
  const base = (await mf.ready).toString().replace(/\/$/, "");
  await mf.setOptions({ ...options, port: Number(new URL(base).port), bindings: { ...bindings, PUBLIC_URL: base } });
  return base;
}

const me = (base: string, token: string) => fetch(`${base}/private/me`, { headers: { Authorization: `Bearer ${token}` } });

async function callback(jar: Jar, base: string, o: { login?: string } = {}) {
  const url = await browse(jar, `${base}/sso/corp/start`, { stopAt: `${base}/sso/corp/callback`, login: o.login });
  const res = await jar.fetch(url, { headers: { Accept: "application/json" } });
  return { res, body: (await res.json()) as Record<string, any>, url };
}

beforeAll(async () => {
  store = await startStore({ port: 0, redisUrl: process.env.REDIS_URL || undefined });
  script = path.resolve(".tmp/oidc-workerd/index.js");
  await build({
    entryPoints: [path.resolve("examples/oidc-worker.ts")],
    outfile: script,
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
}, 60_000);

afterAll(async () => {
  for (const mf of workers) await mf.dispose();
  await store?.close();
});

describe("in workerd, against oidc-provider (default configuration, EdDSA ID tokens)", () => {
  let op: Awaited<ReturnType<typeof listen>>;
  let provider: Provider;
  let base = "";
  /** Paths the worker (or the test's browser stand-in) asked the provider for. */
  const paths: string[] = [];

  beforeAll(async () => {
    let handler: Handler = () => {};
    op = await listen(() => handler);
    base = await startWorker(op.origin);
    provider = newProvider(op.origin, [
      {
        client_id: CLIENT_ID,
        client_secret: SECRET,
        redirect_uris: [`${base}/sso/corp/callback`],
        id_token_signed_response_alg: "EdDSA",
        backchannel_logout_uri: `${base}/sso/corp/backchannel-logout`,
        backchannel_logout_session_required: true,
      },
    ] as never);
    const inner = provider.callback() as Handler;
    handler = (req, res) => {
      paths.push(new URL(req.url!, op.origin).pathname);
      inner(req, res);
    };
  }, 120_000);

  afterAll(async () => {
    await op?.close();
  });

  it("signs in: the Ed25519 signature is verified by WebCrypto in workerd; the second sign-in uses the cached JWKS", async () => {
    const jar = new Jar();
    const first = await callback(jar, base, { login: "erin" });
    expect(first.res.status).toBe(200);
    expect(first.body.user.email).toBe("erin@example.test");
    expect((await me(base, first.body.token)).status).toBe(200);
    const second = await callback(new Jar(), base, { login: "frank" });
    expect(second.res.status).toBe(200);
    expect(paths.filter((p) => p === "/jwks")).toHaveLength(1);
    expect(paths.filter((p) => p === "/.well-known/openid-configuration")).toHaveLength(1);
  });

  it("back-channel logout: signing out at the provider ends both edge sessions of that provider session", async () => {
    const jar = new Jar();
    const a = await callback(jar, base, { login: "gina" });
    const b = await callback(jar, base);
    expect([a.res.status, b.res.status]).toEqual([200, 200]);
    const confirmed = await confirmLogout(jar, `${op.origin}/session/end`);
    expect(confirmed.status).toBe(303);
    expect((await me(base, a.body.token)).status).toBe(401);
    expect((await me(base, b.body.token)).status).toBe(401);
  });
});

describe("attack: a provider that signs claims it should not (oauth2-mock-server), in workerd", () => {
  const idp = new OAuth2Server();
  let base = "";
  /** Claims the mock puts in the next tokens. */
  let claims: Record<string, unknown> = {};
  /** Rewrites the next token response after signing. */
  let rewrite: ((body: Record<string, unknown>) => void) | null = null;

  beforeAll(async () => {
    await idp.issuer.keys.generate("RS256");
    await idp.start(0, "127.0.0.1");
    idp.service.on("beforeTokenSigning", (token: { payload: Record<string, unknown> }) => Object.assign(token.payload, claims));
    idp.service.on("beforeResponse", (response: { body: Record<string, unknown> }) => rewrite?.(response.body));
    base = await startWorker(idp.issuer.url!);
  }, 120_000);

  afterAll(async () => {
    await idp.stop();
  });

  async function signIn(o: { claims: Record<string, unknown>; rewrite?: (body: Record<string, unknown>) => void }) {
    claims = { email: "mallory@example.test", email_verified: true, ...o.claims };
    rewrite = o.rewrite ?? null;
    try {
      return await callback(new Jar(), base);
    } finally {
      claims = {};
      rewrite = null;
    }
  }

  it("the mock's own answer signs in (the checks below fail on one claim each)", async () => {
    const { res, body } = await signIn({ claims: {} });
    expect(res.status).toBe(200);
    expect((await me(base, body.token)).status).toBe(200);
  });

  it.each([
    ["an ID token for another client", { aud: "some-other-client" }, "wrong_audience"],
    ["several audiences and no azp", { aud: [CLIENT_ID, "another-client"] }, "azp_missing"],
    ["an azp naming another client", { aud: [CLIENT_ID, "another-client"], azp: "another-client" }, "wrong_azp"],
    ["another sign-in's nonce", { nonce: "not-this-sign-in" }, "nonce_mismatch"],
    ["another issuer", { iss: "https://evil.example" }, "wrong_issuer"],
    ["expired beyond the leeway", { exp: Math.floor(Date.now() / 1000) - 300 }, "id_token_expired"],
    ["issued in the future beyond the leeway", { iat: Math.floor(Date.now() / 1000) + 600 }, "iat_in_future"],
  ])("%s, validly signed, is refused: 401 sso_failed %s, no session", async (_name, bad, reason) => {
    const { res, body } = await signIn({ claims: bad });
    expect(res.status).toBe(401);
    expect(body).toEqual({ error: "sso_failed", reason });
  });

  it("a claim changed after signing is refused (bad_signature)", async () => {
    const { res, body } = await signIn({
      claims: {},
      rewrite: (b) => {
        const [h, p, s] = String(b.id_token).split(".");
        const payload = { ...JSON.parse(Buffer.from(p!, "base64url").toString()), sub: "admin" };
        b.id_token = `${h}.${Buffer.from(JSON.stringify(payload)).toString("base64url")}.${s}`;
      },
    });
    expect(res.status).toBe(401);
    expect(body).toEqual({ error: "sso_failed", reason: "bad_signature" });
  });

  it("login CSRF: a callback with another state is refused (400 state_mismatch); a replayed callback gets no second session", async () => {
    claims = { email: "x@example.test", email_verified: true };
    const jar = new Jar();
    const url = await browse(jar, `${base}/sso/corp/start`, { stopAt: `${base}/sso/corp/callback` });
    const forged = new URL(url);
    forged.searchParams.set("state", "attacker-state");
    const csrf = await new Jar().fetch(forged, { headers: { Accept: "application/json", Cookie: jar.header() } });
    expect(csrf.status).toBe(400);
    expect(await csrf.json()).toEqual({ error: "invalid_request", reason: "state_mismatch" });
    const replayJar = new Jar();
    const arrival = await browse(replayJar, `${base}/sso/corp/start`, { stopAt: `${base}/sso/corp/callback` });
    const cookie = replayJar.header();
    const first = await replayJar.fetch(arrival, { headers: { Accept: "application/json" } });
    expect(first.status).toBe(200);
    // The same callback with the flow cookie as it was (an attacker who copied both): the code is spent at the provider.
    const again = await fetch(arrival, { headers: { Accept: "application/json", Cookie: cookie } });
    expect(again.status).toBe(401);
    expect(((await again.json()) as { error: string }).error).toBe("sso_failed");
    // And the browser that used it has no sign-in in progress any more.
    const spent = await replayJar.fetch(arrival, { headers: { Accept: "application/json" } });
    expect(spent.status).toBe(400);
    expect(((await spent.json()) as { reason: string }).reason).toBe("no_sign_in_in_progress");
    claims = {};
  });

  it("a store outage while creating the session is 503 with Retry-After, never a session or a 500", async () => {
    await store.setFault("refuse");
    try {
      const { res } = await signIn({ claims: {} });
      expect(res.status).toBe(503);
      expect(res.headers.get("Retry-After")).toBe("2");
    } finally {
      await store.setFault(null);
    }
  });
});
