/**
 * /admin (role `admin`): a user's sessions, the kill switch, account disable and enable (ASVS 7.4.2, 7.4.5);
 * the console's reads (admin-ops.ts). The console page itself is static, at /console/.
 * Always fresh: an admin acting on stale data is how revocations go missing.
 */
import { Hono, type Context } from "hono";
import { requireRole, sessionAuth } from "../../credentials/middleware.js";
import type { AppEnv, Deps } from "../deps.js";
import { jsonError, refuse } from "../../http/responses.js";
import { sessionView } from "./views.js";
import { adminOpsRoutes } from "./admin-ops.js";

const USER_ID = /^[A-Za-z0-9_-]{1,64}$/;

function userId(c: Context): string {
  const id = c.req.param("id") ?? "";
  if (!USER_ID.test(id)) throw jsonError("not_found");
  return id;
}

export function adminRoutes(deps: Deps) {
  const { sessions } = deps;
  return new Hono<AppEnv>()
    .use(sessionAuth(deps, { sources: deps.sources, fresh: true, serverTiming: deps.config.serverTiming }), requireRole("admin"))
    .get("/users/:id/sessions", async (c) => {
      const list = await sessions.list(userId(c));
      return c.json({ sessions: list.map((s) => sessionView(s)) });
    })
    .delete("/users/:id/sessions", async (c) => {
      const revoked = await sessions.endAll(userId(c), undefined, { why: "kill-switch", by: c.var.user.id });
      return c.json({ revoked });
    })
    .post("/users/:id/disable", async (c) => {
      const id = userId(c);
      // An admin who disables their own account locks themselves out, and may be the last one.
      if (id === c.var.user.id) throw jsonError("conflict", { reason: "cannot_disable_self" });
      // Any user id, with a password account or not (SSO, RPC and library users too). One atomic
      // step, only while the acting admin's session is live (DISABLE_ACCOUNT): two admins
      // disabling each other cannot both succeed, so an enabled admin always remains.
      const result = await sessions.disableUser(id, c.var.session.id, c.var.user.id);
      if (!result.ok) throw refuse({ status: 401, reason: "revoked" });
      return c.json({ disabled: true, revoked: result.revoked });
    })
    .post("/users/:id/enable", async (c) => {
      const id = userId(c);
      // An enabled admin has nothing to enable on themselves; a disabled one has no session left
      // but may have a request in flight: refused either way, so a disable always holds.
      if (id === c.var.user.id) throw jsonError("conflict", { reason: "cannot_enable_self" });
      // Only while the acting admin's session is live, in the same step as the write.
      const result = await sessions.enableUser(id, c.var.session.id, c.var.user.id);
      if (!result.ok) throw refuse({ status: 401, reason: "revoked" });
      return c.json({ disabled: false });
    })
    .route("/", adminOpsRoutes(deps));
}
