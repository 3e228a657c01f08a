/**
 * The Hono app: mounts the routers and translates infrastructure failures once, at the edge.
 * Built per isolate from validated configuration (build.ts), so nothing here reads `env`.
 * Optional middleware is mounted only when configured: what a request does not use costs it
 * nothing.
 */
import { Hono } from "hono";
import type { AppEnv, Deps } from "./deps.js";
import { cors } from "../http/cors.js";
import { requestLog } from "../http/request-log.js";
import { healthCheck } from "../http/health.js";
import { HEALTH_CACHE_MS } from "../defaults.js";
import { errorHandler, jsonError } from "../http/responses.js";
import { adminRoutes } from "./routes/admin.js";
import { apiRoutes } from "./routes/api.js";
import { authRoutes } from "./routes/auth.js";
import { dbscRoutes } from "./routes/dbsc.js";
import { gateway } from "./routes/gateway.js";
import { wsRoutes, type RoomAuthorizer } from "./routes/ws.js";

export interface AppOptions {
  /** Where the one-line-per-request log goes. @default console.log when `REQUEST_LOG` is on, else none */
  log?: ((line: string) => void) | null;
  /** Who may join which `/ws` room (routes/ws.ts). @default every verified user, every room */
  authorizeRoom?: RoomAuthorizer;
}

export function createApp(deps: Deps, options: AppOptions = {}) {
  const { config } = deps;
  const app = new Hono<AppEnv>();
  const log = options.log !== undefined ? options.log : config.requestLog ? console.log : null;
  if (log) app.use(requestLog(log));
  if (config.corsOrigins.length) {
    app.use(
      // SPAs on other origins call with Bearer headers: no cookies, so no credentials mode.
      cors({
        origins: config.corsOrigins,
        allowMethods: ["GET", "POST", "DELETE", "OPTIONS"],
        allowHeaders: ["Authorization", "Content-Type", "DPoP"],
        exposeHeaders: ["WWW-Authenticate", "Retry-After", "Server-Timing"],
        maxAge: 600,
      }),
    );
  }
  // Gateway mode: protected paths are verified and proxied before any local route.
  const proxy = gateway(deps);
  if (proxy) app.use(proxy);
  const health = healthCheck({ ping: () => deps.store.ping(), ttlMs: HEALTH_CACHE_MS, now: deps.now });
  const routes = app
    .get("/health", async (c) => {
      const answer = await health();
      return answer.ok ? c.json({ ok: true, store: "up" as const }) : c.json({ ok: false, store: "down" as const }, 503);
    })
    .route("/", wsRoutes(deps, { authorizeRoom: options.authorizeRoom }))
    .route("/auth", authRoutes(deps))
    .route("/auth/dbsc", dbscRoutes(deps))
    .route("/api", apiRoutes(deps))
    .route("/admin", adminRoutes(deps));

  routes.notFound(() => jsonError("not_found").getResponse());
  routes.onError(errorHandler);
  return routes;
}

export type App = ReturnType<typeof createApp>;

