/** /api: the protected demo routes, verified through the edge cache (bounded staleness). */
import { Hono } from "hono";
import { sessionAuth } from "../../credentials/middleware.js";
import type { AppEnv, Deps } from "../deps.js";

export function apiRoutes(deps: Deps) {
  const auth = sessionAuth(deps, { sources: deps.sources, serverTiming: deps.config.serverTiming });
  return (
    new Hono<AppEnv>()
      // Unauthenticated: the benchmark's ceiling, and a liveness probe that costs no store call.
      .get("/hello", (c) => c.json({ hello: "world" }))
      .get("/me", auth, (c) => c.json({ user: c.get("user") }))
  );
}
