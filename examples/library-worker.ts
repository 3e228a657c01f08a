/**
 * A complete worker using edge-session as a library (the README's "Using it as a library"):
 * your own sign-in creates the session; `sessionAuth()` verifies it on every request;
 * sign-out ends one session or all of a user's; `errorHandler` answers 401/403/503 exactly as
 * the edge-session worker does.
 *
 *   npm install edge-session hono
 *   # wrangler.toml: main = "src/library-worker.ts"; the secrets below via `wrangler secret put`
 */
import { Hono } from "hono";
import { createSessionLayer } from "edge-session";
import { errorHandler, requireRole, sessionAuth, type SessionVariables } from "edge-session/hono";

export interface Env {
  UPSTASH_REDIS_REST_URL: string;
  UPSTASH_REDIS_REST_TOKEN: string;
  /**
   * `kid:key[,kid:key…]`, each key 32 random bytes in base64url; the first signs, all verify:
   * node -e "console.log('k1:' + require('crypto').randomBytes(32).toString('base64url'))"
   */
  SESSION_KEYS: string;
  STORE_PREFIX?: string;
  /** Stands in for your real sign-in check in this example (see `/sign-in` below). */
  SIGN_IN_CODE: string;
  /** Comma-separated emails that get the `admin` role. */
  ADMIN_EMAILS?: string;
}

async function createApp(env: Env) {
  // Validated here: a bad key or a missing store URL throws, naming every problem at once.
  const layer = await createSessionLayer({
    url: env.UPSTASH_REDIS_REST_URL,
    token: env.UPSTASH_REDIS_REST_TOKEN,
    sessionKeys: env.SESSION_KEYS,
    prefix: env.STORE_PREFIX,
  });
  const app = new Hono<{ Bindings: Env; Variables: SessionVariables }>();

  // 401 / 403 / 503 (with Retry-After on a store outage) as the worker answers them.
  app.onError(errorHandler);

  // Your sign-in: a password, a magic link, a passkey, an OIDC callback (edge-session/oidc, docs/SSO.md).
  // Here a one-time code stands in for it; whatever it is, it ends in createSession().
  app.post("/sign-in", async (c) => {
    const body = await c.req.json<{ email?: unknown; code?: unknown }>().catch(() => ({}) as { email?: unknown; code?: unknown });
    if (typeof body.email !== "string" || typeof body.code !== "string" || !(await sameSecret(body.code, env.SIGN_IN_CODE))) {
      return c.json({ error: "invalid_credentials" }, 401);
    }
    const email = body.email.trim().toLowerCase();
    const admins = (env.ADMIN_EMAILS ?? "").split(",").map((e) => e.trim().toLowerCase());
    const created = await layer.createSession(
      { id: await userIdFor(email), email, roles: admins.includes(email) ? ["admin"] : [] },
      { userAgent: c.req.header("User-Agent"), ip: c.req.header("CF-Connecting-IP") },
    );
    if (!created.ok) return c.json({ error: "forbidden", reason: created.reason }, 403);
    return c.json({ token: created.token, expiresAt: new Date(created.session.expiresAt).toISOString(), user: created.user });
  });

  // Everything under /private needs `Authorization: Bearer <token>`: typed c.var.user / c.var.session.
  app.use("/private/*", sessionAuth(layer));
  app.get("/private/me", (c) => c.json({ user: c.var.user, session: c.var.session.id }));
  app.get("/private/admin", requireRole("admin"), (c) => c.json({ admin: true }));
  app.post("/private/sign-out", async (c) => {
    await layer.endSession(c.var.session.id);
    return c.body(null, 204);
  });
  app.post("/private/sign-out-everywhere", async (c) => {
    return c.json({ ended: await layer.endUserSessions(c.var.user.id) });
  });
  return app;
}

// One app per isolate: the layer holds the key ring and the edge cache.
let app: ReturnType<typeof createApp> | undefined;

export default {
  async fetch(request, env, ctx) {
    app ??= createApp(env);
    return (await app).fetch(request, env, ctx);
  },
} satisfies ExportedHandler<Env>;

/** A stable id for an email (your user table's id in a real app). */
async function userIdFor(email: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(email)));
  return [...digest.slice(0, 12)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Constant-time comparison of two strings (through their SHA-256, so lengths never leak). */
async function sameSecret(a: string, b: string): Promise<boolean> {
  const hash = async (s: string) => new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(s)));
  const [x, y] = await Promise.all([hash(a), hash(b)]);
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= x[i]! ^ y[i]!;
  return b.length > 0 && diff === 0;
}
