/**
 * The worker as `npm run dev` serves it: the real worker (src/index.ts) plus, in development
 * only, "Sign in with SSO" against a local OpenID Connect provider (oauth2-mock-server, started
 * by dev/run-dev.ts) through the OIDC recipe (examples/oidc-sign-in.ts). `wrangler deploy`
 * ships src/index.ts (wrangler.toml's `main`): none of this reaches production, and the routes
 * answer 404 unless ENVIRONMENT=development and OIDC_ISSUER are set.
 *
 * The demo page is a cookie-mode client (its token lives in the HttpOnly `__Host-session`
 * cookie, never in JavaScript), while the recipe hands a Bearer grant to the opener. So the
 * callback here asks the recipe for the grant as JSON, moves the token into the session cookie
 * (as a `"transport": "cookie"` login does), and hands the page a cookie grant (user and
 * expiries, no token) through the recipe's own hand-off script; the page then restores the
 * session from the cookie.
 */
import { Hono } from "hono";
import { oidcSignIn, type SsoGrant } from "../examples/oidc-sign-in.js";
import { requireDeps } from "../src/worker/deps-for.js";
import type { WorkerEnv } from "../src/worker/env.js";
import { sessionCookie } from "../src/cookie/session-cookie.js";
import { errorHandler } from "../src/http/responses.js";
import { sessionApi } from "../src/session/api.js";
import worker from "../src/worker/index.js";

// Every class wrangler.toml binds must be exported by the entry wrangler runs.
export { RealtimeRoom, SessionVerifier, StoreClock, UserSockets } from "../src/worker/index.js";

interface DevEnv extends WorkerEnv {
  OIDC_ISSUER?: string;
  OIDC_CLIENT_ID?: string;
  OIDC_CLIENT_SECRET?: string;
}

const sso = new Hono<{ Bindings: DevEnv }>();
sso.onError(errorHandler);
sso.route(
  "/sso",
  oidcSignIn((c) => {
    const env = c.env as DevEnv;
    const origin = new URL(c.req.url).origin;
    return {
      issuer: env.OIDC_ISSUER!,
      clientId: env.OIDC_CLIENT_ID ?? "edge-session-dev",
      clientSecret: env.OIDC_CLIENT_SECRET ?? "dev-only-secret",
      redirectUri: `${origin}/sso/callback`,
      // The worker's own session layer (same keys, cache and socket registry as its routes).
      sessions: {
        createSession: async (user, meta) => {
          return sessionApi(await requireDeps(env)).createSession(user, meta);
        },
      },
    };
  }),
);

/** The recipe's callback, with the session handed over in the `__Host-session` cookie. */
async function cookieCallback(request: Request, env: DevEnv, ctx: ExecutionContext): Promise<Response> {
  const asJson = new Request(request, { headers: new Headers(request.headers) });
  asJson.headers.set("Accept", "application/json");
  const res = await sso.fetch(asJson, env, ctx);
  // Refusals (bad state, provider errors, a store outage) go out as the recipe answered them.
  if (res.status !== 200) return res;
  const grant = (await res.json()) as SsoGrant;
  const deps = await requireDeps(env);
  const cookieGrant = { transport: "cookie", expiresAt: grant.expiresAt, idleExpiresAt: grant.idleExpiresAt, user: grant.user };
  const appOrigin = new URL(request.url).origin;
  const json = JSON.stringify({ grant: cookieGrant, appOrigin }).replace(/</g, "\\u003c");
  const headers = new Headers({
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; base-uri 'none'; form-action 'none'",
    "Referrer-Policy": "no-referrer",
  });
  // The recipe's own cookie work (clearing its flow cookie), then the session cookie.
  for (const c of res.headers.getAll("Set-Cookie")) headers.append("Set-Cookie", c);
  headers.append("Set-Cookie", sessionCookie(grant.token, Date.parse(grant.expiresAt), Date.now(), deps.config.cookie));
  // The recipe's hand-off page shape: a JSON data block read by its complete.js (no inline script).
  const html = `<!doctype html><meta charset="utf-8"><title>Signed in</title><script type="application/json" id="sso-grant">${json}</script><script src="complete.js"></script><p>Signed in. You can close this window.</p>`;
  return new Response(html, { status: 200, headers });
}

export default {
  fetch(request, env, ctx) {
    const enabled = env.ENVIRONMENT === "development" && !!env.OIDC_ISSUER;
    const path = new URL(request.url).pathname;
    // The SPA shows its SSO button when this says so. Answered 200 either way in development, so
    // the page's probe is not a failed request (Chromium logs every 4xx fetch as an error).
    if (env.ENVIRONMENT === "development" && path === "/sso/enabled") return Response.json({ enabled }, { headers: { "Cache-Control": "no-store" } });
    if (enabled && path === "/sso/callback") return cookieCallback(request, env, ctx);
    if (enabled && path.startsWith("/sso/")) return sso.fetch(request, env, ctx);
    return worker.fetch(request, env, ctx);
  },
} satisfies ExportedHandler<DevEnv>;
