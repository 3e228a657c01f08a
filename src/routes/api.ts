/** /api: the protected demo routes, verified through the edge cache (bounded staleness). */
import { Hono, type Context } from "hono";
import type { AppEnv } from "../deps.js";
import { sessionAuth } from "../middleware/session-auth.js";

export const apiRoutes = new Hono<AppEnv>()
  .use(sessionAuth({ manager: (c) => (c as Context<AppEnv>).get("deps").sessions }))
  .get("/me", (c) => c.json({ user: c.var.user }));
