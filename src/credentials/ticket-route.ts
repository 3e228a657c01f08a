/**
 * `ticketRoute(layer)`: the handler behind `POST /auth/ws-ticket`, for an app of your own. Mount
 * it after `sessionAuth(layer, { fresh: true })`: a ticket opens a long-lived socket, so its
 * session is checked against the store, not the edge cache. Answers `{ ticket, expiresIn }`
 * (`no-store`), or 429 `too_many_tickets` with `Retry-After`.
 */
import type { Handler } from "hono";
import { jsonError } from "../http/responses.js";
import type { SessionApi } from "../session/api.js";
import type { SessionVariables } from "./middleware.js";

export function ticketRoute(layer: Pick<SessionApi, "issueTicket">): Handler<{ Variables: SessionVariables }> {
  return async (c) => {
    const session = c.get("session");
    if (!session) throw new Error("ticketRoute() needs sessionAuth() before it");
    const issued = await layer.issueTicket(session);
    if (!issued.ok) throw jsonError("too_many_tickets", { retryAfter: issued.retryAfterSeconds }, { "Retry-After": String(issued.retryAfterSeconds), "Cache-Control": "no-store" });
    c.header("Cache-Control", "no-store");
    return c.json({ ticket: issued.ticket, expiresIn: issued.expiresIn });
  };
}
