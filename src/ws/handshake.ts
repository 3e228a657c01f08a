/**
 * The WebSocket handshake rules, shared by `/ws` and the gateway's proxied sockets:
 * 426 unless it is an upgrade; 403 unless `Origin` is allowed (ASVS 4.4.2); then one
 * credential — a single-use ticket in `?token=` or as the subprotocol pair
 * `["session", <ticket>]`, the session token in the query only when
 * `WS_QUERY_SESSION_TOKEN=allow`, or an `Authorization: Bearer` header for non-browser clients.
 */
import type { Context } from "hono";
import type { AppEnv } from "../deps.js";
import { jsonError, unauthorized } from "../middleware/errors.js";
import { bearerToken } from "../middleware/session-auth.js";
import type { Session } from "../session/record.js";
import { looksLikeTicket } from "../session/tickets.js";

/** The non-secret subprotocol name echoed back when the ticket came as a subprotocol. */
export const TICKET_PROTOCOL = "session";

export interface UpgradeGrant {
  session: Session;
  /** Set when the client offered `["session", ticket]`: echo it in Sec-WebSocket-Protocol. */
  protocol: string | null;
}

function isUpgrade(c: Context): boolean {
  return (c.req.header("Upgrade") ?? "").toLowerCase() === "websocket";
}

export function originAllowed(c: Context<AppEnv>): boolean {
  const origin = c.req.header("Origin");
  if (!origin) return false;
  // Same-origin pages (the demo SPA served by this worker) are always allowed.
  if (origin === new URL(c.req.url).origin) return true;
  return c.get("deps").config.ws.allowedOrigins.includes(origin);
}

function offeredTicket(c: Context): { ticket: string | null; protocol: string | null; malformed: boolean } {
  const header = c.req.header("Sec-WebSocket-Protocol");
  if (!header) return { ticket: null, protocol: null, malformed: false };
  const offered = header.split(",").map((p) => p.trim());
  if (offered[0] !== TICKET_PROTOCOL) return { ticket: null, protocol: null, malformed: false };
  if (offered.length !== 2 || !offered[1]) return { ticket: null, protocol: null, malformed: true };
  return { ticket: offered[1], protocol: TICKET_PROTOCOL, malformed: false };
}

export async function authorizeUpgrade(c: Context<AppEnv>): Promise<UpgradeGrant> {
  if (!isUpgrade(c)) throw jsonError(426, "upgrade_required", undefined, { Upgrade: "websocket" });
  if (!originAllowed(c)) throw jsonError(403, "forbidden", { reason: "origin_not_allowed" });
  const { config, sessions, tickets } = c.get("deps");

  const query = c.req.query("token") ?? null;
  const sub = offeredTicket(c);
  if (sub.malformed || (query !== null && sub.ticket !== null)) throw unauthorized("malformed");
  const credential = query ?? sub.ticket;

  // A Bearer header (non-browser clients) names the session a ticket must belong to.
  const header = c.req.header("Authorization");
  let headerSession: Session | null = null;
  if (header) {
    const extracted = bearerToken(header);
    if ("reason" in extracted) throw unauthorized(extracted.reason);
    const result = await sessions.validate(extracted.token, { fresh: true });
    if (!result.ok) throw unauthorized(result.reason);
    headerSession = result.session;
  }

  if (credential === null) {
    if (headerSession) return { session: headerSession, protocol: null };
    throw unauthorized("missing");
  }

  if (looksLikeTicket(credential)) {
    const claims = await tickets.consume(credential);
    if (!claims) throw unauthorized("invalid_ticket");
    if (headerSession && headerSession.id !== claims.sessionId) throw unauthorized("foreign_ticket");
    const session = await sessions.get(claims.sessionId);
    if (!session || session.userId !== claims.userId) throw unauthorized("revoked");
    return { session, protocol: sub.protocol };
  }

  // Not a ticket. A session token in the URL ends up in logs and history (ASVS 14.2.1):
  // accepted only when explicitly allowed, and never as a subprotocol.
  if (sub.ticket !== null) throw unauthorized("invalid_ticket");
  if (!config.ws.querySessionToken) {
    // Checked without a store call: a genuine token here is refused as such.
    const verified = await sessions.keyRing.verify(credential);
    throw unauthorized(verified.ok ? "ticket_required" : verified.reason);
  }
  const result = await sessions.validate(credential, { fresh: true });
  if (!result.ok) throw unauthorized(result.reason);
  if (headerSession && headerSession.id !== result.session.id) throw unauthorized("foreign_ticket");
  return { session: result.session, protocol: null };
}
