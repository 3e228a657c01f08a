/** /api: the protected demo routes, verified through the edge cache (bounded staleness). */
import { Hono, type Context } from "hono";
import type { AppEnv } from "../deps.js";
import { sessionAuth } from "../middleware/session-auth.js";

const auth = sessionAuth({ manager: (c) => (c as Context<AppEnv>).get("deps").sessions });

export const apiRoutes = new Hono<AppEnv>()
  // Unauthenticated: the benchmark's ceiling, and a liveness probe that costs no store call.
  .get("/hello", (c) => c.json({ hello: "world" }))
  .get("/me", auth, (c) => c.json({ user: c.var.user }));
