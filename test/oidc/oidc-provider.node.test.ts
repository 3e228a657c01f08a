/**
 * The OpenID Connect module (src/oidc) end to end against the real certified provider
 * oidc-provider on loopback, in its default configuration (development interactions: the login
 * and consent forms are filled in over plain HTTP as a browser would), with the module mounted
 * in a Hono app served by node:http over the real session layer and the local store.
 */
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { Hono } from "hono";
import type Provider from "oidc-provider";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startStore, type StoreServer } from "@edge-session/local-store";
// The pieces, not src/lib.ts: that also exports the Durable Object classes, which need workerd.
import { sessionAuth, type SessionVariables } from "../../src/credentials/middleware.ts";
import { errorHandler } from "../../src/http/responses.ts";
import { createSessionLayer, type SessionLayer } from "../../src/session/layer.ts";
import { clearDiscoveryCache, clearJwksCache, oidcSignIn, signJws, userIdFor, type Jwk, type OidcLogEntry, type OidcProviderOptions, type OidcSignInOptions } from "../../src/oidc/index.ts";
import { browse, confirmLogout, Jar, listen, newProvider, nodeHandler, signingKeys, type Handler } from "../helpers/node/oidc-op.ts";

const SECRET_BASIC = `se+cr/et=${randomBytes(12).toString("base64url")}% :`;
const SECRET_POST = `po+st/=${randomBytes(12).toString("base64url")}`;
const clientKey = generateKeyPairSync("ec", { namedCurve: "P-256" });
const clientPrivateJwk = { ...clientKey.privateKey.export({ format: "jwk" }), kid: "client-es256" } as Jwk;

let store: StoreServer;
let layer: SessionLayer;
let op: Awaited<ReturnType<typeof listen>>;
let web: Awaited<ReturnType<typeof listen>>;
let provider: Provider;
let opHandler: Handler;
let appHandler: Handler;
/** Every request the app's module made to the provider, and a hook to rewrite the token endpoint's answer. */
let calls: string[] = [];
let tamperTokens: ((body: Record<string, unknown>) => Record<string, unknown> | Promise<Record<string, unknown>>) | null = null;
let logs: OidcLogEntry[] = [];
/** Logout tokens the provider sent to the app. */
let logoutTokens: string[] = [];

const recordingFetch: typeof fetch = async (input, init) => {
  const url = String(input instanceof Request ? input.url : input);
  calls.push(url);
  const res = await fetch(input, init);
  if (tamperTokens && url.endsWith("/token") && res.ok) return Response.json(await tamperTokens((await res.json()) as Record<string, unknown>));
  return res;
};

function clients(origin: string) {
  const common = (id: string, alg: string) => ({
    client_id: id,
    redirect_uris: [`${origin}/sso/${id}/callback`],
    id_token_signed_response_alg: alg,
    post_logout_redirect_uris: [`${origin}/signed-out`],
    backchannel_logout_uri: `${origin}/sso/${id}/backchannel-logout`,
    backchannel_logout_session_required: true,
  });
  return [
    { ...common("rs256", "RS256"), client_secret: SECRET_BASIC, token_endpoint_auth_method: "client_secret_basic" },
    { ...common("ps256", "PS256"), client_secret: SECRET_POST, token_endpoint_auth_method: "client_secret_post" },
    { ...common("es256", "ES256"), token_endpoint_auth_method: "private_key_jwt", jwks: { keys: [{ ...clientKey.publicKey.export({ format: "jwk" }), kid: "client-es256" }] } },
    { ...common("eddsa", "EdDSA"), client_secret: SECRET_BASIC, token_endpoint_auth_method: "client_secret_basic" },
  ];
}

function providers(issuer: string, extra: Partial<OidcProviderOptions> = {}): OidcProviderOptions[] {
  return [
    { id: "rs256", issuer, clientId: "rs256", clientAuth: { method: "client_secret_basic", clientSecret: SECRET_BASIC }, ...extra },
    { id: "ps256", issuer, clientId: "ps256", clientAuth: { method: "client_secret_post", clientSecret: SECRET_POST }, ...extra },
    { id: "es256", issuer, clientId: "es256", clientAuth: { method: "private_key_jwt", privateKey: clientPrivateJwk, alg: "ES256", kid: "client-es256" }, ...extra },
    { id: "eddsa", issuer, clientId: "eddsa", clientAuth: { method: "client_secret_basic", clientSecret: SECRET_BASIC }, ...extra },
  ];
}

/** Mounts the module as an app would; `options` and `provider` override the defaults for one test. */
function useApp(options: Partial<OidcSignInOptions> = {}, extra: Partial<OidcProviderOptions> = {}) {
  const app = new Hono<{ Variables: SessionVariables }>();
  app.onError(errorHandler);
  app.route("/sso", oidcSignIn({ providers: providers(op.origin, extra), sessions: layer, store: layer.store, baseUrl: `${web.origin}/sso`, development: true, postLogoutRedirectUri: `${web.origin}/signed-out`, fetch: recordingFetch, log: (e) => logs.push(e), storePrefix: `oidc-test-${randomBytes(4).toString("hex")}:`, ...options }));
  app.use("/private/*", sessionAuth(layer));
  app.get("/private/me", (c) => c.json({ user: c.var.user }));
  appHandler = nodeHandler((r) => app.fetch(r), (r, body) => {
    if (r.url.includes("/backchannel-logout")) logoutTokens.push(new URLSearchParams(body).get("logout_token") ?? "");
  });
}

async function signIn(id: string, o: { login?: string; cancel?: boolean; jar?: Jar; accept?: string } = {}) {
  const jar = o.jar ?? new Jar();
  const callback = await browse(jar, `${web.origin}/sso/${id}/start`, { stopAt: `${web.origin}/sso/${id}/callback`, login: o.login, cancel: o.cancel });
  const res = await jar.fetch(callback, { headers: { Accept: o.accept ?? "application/json" } });
  const text = await res.text();
  const body = (res.headers.get("Content-Type") ?? "").includes("json") ? (JSON.parse(text) as Record<string, any>) : { html: text };
  return { res, body, jar, callback };
}

beforeAll(async () => {
  store = await startStore({ port: 0, redisUrl: process.env.REDIS_URL || undefined });
  layer = await createSessionLayer({ url: store.url, token: store.token, sessionKeys: `k1:${randomBytes(32).toString("base64url")}`, prefix: `oidc-${randomBytes(4).toString("hex")}:` });
  web = await listen(() => appHandler);
  op = await listen(() => opHandler);
  provider = newProvider(op.origin, clients(web.origin) as never);
  opHandler = provider.callback() as Handler;
});

afterAll(async () => {
  await op?.close();
  await web?.close();
  await store?.close();
});

beforeEach(() => {
  // Each test starts with a cold isolate: caches from another test's provider keys do not leak in.
  clearJwksCache();
  clearDiscoveryCache();
  calls = [];
  logs = [];
  logoutTokens = [];
  tamperTokens = null;
  useApp();
});

describe("sign-in at oidc-provider (default configuration)", () => {
  it("ends in an edge session; email and name come from UserInfo, the user is keyed by issuer and subject", async () => {
    const { res, body } = await signIn("rs256", { login: "alice" });
    expect(res.status).toBe(200);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    expect(body.user).toEqual({ id: await userIdFor(op.origin, "alice"), email: "alice@example.test", roles: [] });
    expect(body.user.id).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
    // The ID token carried no email (the provider puts scope claims in UserInfo only): UserInfo was read once.
    expect(calls.filter((u) => u.endsWith("/me"))).toHaveLength(1);
    const me = await fetch(`${web.origin}/private/me`, { headers: { Authorization: `Bearer ${body.token}` } });
    expect(me.status).toBe(200);
    expect(((await me.json()) as { user: { id: string } }).user.id).toBe(body.user.id);
  });

  it("without Accept: application/json the popup gets a page that posts the grant to the app origin only", async () => {
    const { res, body, callback } = await signIn("rs256", { accept: "text/html" });
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Security-Policy")).toContain("script-src 'self'");
    const data = JSON.parse(/<script type="application\/json" id="sso-result">(.*?)<\/script>/.exec(body.html)![1]!);
    expect(data).toMatchObject({ type: "edge-session:sso", appOrigin: web.origin, grant: { tokenType: "Bearer" } });
    // The page's script, resolved as the browser resolves it from the callback's URL.
    const src = /<script src="([^"]+)"><\/script>/.exec(body.html)![1]!;
    const served = await fetch(new URL(src, callback));
    expect(served.status).toBe(200);
    const script = await served.text();
    expect(script).toContain("postMessage(message, data.appOrigin)");
  });

  it("transport cookie: the token goes into the HttpOnly __Host-session cookie, the grant has none; /logout needs the CSRF header and clears the cookie", async () => {
    useApp({ transport: "cookie" });
    const { res, body, jar } = await signIn("rs256", { login: "cookie-user" });
    expect(res.status).toBe(200);
    expect(body).toEqual({ transport: "cookie", expiresAt: expect.any(String), idleExpiresAt: expect.any(String), user: { id: await userIdFor(op.origin, "cookie-user"), email: "cookie-user@example.test", roles: [] } });
    const set = res.headers.getSetCookie().find((c) => c.startsWith("__Host-session="))!;
    expect(set).toMatch(/; HttpOnly/);
    expect(set).toMatch(/; Secure/);
    expect(set).toMatch(/; SameSite=Lax/);
    const token = jar.cookies.get("__Host-session")!;
    expect((await fetch(`${web.origin}/private/me`, { headers: { Authorization: `Bearer ${token}` } })).status).toBe(200);
    const noCsrf = await fetch(`${web.origin}/sso/logout`, { method: "POST", headers: { Cookie: `__Host-session=${token}` } });
    expect(noCsrf.status).toBe(403);
    const out = await fetch(`${web.origin}/sso/logout`, { method: "POST", headers: { Cookie: `__Host-session=${token}`, "X-CSRF-Protection": "1" } });
    expect(out.status).toBe(200);
    expect(out.headers.getSetCookie().some((c) => c.startsWith("__Host-session=;") && /Max-Age=0/.test(c))).toBe(true);
    expect((await fetch(`${web.origin}/private/me`, { headers: { Authorization: `Bearer ${token}` } })).status).toBe(401);
  });

  it.each([
    ["ps256", "PS256", "client_secret_post"],
    ["es256", "ES256", "private_key_jwt"],
    ["eddsa", "EdDSA", "client_secret_basic"],
    ["rs256", "RS256", "client_secret_basic with + / = % : and a space in the secret"],
  ])("ID tokens signed %s (%s), client authenticated by %s", async (id, alg) => {
    let header: Record<string, unknown> = {};
    tamperTokens = (t) => ((header = JSON.parse(Buffer.from(String(t.id_token).split(".")[0]!, "base64url").toString())), t);
    const { res, body } = await signIn(id, { login: `user-${id}` });
    expect(res.status).toBe(200);
    expect(header.alg).toBe(alg);
    expect(body.user.email).toBe(`user-${id}@example.test`);
  });

  it("a wrong client secret is refused by the provider: 401 token_invalid_client, the log says what came", async () => {
    useApp({ providers: [{ id: "rs256", issuer: op.origin, clientId: "rs256", clientAuth: { method: "client_secret_basic", clientSecret: "wrong" } }] });
    const { res, body } = await signIn("rs256");
    expect(res.status).toBe(401);
    expect(body).toEqual({ error: "sso_failed", reason: "token_invalid_client" });
    expect(logs.find((l) => l.reason === "token_invalid_client")?.got).toMatchObject({ status: 401, error: "invalid_client" });
  });

  it("cancel at the provider: 401 sso_refused access_denied, and the popup page says so and tells the opener", async () => {
    const json = await signIn("rs256", { cancel: true });
    expect(json.res.status).toBe(401);
    expect(json.body).toEqual({ error: "sso_refused", reason: "access_denied" });
    const page = await signIn("rs256", { cancel: true, accept: "text/html" });
    expect(page.res.status).toBe(401);
    expect(page.body.html).toContain("You cancelled the sign-in");
    expect(JSON.parse(/id="sso-result">(.*?)<\/script>/.exec(page.body.html)![1]!)).toEqual({ type: "edge-session:sso-error", error: "sso_refused", reason: "access_denied", appOrigin: web.origin });
  });

  it("max_age is sent and auth_time checked; a required amr the provider does not assert is refused", async () => {
    useApp({}, { authorize: { maxAge: 300, loginHint: "carol" } });
    let authorize: URL | null = null;
    const jar = new Jar();
    const start = await jar.fetch(`${web.origin}/sso/rs256/start`);
    authorize = new URL(start.headers.get("Location")!);
    expect(authorize.searchParams.get("max_age")).toBe("300");
    expect(authorize.searchParams.get("login_hint")).toBe("carol");
    expect((await signIn("rs256")).res.status).toBe(200);
    useApp({}, { requireAmr: ["mfa"] });
    const { res, body } = await signIn("rs256");
    expect(res.status).toBe(401);
    expect(body.reason).toBe("amr_missing");
  });
});

describe("clock skew between the worker and the provider", () => {
  it("within the 60 s leeway either way is accepted; beyond it, refused with the reason", async () => {
    useApp({ now: () => Date.now() - 50_000 });
    expect((await signIn("rs256")).res.status).toBe(200);
    useApp({ now: () => Date.now() + 3_600_000 + 50_000 });
    expect((await signIn("rs256")).res.status).toBe(200);
    useApp({ now: () => Date.now() - 120_000 });
    const early = await signIn("rs256");
    expect(early.res.status).toBe(401);
    expect(early.body.reason).toBe("iat_in_future");
    useApp({ now: () => Date.now() + 3_600_000 + 120_000 });
    const late = await signIn("rs256");
    expect(late.body.reason).toBe("id_token_expired");
  });
});

describe("key rotation at the provider", () => {
  it("a token signed with a key id the cache lacks makes the module fetch the JWKS again, and signs in", async () => {
    expect((await signIn("rs256")).res.status).toBe(200);
    // The provider restarts with new keys under the same issuer.
    provider = newProvider(op.origin, clients(web.origin) as never, signingKeys(`k2-${randomBytes(3).toString("hex")}`));
    opHandler = provider.callback() as Handler;
    useApp({ jwksRefetchCooldownMs: 0 });
    calls = [];
    const { res } = await signIn("rs256");
    expect(res.status).toBe(200);
    expect(calls.filter((u) => u.endsWith("/jwks"))).toHaveLength(1);
  });
});

describe("logout", () => {
  it("RP-initiated: /logout ends the edge session and hands back the provider's URL with id_token_hint", async () => {
    const { body } = await signIn("rs256");
    const out = await fetch(`${web.origin}/sso/logout`, { method: "POST", headers: { Authorization: `Bearer ${body.token}` } });
    expect(out.status).toBe(200);
    const { logoutUrl } = (await out.json()) as { logoutUrl: string };
    const url = new URL(logoutUrl);
    expect(url.origin).toBe(op.origin);
    expect(url.searchParams.get("id_token_hint")?.split(".")).toHaveLength(3);
    expect(url.searchParams.get("post_logout_redirect_uri")).toBe(`${web.origin}/signed-out`);
    expect((await fetch(`${web.origin}/private/me`, { headers: { Authorization: `Bearer ${body.token}` } })).status).toBe(401);
  });

  it("back-channel: logging out at the provider ends every edge session of that provider session; a replayed logout token is refused", async () => {
    const first = await signIn("rs256", { login: "dave" });
    // Same browser, same provider session: no login form this time.
    const second = await signIn("rs256", { jar: first.jar });
    expect(second.res.status).toBe(200);
    const out = await fetch(`${web.origin}/sso/logout`, { method: "POST", headers: { Authorization: `Bearer ${first.body.token}` } });
    const { logoutUrl } = (await out.json()) as { logoutUrl: string };
    const confirmed = await confirmLogout(first.jar, logoutUrl);
    expect(confirmed.status).toBe(303);
    expect(logoutTokens).toHaveLength(1);
    expect(logs.find((l) => l.msg === "oidc back-channel logout")?.got).toMatchObject({ sid: true, ended: 1 });
    expect((await fetch(`${web.origin}/private/me`, { headers: { Authorization: `Bearer ${second.body.token}` } })).status).toBe(401);
    const replay = await fetch(`${web.origin}/sso/rs256/backchannel-logout`, { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ logout_token: logoutTokens[0]! }) });
    expect(replay.status).toBe(400);
    expect(await replay.json()).toEqual({ error: "invalid_request", reason: "logout_token_replayed" });
  });
});

describe("attack: tampered ID token", () => {
  const part = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const decode = (p: string) => JSON.parse(Buffer.from(p, "base64url").toString()) as Record<string, unknown>;

  it("a changed claim under the provider's signature is refused (bad_signature), no session", async () => {
    tamperTokens = (t) => {
      const [h, p, s] = String(t.id_token).split(".");
      return { ...t, id_token: `${h}.${part({ ...decode(p!), sub: "admin" })}.${s}` };
    };
    const { res, body } = await signIn("rs256");
    expect(res.status).toBe(401);
    expect(body).toEqual({ error: "sso_failed", reason: "bad_signature" });
  });

  it("alg none and HS256 are refused before any key is used", async () => {
    for (const alg of ["none", "HS256"]) {
      tamperTokens = (t) => {
        const [h, p] = String(t.id_token).split(".");
        return { ...t, id_token: `${part({ ...decode(h!), alg })}.${p}.${alg === "none" ? "" : "c2ln"}` };
      };
      const { res, body } = await signIn("rs256");
      expect(res.status).toBe(401);
      expect(body.reason).toBe(alg === "none" ? "jws_malformed" : "alg_not_allowed");
    }
  });

  it("an algorithm outside the app's allowlist is refused even when correctly signed", async () => {
    useApp({}, { algorithms: ["ES256"] });
    const { res, body } = await signIn("rs256");
    expect(res.status).toBe(401);
    expect(body.reason).toBe("alg_not_allowed");
    expect(logs.find((l) => l.reason === "alg_not_allowed")).toMatchObject({ expected: ["ES256"], got: "RS256" });
  });

  it("a token signed by another key under the provider's kid is refused", async () => {
    const attacker = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ format: "jwk" }) as Jwk;
    // The provider's own claims (right issuer, audience, nonce), re-signed by the attacker's key.
    tamperTokens = async (t) => {
      const [h, p] = String(t.id_token).split(".");
      return { ...t, id_token: await signJws(decode(p!), attacker, "RS256", { kid: decode(h!).kid }) };
    };
    const { res, body } = await signIn("rs256");
    expect(res.status).toBe(401);
    expect(body.reason).toBe("bad_signature");
  });
});

describe("attack: forged and flooding logout tokens", () => {
  const postLogout = (token: string) => fetch(`${web.origin}/sso/rs256/backchannel-logout`, { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ logout_token: token }) });

  it("made-up key ids do not make the module fetch the provider's JWKS more than once per cooldown", async () => {
    clearJwksCache();
    clearDiscoveryCache();
    const attacker = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ format: "jwk" }) as Jwk;
    const now = Math.floor(Date.now() / 1000);
    for (let i = 0; i < 5; i++) {
      const token = await signJws({ iss: op.origin, aud: "rs256", iat: now, jti: `j${i}`, sub: "alice", events: { "http://schemas.openid.net/event/backchannel-logout": {} } }, attacker, "RS256", { kid: `made-up-${i}`, typ: "logout+jwt" });
      const res = await postLogout(token);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { reason: string }).reason).toBe("unknown_kid");
    }
    expect(calls.filter((u) => u.endsWith("/jwks"))).toHaveLength(1);
  });

  it("an ID token presented as a logout token is refused (no logout event, has a nonce)", async () => {
    let idToken = "";
    tamperTokens = (t) => ((idToken = String(t.id_token)), t);
    await signIn("rs256");
    const res = await postLogout(idToken);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { reason: string }).reason).toBe("logout_event_missing");
  });

  it("a body that is not a form, or has no token, is a precise 400", async () => {
    const notForm = await fetch(`${web.origin}/sso/rs256/backchannel-logout`, { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" });
    expect(notForm.status).toBe(400);
    expect(((await notForm.json()) as { reason: string }).reason).toBe("form_expected");
    const empty = await postLogout("");
    expect(((await empty.json()) as { reason: string }).reason).toBe("logout_token_missing");
  });
});
