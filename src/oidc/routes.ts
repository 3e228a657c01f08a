/**
 * `oidcSignIn(options)`: a Hono sub-app for signing in with OpenID Connect providers, ending in
 * an edge-session session. Per provider `{id}`:
 *   GET  /{id}/start                 → 302 to the provider (code flow, PKCE S256, state, nonce)
 *   GET  /{id}/callback              → the grant, as JSON (`Accept: application/json`) or a popup page
 *   POST /{id}/backchannel-logout    ← the provider's logout token; ends matching sessions
 * and for all: POST /logout (RP-initiated logout URL), GET /complete.js (the popup's script).
 */
import type { Context } from "hono";
import { Hono } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { clearedSessionCookie, readSessionCookie, sessionCookie } from "../cookie/session-cookie.js";
import { CSRF_HEADER, CSRF_HEADER_VALUE } from "../protocol.js";
import { defaultOidcUser, lacksProfileClaims, withUserInfo } from "./claims.js";
import { checkIssuer, checkProviderUrl, discover } from "./discovery.js";
import { OIDC_ERROR_STATUS, OidcError, type OidcErrorKind } from "./errors.js";
import { flowCookieName, decodeFlow, encodeFlow, newFlow } from "./flow.js";
import { verifyIdToken } from "./id-token.js";
import { applyLogoutToken, endSessionUrl, indexSession, verifyLogoutToken, type LogoutIndex } from "./logout.js";
import { checkOptions, type OidcLogEntry, type OidcProviderOptions, type OidcSignInOptions } from "./options.js";
import { COMPLETE_SCRIPT, errorPage, PAGE_HEADERS, successPage } from "./pages.js";
import { exchangeCode } from "./token-request.js";

/** What the callback hands to the browser client (`session.adopt(grant)`). */
export interface SsoGrant {
  token: string;
  tokenType: "Bearer";
  expiresAt: string;
  idleExpiresAt: string;
  user: { id: string; email: string; roles: string[] };
}

/** The grant with `transport: "cookie"`: the token went into the `__Host-session` cookie, not here. */
export interface SsoCookieGrant {
  transport: "cookie";
  expiresAt: string;
  idleExpiresAt: string;
  user: { id: string; email: string; roles: string[] };
}

/** Kept in `session.data.oidc`: which provider, the ID token for `id_token_hint`, the provider session. */
export interface OidcSessionData {
  p: string;
  idt: string;
  sid?: string;
}

const HINT = /^[\x20-\x7e]{1,256}$/;
const PROMPTS = new Set(["login", "consent", "select_account", "none"]);
const ERROR = /^[a-z_]{1,64}$/;

const defaultLog = (e: OidcLogEntry) => (e.level === "warn" ? console.warn : console.info)(JSON.stringify({ ...e, msg: e.msg }));

/** Routes for every provider in `options`; pass a function when options come from the worker's env. */
export function oidcSignIn(options: OidcSignInOptions | ((c: Context) => OidcSignInOptions)) {
  if (typeof options !== "function") checkOptions(options);
  const optionsFor = typeof options === "function" ? options : () => options;

  const settings = (c: Context) => {
    const o = optionsFor(c);
    const now = o.now ?? Date.now;
    return {
      o,
      now,
      log: o.log ?? defaultLog,
      index: { store: o.store, prefix: o.storePrefix ?? "es:oidc:" } satisfies LogoutIndex,
      appOrigin: o.appOrigin ?? new URL(o.baseUrl).origin,
      keysFor: (p: OidcProviderOptions, jwksUri: string) => ({ jwksUri, algorithms: p.algorithms, refetchCooldownMs: o.jwksRefetchCooldownMs, fetch: o.fetch, now }),
      metadataFor: (p: OidcProviderOptions) => discover({ issuer: p.issuer, tenants: p.tenants, development: o.development, fetch: o.fetch, now }),
    };
  };
  type Settings = ReturnType<typeof settings>;

  const providerOf = (s: Settings, id: string) => s.o.providers.find((p) => p.id === id);
  const redirectUri = (s: Settings, p: OidcProviderOptions) => `${s.o.baseUrl.replace(/\/$/, "")}/${p.id}/callback`;

  /** A refusal: logged with what was expected and what came, answered as JSON or as the popup's page. */
  const refuse = (c: Context, s: Settings, provider: string | undefined, e: OidcError) => {
    s.log({ level: "warn", msg: "oidc sign-in refused", provider, kind: e.kind, reason: e.reason, ...e.detail });
    const status = OIDC_ERROR_STATUS[e.kind];
    if (wantsJson(c)) return c.json({ error: e.kind, reason: e.reason }, status, { "Cache-Control": "no-store" });
    return c.body(errorPage(e.kind, e.reason, s.appOrigin), status, PAGE_HEADERS);
  };
  const wantsJson = (c: Context) => (c.req.header("Accept") ?? "").includes("application/json");
  const fail = (kind: OidcErrorKind, reason: string, detail?: { expected?: unknown; got?: unknown }) => new OidcError(kind, reason, detail);

  return new Hono()
    .get("/complete.js", (c) => c.body(COMPLETE_SCRIPT, 200, { "Content-Type": "text/javascript; charset=utf-8", "Cache-Control": "no-cache" }))

    .get("/:provider/start", async (c) => {
      const s = settings(c);
      const p = providerOf(s, c.req.param("provider"));
      if (!p) return c.json({ error: "not_found" }, 404);
      try {
        const metadata = await s.metadataFor(p);
        const a = p.authorize ?? {};
        const flow = await newFlow(a.maxAge);
        const url = new URL(metadata.authorization_endpoint);
        const q = url.searchParams;
        q.set("response_type", "code");
        q.set("client_id", p.clientId);
        q.set("redirect_uri", redirectUri(s, p));
        q.set("scope", (p.scopes ?? ["openid", "email", "profile"]).join(" "));
        q.set("state", flow.state);
        q.set("nonce", flow.nonce);
        q.set("code_challenge", flow.challenge);
        q.set("code_challenge_method", "S256");
        // Hints from the app's link override the configured ones; anything else about the
        // authentication (max_age, acr_values) is the configuration's alone, since it is checked.
        const prompt = c.req.query("prompt") ?? a.prompt;
        if (prompt !== undefined && !PROMPTS.has(prompt)) throw fail("invalid_request", "prompt_invalid", { expected: [...PROMPTS], got: prompt });
        const loginHint = c.req.query("login_hint") ?? a.loginHint;
        const domainHint = c.req.query("domain_hint") ?? a.domainHint;
        for (const [name, value] of [["login_hint", loginHint], ["domain_hint", domainHint]] as const) {
          if (value === undefined) continue;
          if (!HINT.test(value)) throw fail("invalid_request", `${name}_invalid`, { expected: "1-256 printable characters", got: value.length });
          q.set(name, value);
        }
        if (prompt) q.set("prompt", prompt);
        if (a.maxAge !== undefined) q.set("max_age", String(a.maxAge));
        if (a.acrValues?.length) q.set("acr_values", a.acrValues.join(" "));
        setCookie(c, flowCookieName(p.id), encodeFlow(flow), { httpOnly: true, secure: true, sameSite: "Lax", path: "/", maxAge: s.o.flowTtlSeconds ?? 600 });
        c.header("Cache-Control", "no-store");
        return c.redirect(url.href, 302);
      } catch (e) {
        if (e instanceof OidcError) return refuse(c, s, p.id, e);
        throw e;
      }
    })

    .get("/:provider/callback", async (c) => {
      const s = settings(c);
      const p = providerOf(s, c.req.param("provider"));
      if (!p) return c.json({ error: "not_found" }, 404);
      const flow = decodeFlow(getCookie(c, flowCookieName(p.id)));
      // Spent whatever happens next: a callback is answered once.
      deleteCookie(c, flowCookieName(p.id), { path: "/", secure: true });
      try {
        if (!flow) throw fail("invalid_request", "no_sign_in_in_progress");
        if (c.req.query("state") !== flow.state) throw fail("invalid_request", "state_mismatch", { expected: "this browser's state", got: c.req.query("state") === undefined ? "none" : "another state" });
        const metadata = await s.metadataFor(p);
        // RFC 9207: the response must come from the provider this sign-in went to (mix-up attacks).
        const iss = c.req.query("iss");
        if (iss !== undefined) checkIssuer(iss, p.issuer, p.tenants);
        else if (metadata.authorization_response_iss_parameter_supported === true) throw fail("sso_failed", "iss_missing", { expected: p.issuer, got: "no iss parameter" });
        const error = c.req.query("error");
        if (error !== undefined) {
          throw fail("sso_refused", ERROR.test(error) ? error : "provider_error", { got: { error, error_description: c.req.query("error_description")?.slice(0, 200) } });
        }
        const code = c.req.query("code");
        if (!code) throw fail("invalid_request", "code_missing");
        const now = s.now();
        const tokens = await exchangeCode({ issuer: metadata.issuer, tokenEndpoint: metadata.token_endpoint, clientId: p.clientId, clientAuth: p.clientAuth, code, verifier: flow.verifier, redirectUri: redirectUri(s, p), fetch: s.o.fetch, now });
        let claims = await verifyIdToken(tokens.id_token, s.keysFor(p, metadata.jwks_uri), {
          issuer: p.issuer, tenants: p.tenants, clientId: p.clientId, nonce: flow.nonce, leewaySeconds: s.o.leewaySeconds,
          maxAgeSeconds: flow.maxAge, acceptAcr: p.acceptAcr, requireAmr: p.requireAmr, now,
        });
        if (metadata.userinfo_endpoint && tokens.access_token && lacksProfileClaims(claims, p.roles?.claims)) {
          claims = await withUserInfo(claims, metadata.userinfo_endpoint, tokens.access_token, s.o.fetch);
        }
        const user = p.toUser ? await p.toUser(claims) : await defaultOidcUser(claims, { email: p.email, roles: p.roles });
        if (!user) throw fail("forbidden", "user_not_allowed", { got: { iss: claims.iss, sub: claims.sub } });
        const data: OidcSessionData = { p: p.id, idt: tokens.id_token, ...(typeof claims.sid === "string" ? { sid: claims.sid } : {}) };
        // A store outage throws StoreError: the app's errorHandler answers 503 with Retry-After.
        const created = await s.o.sessions.createSession({ id: user.id, email: user.email, roles: user.roles ?? [] }, { userAgent: c.req.header("User-Agent"), ip: c.req.header("CF-Connecting-IP"), data: { oidc: data } });
        if (!created.ok) throw fail("forbidden", created.reason);
        try {
          await indexSession(s.index, { iss: claims.iss, sub: claims.sub, sid: data.sid }, created.session.id, created.session.expiresAt - now);
        } catch (e) {
          // A session that back-channel logout could not find must not exist.
          await s.o.sessions.endSession(created.session.id).catch(() => false);
          throw e;
        }
        s.log({ level: "info", msg: "oidc sign-in", provider: p.id, got: { userId: created.user.id, sid: data.sid !== undefined } });
        const times = { expiresAt: new Date(created.session.expiresAt).toISOString(), idleExpiresAt: new Date(created.session.idleExpiresAt).toISOString() };
        let grant: SsoGrant | SsoCookieGrant;
        if (s.o.transport === "cookie") {
          c.header("Set-Cookie", sessionCookie(created.token, created.session.expiresAt, now, { sameSite: s.o.cookieSameSite }), { append: true });
          grant = { transport: "cookie", ...times, user: created.user };
        } else {
          grant = { token: created.token, tokenType: "Bearer", ...times, user: created.user };
        }
        if (wantsJson(c)) return c.json(grant, 200, { "Cache-Control": "no-store" });
        return c.body(successPage(grant, s.appOrigin), 200, PAGE_HEADERS);
      } catch (e) {
        if (e instanceof OidcError) return refuse(c, s, p.id, e);
        throw e;
      }
    })

    .post("/:provider/backchannel-logout", async (c) => {
      const s = settings(c);
      const p = providerOf(s, c.req.param("provider"));
      if (!p) return c.json({ error: "not_found" }, 404);
      const answer = (status: 200 | 400 | 502, body: Record<string, unknown>) => c.json(body, status, { "Cache-Control": "no-store" });
      try {
        if (!(c.req.header("Content-Type") ?? "").startsWith("application/x-www-form-urlencoded")) throw fail("invalid_request", "form_expected", { got: c.req.header("Content-Type") });
        const text = await c.req.text();
        if (text.length > 20_000) throw fail("invalid_request", "body_too_large", { got: text.length });
        const token = new URLSearchParams(text).get("logout_token");
        if (!token) throw fail("invalid_request", "logout_token_missing");
        const metadata = await s.metadataFor(p);
        const leeway = s.o.leewaySeconds ?? 60;
        const claims = await verifyLogoutToken(token, s.keysFor(p, metadata.jwks_uri), { issuer: p.issuer, tenants: p.tenants, clientId: p.clientId, leewaySeconds: leeway, now: s.now() });
        // Remembered as long as the token could be accepted: its age limit plus the leeway both ways.
        const ended = await applyLogoutToken(s.index, s.o.sessions, claims, (300 + 2 * leeway) * 1000);
        s.log({ level: "info", msg: "oidc back-channel logout", provider: p.id, got: { sid: claims.sid !== undefined, sub: claims.sub !== undefined, ended } });
        return answer(200, { ended });
      } catch (e) {
        if (!(e instanceof OidcError)) throw e;
        s.log({ level: "warn", msg: "oidc logout token refused", provider: p.id, kind: e.kind, reason: e.reason, ...e.detail });
        return answer(e.kind === "sso_unavailable" ? 502 : 400, { error: e.kind === "sso_unavailable" ? "sso_unavailable" : "invalid_request", reason: e.reason });
      }
    })

    .post("/logout", async (c) => {
      const s = settings(c);
      const presented = s.o.tokenFrom ? s.o.tokenFrom(c) : defaultToken(c);
      if (!presented) return c.json({ error: "unauthorized", reason: "missing" }, 401, { "Cache-Control": "no-store" });
      if (presented.fromCookie && c.req.header(CSRF_HEADER) !== CSRF_HEADER_VALUE) return c.json({ error: "forbidden", reason: "csrf" }, 403, { "Cache-Control": "no-store" });
      const v = await s.o.sessions.validateSession(presented.token);
      if (!v.ok) return c.json({ error: "unauthorized", reason: v.reason }, 401, { "Cache-Control": "no-store" });
      await s.o.sessions.endSession(v.session.id);
      if (presented.fromCookie) c.header("Set-Cookie", clearedSessionCookie({ sameSite: s.o.cookieSameSite }), { append: true });
      const data = v.session.data?.oidc as OidcSessionData | undefined;
      const p = data ? providerOf(s, data.p) : undefined;
      let logoutUrl: string | null = null;
      if (p && data) {
        try {
          const metadata = await s.metadataFor(p);
          if (metadata.end_session_endpoint) {
            checkProviderUrl(metadata.end_session_endpoint, "end_session_endpoint", s.o.development);
            logoutUrl = endSessionUrl(metadata.end_session_endpoint, { idTokenHint: data.idt, clientId: p.clientId, postLogoutRedirectUri: s.o.postLogoutRedirectUri });
          }
        } catch (e) {
          // The edge session has ended either way; without the provider's URL the app signs out locally only.
          if (!(e instanceof OidcError)) throw e;
          s.log({ level: "warn", msg: "oidc logout without provider", provider: p.id, reason: e.reason, ...e.detail });
        }
      }
      return c.json({ ended: true, logoutUrl }, 200, { "Cache-Control": "no-store" });
    });
}

function defaultToken(c: Context): { token: string; fromCookie: boolean } | null {
  const auth = c.req.header("Authorization");
  const m = auth ? /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(auth) : null;
  if (m) return { token: m[1]!, fromCookie: false };
  const cookie = readSessionCookie(c.req.header("Cookie"));
  return "token" in cookie ? { token: cookie.token, fromCookie: true } : null;
}
