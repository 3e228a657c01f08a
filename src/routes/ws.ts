/**
 * WebSockets: `POST /auth/ws-ticket` mints a single-use ticket over the authenticated HTTPS
 * session (ASVS 4.4.4); `GET /ws` is the demo socket — hello, then echo — closed with 4401 when
 * its session ends.
 */
import { Hono } from "hono";
import { sessionAuth } from "../credentials/session-auth.js";
import type { AppEnv, Deps } from "../deps.js";
import { jsonError, refusalResponse } from "../http/responses.js";
import { SOCKET_CLOSE } from "../protocol.js";
import { authorizeUpgrade, checkSocketCap } from "../ws/handshake.js";
import { watchSession } from "../ws/watch.js";

/** Largest message the demo socket echoes; bigger ones close it with 1009 (message too big). */
export const MAX_WS_MESSAGE = 64 * 1024;

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
      const grant = await authorizeUpgrade(c, credentials, handshake);
      if (!grant.ok) return refusalResponse(grant.refusal);
      checkSocketCap(deps.sockets, grant.session, config.ws.maxSocketsPerUser);
      const pair = new WebSocketPair();
      const client = pair[0];
      const server = pair[1];
      server.accept();
      server.send(JSON.stringify({ type: "hello", user: grant.user }));
      server.addEventListener("message", (event) => {
        const raw = typeof event.data === "string" ? event.data : null;
        if (raw === null || raw.length > MAX_WS_MESSAGE) {
          server.close(SOCKET_CLOSE.message_too_big, "message_too_big");
          return;
        }
        let data: unknown = raw;
        try {
          data = JSON.parse(raw);
        } catch {
          // Not JSON: echo the text as it came.
        }
        server.send(JSON.stringify({ type: "echo", data }));
      });
      watchSession(server, grant.session, { sessions: deps.sessions, registry: deps.sockets, recheckIntervalMs: config.ws.recheckIntervalMs, now: deps.now });
      return new Response(null, { status: 101, webSocket: client, headers: grant.protocol ? { "Sec-WebSocket-Protocol": grant.protocol } : {} });
    });
}
