/**
 * Mounting the session layer in another Hono app: tokens issued by the edge-session worker
 * (same SESSION_KEYS, same store and prefix) are verified here, with typed `c.var.user`.
 */
import { Hono } from "hono";
import { createSessionLayer } from "edge-session";
import { requireRole, sessionAuth, type SessionVariables } from "edge-session/hono";

export interface MountEnv {
  UPSTASH_REDIS_REST_URL: string;
  UPSTASH_REDIS_REST_TOKEN: string;
  SESSION_KEYS: string;
  STORE_PREFIX?: string;
}

export async function createMountedApp(env: MountEnv) {
  const layer = await createSessionLayer({
    url: env.UPSTASH_REDIS_REST_URL,
    token: env.UPSTASH_REDIS_REST_TOKEN,
    sessionKeys: env.SESSION_KEYS,
    prefix: env.STORE_PREFIX,
  });
  const app = new Hono<{ Variables: SessionVariables }>();
  app.get("/public", (c) => c.text("anyone"));
  app.use("/private/*", sessionAuth(layer));
  app.get("/private/whoami", (c) => c.json({ id: c.var.user.id, email: c.var.user.email, session: c.var.session.id }));
  app.get("/private/admin", requireRole("admin"), (c) => c.json({ ok: true }));
  return app;
}
