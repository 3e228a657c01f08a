/**
 * Sign in with any OpenID Connect provider (Okta, Entra ID, Google Workspace, Keycloak,
 * Auth0 …) using `arctic`, ending in an edge-session token. Authorization code flow with PKCE,
 * `state` and `nonce`, kept in a short-lived `__Host-` cookie between the redirect and the
 * callback.
 *
 *   // in createApp(env) of examples/library-worker.ts, next to the layer:
 *   app.route("/sso", oidcSignIn({
 *     issuer: env.OIDC_ISSUER, clientId: env.OIDC_CLIENT_ID, clientSecret: env.OIDC_CLIENT_SECRET,
 *     redirectUri: "https://auth.example/sso/callback",
 *     sessions: layer,
 *   }));
 *
 * The ID token comes straight from the provider's token endpoint over TLS, so its signature
 * need not be checked again (OpenID Connect Core §3.1.3.7, item 6); its issuer, audience,
 * expiry and nonce are checked here. The callback hands the session over as the browser
 * client's grant: JSON for `fetch` callers (`Accept: application/json`), otherwise a page
 * that passes it to the window that opened the sign-in (`window.opener.postMessage` to
 * `appOrigin` only; the app calls `session.adopt(grant)`) and closes: the token never
 * appears in a URL. In the app:
 *
 *   window.open("/sso/start", "sso", "popup,width=480,height=640");
 *   addEventListener("message", (e) => {
 *     if (e.origin === location.origin && e.data?.type === "edge-session:sso") session.adopt(e.data.grant);
 *   });
 */
import { CodeChallengeMethod, decodeIdToken, generateCodeVerifier, generateState, OAuth2Client, OAuth2RequestError, UnexpectedErrorResponseBodyError, UnexpectedResponseError } from "arctic";
import type { Context } from "hono";
import { Hono } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { NewSessionUser, SessionApi } from "edge-session";

export interface OidcSignInOptions {
  /** The provider's issuer URL; its `/.well-known/openid-configuration` is read once per isolate. */
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** This app's callback URL as registered with the provider (…/callback of where you mount this). */
  redirectUri: string;
  /** The session layer (`createSessionLayer()`), or anything with its `createSession`. */
  sessions: Pick<SessionApi, "createSession">;
  /**
   * Your user for the provider's verified claims; null refuses the sign-in (403). The default
   * keys the user by issuer and subject and requires a verified email.
   */
  toUser?: (claims: IdTokenClaims) => NewSessionUser | null | Promise<NewSessionUser | null>;
  /** @default ["openid", "email"] */
  scopes?: string[];
  /** The origin of the app page that opens the sign-in and receives the grant. @default redirectUri's origin */
  appOrigin?: string;
}

export interface IdTokenClaims {
  iss: string;
  sub: string;
  aud: string | string[];
  exp: number;
  nonce?: string;
  email?: string;
  email_verified?: boolean;
  [claim: string]: unknown;
}

/** What the callback hands to the browser client (`session.adopt(grant)`). */
export interface SsoGrant {
  token: string;
  tokenType: "Bearer";
  expiresAt: string;
  idleExpiresAt: string;
  user: { id: string; email: string; roles: string[] };
}

const COOKIE = "__Host-edge-session-oidc";
/** Seconds a sign-in may take at the provider. */
const FLOW_TTL = 600;

interface Discovery {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
}

/** Discovery documents, once per isolate and issuer (a failed fetch is not kept). */
const discoveries = new Map<string, Promise<Discovery>>();

function discover(issuer: string): Promise<Discovery> {
  let d = discoveries.get(issuer);
  if (!d) {
    d = fetch(new URL(".well-known/openid-configuration", issuer.replace(/\/?$/, "/"))).then(async (res) => {
      const doc = (await res.json()) as Partial<Discovery>;
      if (!res.ok || typeof doc.authorization_endpoint !== "string" || typeof doc.token_endpoint !== "string" || doc.issuer !== issuer) {
        throw new Error(`OIDC discovery at ${issuer} answered ${res.status} without endpoints for that issuer`);
      }
      return doc as Discovery;
    });
    discoveries.set(issuer, d);
    d.catch(() => discoveries.delete(issuer));
  }
  return d;
}

/** Routes `/start` and `/callback`; options per request, since a worker's env arrives with it. */
export function oidcSignIn(options: OidcSignInOptions | ((c: Context) => OidcSignInOptions)) {
  const optionsFor = typeof options === "function" ? options : () => options;
  const refuse = (c: Context, status: 400 | 401 | 403 | 502, error: string, reason: string) => {
    c.header("Cache-Control", "no-store");
    return c.json({ error, reason }, status);
  };

  return new Hono()
    .get("/start", async (c) => {
      const o = optionsFor(c);
      const client = new OAuth2Client(o.clientId, o.clientSecret, o.redirectUri);
      let d: Discovery;
      try {
        d = await discover(o.issuer);
      } catch {
        return refuse(c, 502, "sso_unavailable", "discovery_failed");
      }
      const state = generateState();
      const verifier = generateCodeVerifier();
      const nonce = generateState();
      const url = client.createAuthorizationURLWithPKCE(d.authorization_endpoint, state, CodeChallengeMethod.S256, verifier, o.scopes ?? ["openid", "email"]);
      url.searchParams.set("nonce", nonce);
      setCookie(c, COOKIE, `${state}.${verifier}.${nonce}`, { httpOnly: true, secure: true, sameSite: "Lax", path: "/", maxAge: FLOW_TTL });
      c.header("Cache-Control", "no-store");
      return c.redirect(url.href, 302);
    })
    .get("/callback", async (c) => {
      const o = optionsFor(c);
      const client = new OAuth2Client(o.clientId, o.clientSecret, o.redirectUri);
      const saved = (getCookie(c, COOKIE) ?? "").split(".");
      deleteCookie(c, COOKIE, { path: "/", secure: true });
      const [savedState, verifier, nonce] = saved;
      const state = c.req.query("state");
      if (saved.length !== 3 || !savedState || !verifier || !nonce) return refuse(c, 400, "invalid_request", "no_sign_in_in_progress");
      if (state !== savedState) return refuse(c, 400, "invalid_request", "state_mismatch");
      const idpError = c.req.query("error");
      if (idpError) return refuse(c, 401, "sso_refused", idpError.slice(0, 64));
      const code = c.req.query("code");
      if (!code) return refuse(c, 400, "invalid_request", "code_missing");

      let claims: IdTokenClaims;
      try {
        const d = await discover(o.issuer);
        const tokens = await client.validateAuthorizationCode(d.token_endpoint, code, verifier);
        claims = decodeIdToken(tokens.idToken()) as IdTokenClaims;
        const problem = checkClaims(claims, { issuer: d.issuer, clientId: o.clientId, nonce });
        if (problem) return refuse(c, 401, "sso_failed", problem);
      } catch (error) {
        if (error instanceof OAuth2RequestError) return refuse(c, 401, "sso_failed", error.code);
        // The provider refused the exchange without a standard error body (a reused code, say).
        if ((error instanceof UnexpectedErrorResponseBodyError || error instanceof UnexpectedResponseError) && error.status >= 400 && error.status < 500) {
          return refuse(c, 401, "sso_failed", "token_exchange_refused");
        }
        // Unreachable, a 5xx, or an ID token that does not decode.
        return refuse(c, 502, "sso_unavailable", "token_exchange_failed");
      }

      const user = await (o.toUser ?? defaultUser)(claims);
      if (!user) return refuse(c, 403, "forbidden", "user_not_allowed");
      // A store outage throws StoreError: the app's errorHandler makes it a 503 with Retry-After.
      const created = await o.sessions.createSession(user, { userAgent: c.req.header("User-Agent"), ip: c.req.header("CF-Connecting-IP") });
      if (!created.ok) return refuse(c, 403, "forbidden", created.reason);
      const grant: SsoGrant = {
        token: created.token,
        tokenType: "Bearer",
        expiresAt: new Date(created.session.expiresAt).toISOString(),
        idleExpiresAt: new Date(created.session.idleExpiresAt).toISOString(),
        user: created.user,
      };
      c.header("Cache-Control", "no-store");
      if ((c.req.header("Accept") ?? "").includes("application/json")) return c.json(grant);
      c.header("Content-Security-Policy", "default-src 'none'; script-src 'self'; base-uri 'none'; form-action 'none'");
      c.header("Referrer-Policy", "no-referrer");
      return c.html(handoffPage(grant, o.appOrigin ?? new URL(o.redirectUri).origin));
    })
    .get("/complete.js", (c) => {
      c.header("Content-Type", "text/javascript; charset=utf-8");
      c.header("Cache-Control", "no-cache");
      return c.body(HANDOFF_SCRIPT);
    });
}

function checkClaims(claims: IdTokenClaims, expected: { issuer: string; clientId: string; nonce: string }): string | null {
  if (claims.iss !== expected.issuer) return "wrong_issuer";
  const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!aud.includes(expected.clientId)) return "wrong_audience";
  if (typeof claims.exp !== "number" || claims.exp * 1000 <= Date.now()) return "id_token_expired";
  if (claims.nonce !== expected.nonce) return "nonce_mismatch";
  if (typeof claims.sub !== "string" || claims.sub === "") return "no_subject";
  return null;
}

/** Users keyed by issuer and subject (an email can move between people; `sub` does not). */
async function defaultUser(claims: IdTokenClaims): Promise<NewSessionUser | null> {
  if (typeof claims.email !== "string" || claims.email_verified !== true) return null;
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`${claims.iss}\0${claims.sub}`)));
  const id = "oidc-" + btoa(String.fromCharCode(...digest.slice(0, 16))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  return { id, email: claims.email.toLowerCase(), roles: [] };
}

/**
 * The page the browser lands on: hands the grant to the window that opened the sign-in and
 * closes. The grant sits in a JSON data block (never executed), read by `complete.js` next to
 * the callback, so the page runs no inline script (`script-src 'self'`).
 */
function handoffPage(grant: SsoGrant, appOrigin: string): string {
  const json = JSON.stringify({ grant, appOrigin }).replace(/</g, "\\u003c");
  return `<!doctype html><meta charset="utf-8"><title>Signed in</title><script type="application/json" id="sso-grant">${json}</script><script src="complete.js"></script><p>Signed in. You can close this window.</p>`;
}

/** Posts the grant to the opener, addressed to the app's origin only (no other page can read it). */
const HANDOFF_SCRIPT = `(() => {
  const data = JSON.parse(document.getElementById("sso-grant").textContent);
  if (window.opener) {
    window.opener.postMessage({ type: "edge-session:sso", grant: data.grant }, data.appOrigin);
    window.close();
  }
})();
`;
