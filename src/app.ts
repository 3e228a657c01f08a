/**
 * The Hono app: mounts the routers and translates infrastructure failures once, at the edge.
 * Built per isolate from validated configuration (see index.ts), so nothing here reads `env`.
 */
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import type { AppEnv, Deps } from "./deps.js";
import { storeUnavailableResponse } from "./middleware/errors.js";
import { StoreUnavailableError } from "./session/store.js";
import { adminRoutes } from "./routes/admin.js";
import { apiRoutes } from "./routes/api.js";
import { authRoutes } from "./routes/auth.js";

export function createApp(deps: Deps) {
  const app = new Hono<AppEnv>()
    .use(async (c, next) => {
      c.set("deps", deps);
      await next();
    })
    .get("/health", async (c) => {
      try {
        await deps.store.ping();
        return c.json({ ok: true, store: "up" as const });
      } catch {
        return c.json({ ok: false, store: "down" as const }, 503);
      }
    })
    .route("/auth", authRoutes)
    .route("/api", apiRoutes)
    .route("/admin", adminRoutes);

  app.notFound((c) => c.json({ error: "not_found" }, 404));
  app.onError((err, c) => {
    if (err instanceof HTTPException) return err.getResponse();
    if (err instanceof StoreUnavailableError) return storeUnavailableResponse();
    console.error(JSON.stringify({ level: "error", msg: "unhandled", path: new URL(c.req.url).pathname, error: err.name, detail: err.message }));
    return c.json({ error: "internal" }, 500);
  });
  return app;
}

export type App = ReturnType<typeof createApp>;
