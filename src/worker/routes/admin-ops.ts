/**
 * The admin console's reads and the one-session revocation (role `admin`, mounted by admin.ts
 * behind its session check): find a user, their live sockets, the audit trail, the metrics
 * rollups. Bad query values answer 400 `invalid_request` with the parameter named.
 */
import { Hono, type Context } from "hono";
import type { AppEnv, Deps } from "../deps.js";
import type { RealtimeBindings } from "../env.js";
import { jsonError } from "../../http/responses.js";
import { readAudit } from "../../session/audit-read.js";
import { isMetricsRange, readMetrics } from "../../metrics/read.js";
import { SESSION_ID } from "../../session/record.js";

const USER_ID = /^[A-Za-z0-9_-]{1,64}$/;
const EVENT_TYPE = /^[a-z]{1,16}(\.[a-z_-]{1,24})?$/;
const EMAIL_MAX = 254;

function bad(param: string): never {
  throw jsonError("invalid_request", { reason: "invalid_query", param });
}

/** A time bound from the query: ms since epoch or an ISO date; undefined when absent. */
function timeParam(c: Context, name: string): number | undefined {
  const raw = c.req.query(name);
  if (raw === undefined || raw === "") return undefined;
  const ms = /^\d{1,15}$/.test(raw) ? Number(raw) : Date.parse(raw);
  if (!Number.isFinite(ms) || ms < 0) bad(name);
  return ms;
}

export function adminOpsRoutes(deps: Deps) {
  const { accounts, sessions, store, opsKeys } = deps;
  return new Hono<AppEnv>()
    .get("/users", async (c) => {
      const email = c.req.query("email");
      const id = c.req.query("id");
      if (email !== undefined && (email.length === 0 || email.length > EMAIL_MAX)) bad("email");
      if (id !== undefined && !USER_ID.test(id)) bad("id");
      if (email === undefined && id === undefined) bad("email");
      const account = email !== undefined ? await accounts.findByEmail(email) : await accounts.findById(id!);
      if (!account) throw jsonError("not_found");
      return c.json({ user: { id: account.id, email: account.email, roles: account.roles, disabled: account.disabled, createdAt: new Date(account.createdAt).toISOString() } });
    })
    .delete("/users/:id/sessions/:sid", async (c) => {
      const id = c.req.param("id");
      const sid = c.req.param("sid");
      if (!USER_ID.test(id) || !SESSION_ID.test(sid)) throw jsonError("not_found");
      const target = await sessions.get(sid);
      if (!target || target.userId !== id) throw jsonError("not_found");
      await sessions.end(target, { why: "revoked", by: c.var.user.id });
      return c.body(null, 204);
    })
    .get("/users/:id/sockets", async (c) => {
      const id = c.req.param("id");
      if (!USER_ID.test(id)) throw jsonError("not_found");
      const realtime = deps.realtime as RealtimeBindings | null;
      if (!realtime) return c.json({ sockets: [], realtime: false });
      const rows = await realtime.users.get(realtime.users.idFromName(id)).sockets();
      return c.json({ sockets: rows.map((r) => ({ id: r.socketId, session: r.sessionId, room: r.host.name })), realtime: true });
    })
    .get("/audit", async (c) => {
      const user = c.req.query("user");
      const type = c.req.query("type");
      const limitRaw = c.req.query("limit");
      if (user !== undefined && user !== "" && !USER_ID.test(user)) bad("user");
      if (type !== undefined && type !== "" && !EVENT_TYPE.test(type)) bad("type");
      if (limitRaw !== undefined && !/^\d{1,3}$/.test(limitRaw)) bad("limit");
      const from = timeParam(c, "from");
      const to = timeParam(c, "to");
      if (from !== undefined && to !== undefined && from > to) bad("from");
      if (!deps.audit) return c.json({ events: [], audit: false });
      const events = await readAudit(store, opsKeys, { userId: user || undefined, type: type || undefined, from, to, limit: limitRaw ? Number(limitRaw) : undefined });
      return c.json({ events, audit: true });
    })
    .get("/metrics", async (c) => {
      const range = c.req.query("range") ?? "hour";
      if (!isMetricsRange(range)) bad("range");
      return c.json(await readMetrics(store, opsKeys, range, deps.now()));
    });
}
