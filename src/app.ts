/**
 * The Hono app: mounts the routers and translates infrastructure failures once, at the edge.
 * Built per isolate from validated configuration (see index.ts), so nothing here reads `env`.
 */
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import type { AppEnv, Deps } from "./deps.js";
import { cors } from "./middleware/cors.js";
import { storeUnavailableResponse } from "./middleware/errors.js";
import { requestLog } from "./middleware/request-log.js";
import { StoreUnavailableError } from "./session/store.js";
import { adminRoutes } from "./routes/admin.js";
import { apiRoutes } from "./routes/api.js";
import { authRoutes } from "./routes/auth.js";
import { wsRoutes } from "./routes/ws.js";
import { gateway } from "./routes/gateway.js";

export interface AppOptions {
  /** Where the one-line-per-request log goes; null: no request log at all. @default console.log */
  log?: ((line: string) => void) | null;
}

export function createApp(deps: Deps, options: AppOptions = {}) {
  const { corsOrigins } = deps.config;
  const app = new Hono<AppEnv>();
  // Off (REQUEST_LOG=off) means not mounted: a disabled log costs nothing per request.
  if (options.log !== null) app.use(requestLog(options.log));
  app.use(
    // SPAs on other origins call with Bearer headers: no cookies, so no credentials mode.
    cors({
      origins: corsOrigins,
      allowMethods: ["GET", "POST", "DELETE", "OPTIONS"],
      allowHeaders: ["Authorization", "Content-Type"],
      exposeHeaders: ["Authorization", "WWW-Authenticate", "Retry-After", "Server-Timing"],
      maxAge: 600,
    }),
  );
  app.use(async (c, next) => {
    c.set("deps", deps);
    await next();
  });
  // Gateway mode: protected paths are verified and proxied before any local route.
  const proxy = gateway(deps);
  if (proxy) app.use(proxy);
  const routes = app
    .get("/health", async (c) => {
      try {
        await deps.store.ping();
        return c.json({ ok: true, store: "up" as const });
      } catch {
        return c.json({ ok: false, store: "down" as const }, 503);
      }
    })
    .route("/", wsRoutes)
    .route("/auth", authRoutes)
    .route("/api", apiRoutes)
    .route("/admin", adminRoutes);

  routes.notFound((c) => c.json({ error: "not_found" }, 404));
  routes.onError((err, c) => {
    if (err instanceof HTTPException) return err.getResponse();
    if (err instanceof StoreUnavailableError) {
      console.warn(JSON.stringify({ level: "warn", msg: "session store unavailable", path: new URL(c.req.url).pathname, cause: err.reason }));
      return storeUnavailableResponse();
    }
    console.error(JSON.stringify({ level: "error", msg: "unhandled", path: new URL(c.req.url).pathname, error: err.name, detail: err.message }));
    return c.json({ error: "internal" }, 500);
  });
  return routes;
}

export type App = ReturnType<typeof createApp>;
