/**
 * The worker as `npm run dev` serves it: the real worker (src/index.ts) plus, in development
 * only, "Sign in with SSO" against a local OpenID Connect provider (oauth2-mock-server, started
 * by dev/run-dev.ts) through the OIDC recipe (examples/oidc-sign-in.ts). `wrangler deploy`
 * ships src/index.ts (wrangler.toml's `main`): none of this reaches production, and the routes
 * answer 404 unless ENVIRONMENT=development and OIDC_ISSUER are set.
 */
import { Hono } from "hono";
import { oidcSignIn } from "../examples/oidc-sign-in.js";
import { appFor } from "../src/app-for.js";
import type { Env } from "../src/config.js";
import { errorHandler } from "../src/http/responses.js";
import { sessionApi } from "../src/sessions.js";
import worker from "../src/index.js";

export { SessionVerifier } from "../src/index.js";

interface DevEnv extends Env {
  OIDC_ISSUER?: string;
  OIDC_CLIENT_ID?: string;
  OIDC_CLIENT_SECRET?: string;
}

const sso = new Hono<{ Bindings: DevEnv }>();
sso.onError(errorHandler);
// The SPA shows its SSO button when this answers 204.
sso.get("/sso/enabled", (c) => c.body(null, 204));
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
          const built = await appFor(env);
          if (!built.ok) throw new Error("edge-session is misconfigured");
          return sessionApi(built.deps).createSession(user, meta);
        },
      },
    };
  }),
);

export default {
  fetch(request, env, ctx) {
    const enabled = env.ENVIRONMENT === "development" && !!env.OIDC_ISSUER;
    if (enabled && new URL(request.url).pathname.startsWith("/sso/")) return sso.fetch(request, env, ctx);
    return worker.fetch(request, env, ctx);
  },
} satisfies ExportedHandler<DevEnv>;
