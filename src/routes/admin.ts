/**
 * /admin (role `admin`): a user's sessions, the kill switch, account disable (ASVS 7.4.2, 7.4.5).
 * Always fresh: an admin acting on stale data is how revocations go missing.
 */
import { Hono, type Context } from "hono";
import { requireRole, sessionAuth } from "../credentials/session-auth.js";
import type { AppEnv, Deps } from "../deps.js";
import { jsonError } from "../http/responses.js";
import { sessionView } from "./views.js";

const USER_ID = /^[A-Za-z0-9_-]{1,64}$/;

function userId(c: Context): string {
  const id = c.req.param("id") ?? "";
  if (!USER_ID.test(id)) throw jsonError("not_found");
  return id;
}

export function adminRoutes(deps: Deps) {
  const { accounts, sessions } = deps;
  return new Hono<AppEnv>()
    .use(sessionAuth(deps, { sources: deps.sources, fresh: true, serverTiming: deps.config.serverTiming }), requireRole("admin"))
    .get("/users/:id/sessions", async (c) => {
      const list = await sessions.list(userId(c));
      return c.json({ sessions: list.map((s) => sessionView(s)) });
    })
    .delete("/users/:id/sessions", async (c) => {
      const revoked = await sessions.endAll(userId(c));
      return c.json({ revoked });
    })
    .post("/users/:id/disable", async (c) => {
      const id = userId(c);
      // Disable first: a login racing this either sees the flag or has its session ended below.
      if (!(await accounts.setDisabled(id, true))) throw jsonError("not_found");
      const revoked = await sessions.endAll(id);
      return c.json({ disabled: true, revoked });
    });
}
