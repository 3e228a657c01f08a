/**
 * WebSockets: `POST /auth/ws-ticket` mints a single-use ticket over the authenticated HTTPS
 * session (ASVS 4.4.4); `GET /ws?room=<name>` joins the demo room, held by a Durable Object
 * (docs/REALTIME.md), closed with 4401 when its session ends, wherever that was decided.
 */
import { Hono } from "hono";
import { sessionAuth } from "../credentials/session-auth.js";
import type { AppEnv, Deps } from "../deps.js";
import { jsonError, refusalResponse } from "../http/responses.js";
import { roomName, upgradeToRoom } from "../realtime/ws-route.js";
import { authorizeUpgrade } from "../ws/handshake.js";

export function wsRoutes(deps: Deps) {
  const { config, tickets } = deps;
  const credentials = { ...deps, allowTokenInUrl: config.ws.querySessionToken };
  const handshake = { allowedOrigins: config.ws.allowedOrigins, cookie: deps.cookie };
  return new Hono<AppEnv>()
    .post("/auth/ws-ticket", sessionAuth(deps, { sources: deps.sources, fresh: true, serverTiming: config.serverTiming }), async (c) => {
      const issued = await tickets.issue({ sessionId: c.var.session.id, userId: c.var.user.id });
      c.header("Cache-Control", "no-store");
      if (!issued.ok) throw jsonError("too_many_tickets", { retryAfter: issued.retryAfterSeconds }, { "Retry-After": String(issued.retryAfterSeconds), "Cache-Control": "no-store" });
      return c.json({ ticket: issued.ticket, expiresIn: tickets.ttlSeconds });
    })
    .get("/ws", async (c) => {
      // The room name is checked before the ticket is spent; the socket lives in the room's object.
      const room = roomName(c);
      const grant = await authorizeUpgrade(c, credentials, handshake);
      if (!grant.ok) return refusalResponse(grant.refusal);
      return upgradeToRoom(c, deps, grant, room);
    });
}
