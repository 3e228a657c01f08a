/**
 * Peer: a static shared-secret check with Hono's `hono/bearer-auth` (no revocation, no per-user
 * state), on the same workerd setup as the session worker. `BEARER_TOKEN` is a binding.
 */
import { Hono, type MiddlewareHandler } from "hono";
import { bearerAuth } from "hono/bearer-auth";

type Env = { Bindings: { BEARER_TOKEN: string } };

let check: MiddlewareHandler | undefined;

const app = new Hono<Env>()
  .get("/api/hello", (c) => c.json({ hello: "world" }))
  .get(
    "/api/me",
    (c, next) => (check ??= bearerAuth({ token: c.env.BEARER_TOKEN }))(c, next),
    (c) => c.json({ user: { id: "static", roles: [] as string[] } }),
  );

export default app;
