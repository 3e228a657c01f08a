/**
 * The worker as `npm run dev` serves it: the real worker (src/worker/index.ts) plus, in
 * development only, "Sign in with SSO" with the package's OpenID Connect module
 * (`edge-session/oidc`, src/oidc) against the local provider dev/run-dev.ts starts
 * (dev/local-idp.ts: oidc-provider). `wrangler deploy` ships src/worker/index.ts (wrangler.toml's
 * `main`): none of this reaches production, and the routes answer 404 unless
 * ENVIRONMENT=development and OIDC_ISSUER are set.
 *
 * The demo page is a cookie-mode client: the module runs with `transport: "cookie"`, so the
 * callback puts the token in the HttpOnly `__Host-session` cookie and the popup posts the page a
 * grant without it. The module uses the worker's own session layer, so a back-channel logout
 * from the provider ends the session as any revocation does (its sockets close). The callback
 * URL follows the page's origin (the provider has both http://localhost and http://127.0.0.1
 * registered), which is why this development mount may trust the Host header.
 */
import { Hono } from "hono";
import { getPath } from "hono/utils/url";
import { oidcSignIn } from "../src/oidc/index.js";
import { requireDeps } from "../src/worker/deps-for.js";
import type { WorkerEnv } from "../src/worker/env.js";
import { errorHandler } from "../src/http/responses.js";
import { sessionApi } from "../src/session/api.js";
import worker from "../src/worker/index.js";
import { drainable } from "./drain-body.js";

// Every class wrangler.toml binds must be exported by the entry wrangler runs.
export { RealtimeRoom, SessionVerifier, StoreClock, UserSockets } from "../src/worker/index.js";

interface DevEnv extends WorkerEnv {
  OIDC_ISSUER?: string;
  OIDC_CLIENT_ID?: string;
  OIDC_CLIENT_SECRET?: string;
  /** The demo accounts the dev runner created (published passwords): `email:password[:role+role],…` (formatDemoAccounts). */
  DEMO_ACCOUNTS?: string;
}

/** The demo accounts that exist: the ones the runner says it created, none otherwise. */
function demoAccounts(env: DevEnv): { email: string; password: string; roles: string[] }[] {
  return (env.DEMO_ACCOUNTS ?? "")
    .split(",")
    .map((entry) => entry.trim().split(":"))
    .filter(([email, password]) => !!email && !!password)
    .map(([email, password, roles]) => ({ email: email!, password: password!, roles: roles ? roles.split("+") : [] }));
}

/** The provider id in the paths, as dev/local-idp.ts registers them. */
const PROVIDER = "local";

/** One sub-app per bindings object (per isolate in practice), built once the worker's layer is. */
const apps = new WeakMap<object, Hono>();

async function ssoApp(env: DevEnv): Promise<Hono> {
  let app = apps.get(env);
  if (app) return app;
  const deps = await requireDeps(env);
  const sessions = sessionApi(deps);
  const issuer = env.OIDC_ISSUER!;
  const clientSecret = env.OIDC_CLIENT_SECRET ?? "dev-only-secret";
  app = new Hono();
  app.onError(errorHandler);
  app.route(
    "/sso",
    oidcSignIn((c) => {
      const origin = new URL(c.req.url).origin;
      return {
        providers: [{ id: PROVIDER, issuer, clientId: env.OIDC_CLIENT_ID ?? "edge-session-dev", clientAuth: { method: "client_secret_basic", clientSecret } }],
        sessions,
        store: deps.store,
        storePrefix: `${deps.config.store.prefix}oidc:`,
        baseUrl: `${origin}/sso`,
        postLogoutRedirectUri: `${origin}/`,
        transport: "cookie",
        cookieSameSite: deps.config.cookie.sameSite,
        // The local provider is plain HTTP on loopback.
        development: true,
      };
    }),
  );
  apps.set(env, app);
  return app;
}

/** Routes one request: the SSO paths here, everything else to the worker. */
async function route(request: Request<unknown, IncomingRequestCfProperties>, env: DevEnv, ctx: ExecutionContext): Promise<Response> {
  const enabled = env.ENVIRONMENT === "development" && !!env.OIDC_ISSUER;
  // The path as Hono's router sees it (percent-decoded): a raw comparison would let `/sso/%6Cocal/…`
  // miss this mount and reach the worker.
  const path = getPath(request);
  // What the SPA shows in development: its SSO button (and where it starts and signs out), and
  // the demo accounts the runner created. Answered 200 either way in development, so the page's
  // probe is not a failed request (Chromium logs every 4xx fetch as an error).
  if (env.ENVIRONMENT === "development" && path === "/dev/info") {
    return Response.json(
      { sso: enabled, ...(enabled ? { ssoStart: `/sso/${PROVIDER}/start`, ssoLogout: "/sso/logout" } : {}), demoAccounts: demoAccounts(env) },
      { headers: { "Cache-Control": "no-store" } },
    );
  }
  if (enabled && path.startsWith("/sso/")) return (await ssoApp(env)).fetch(request, env, ctx);
  return worker.fetch(request, env, ctx);
}

export default {
  async fetch(request, env, ctx) {
    // wrangler dev's proxy stalls the next request when a refused body is left part-read (dev/drain-body.ts).
    const { request: req, settle } = drainable(request);
    const res = await route(req, env, ctx);
    await settle(res);
    return res;
  },
} satisfies ExportedHandler<DevEnv>;
