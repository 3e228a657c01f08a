/**
 * Peer: stateless JWT verification with Hono's own middleware (`hono/jwt`, HS256), on the same
 * workerd setup as the session worker. `GET /api/me` answers the verified claims; nothing else.
 * Bundled by the benchmark with esbuild; `JWT_SECRET` is a binding.
 */
import { Hono, type MiddlewareHandler } from "hono";
import { jwt } from "hono/jwt";

type Env = { Bindings: { JWT_SECRET: string } };

// Built once per isolate, like the session worker's app (not once per request).
let verify: MiddlewareHandler | undefined;

const app = new Hono<Env>()
  .get("/api/hello", (c) => c.json({ hello: "world" }))
  .get(
    "/api/me",
    (c, next) => (verify ??= jwt({ secret: c.env.JWT_SECRET, alg: "HS256" }))(c, next),
    (c) => {
      const payload = c.get("jwtPayload" as never) as { sub: string; roles: string[] };
      return c.json({ user: { id: payload.sub, roles: payload.roles } });
    },
  );

export default app;
