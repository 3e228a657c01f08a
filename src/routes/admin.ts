/**
 * /admin (role `admin`): a user's sessions, the kill switch, account disable (ASVS 7.4.2, 7.4.5).
 * Always fresh: an admin acting on stale data is how revocations go missing.
 */
import { Hono, type Context } from "hono";
import type { AppEnv } from "../deps.js";
import { jsonError } from "../middleware/errors.js";
import { requireRole, sessionAuth } from "../middleware/session-auth.js";
import { sessionView } from "./views.js";

const USER_ID = /^[A-Za-z0-9_-]{1,64}$/;

function userId(c: Context): string {
  const id = c.req.param("id") ?? "";
  if (!USER_ID.test(id)) throw jsonError(404, "not_found");
  return id;
}

export const adminRoutes = new Hono<AppEnv>()
  .use(sessionAuth({ manager: (c) => (c as Context<AppEnv>).get("deps").sessions, fresh: true }), requireRole("admin"))
  .get("/users/:id/sessions", async (c) => {
    const sessions = await c.get("deps").sessions.list(userId(c));
    return c.json({ sessions: sessions.map((s) => sessionView(s)) });
  })
  .delete("/users/:id/sessions", async (c) => {
    const revoked = await c.get("deps").sessions.endAll(userId(c));
    return c.json({ revoked });
  })
  .post("/users/:id/disable", async (c) => {
    const id = userId(c);
    const { accounts, sessions } = c.get("deps");
    // Disable first: a login racing this either sees the flag or has its session ended below.
    if (!(await accounts.setDisabled(id, true))) throw jsonError(404, "not_found");
    const revoked = await sessions.endAll(id);
    return c.json({ disabled: true, revoked });
  });
