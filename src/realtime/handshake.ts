/**
 * The WebSocket handshake rules, shared by `/ws` and the gateway's proxied sockets: 426 unless
 * it is an upgrade; 403 unless `Origin` is allowed (ASVS 4.4.2) — or absent with an
 * `Authorization: Bearer` header (a non-browser client: see `originAllowed`); then the one credential path
 * with the upgrade's sources — an `Authorization: Bearer` header for non-browser clients, and a
 * single-use ticket in `?token=` or as the subprotocol pair `["session", <ticket>]` (a session
 * token in the query only when `WS_QUERY_SESSION_TOKEN=allow`). When both come, the ticket must
 * belong to the header's session. With neither, the `__Host-session` cookie (when a cookie
 * source is given), and only from the worker's own origin or a cookie-trusted one (the source
 * checks: 403 `csrf`): browsers attach cookies to the handshake of every same-site page and no
 * CSRF header can ride on one, so the `Origin` allowlist — pages that use tickets — is not enough
 * to let the ambient cookie speak. Always fresh: a socket lives long, its start must be true now.
 */
import type { Context } from "hono";
import { authenticate, type Authentication, type CredentialDeps } from "../credentials/authenticate.js";
import { bearerSource, bearerToken, ticketSource, type TokenSource } from "../credentials/sources.js";
import { jsonError } from "../http/responses.js";
import type { Session } from "../session/record.js";
import type { SocketRegistry } from "./relay-registry.js";

const UPGRADE_SOURCES = [bearerSource, ticketSource];

export interface HandshakeOptions {
  /** Origins allowed besides the worker's own (`WS_ALLOWED_ORIGINS`, else `CORS_ORIGINS`). */
  allowedOrigins: readonly string[];
  /** The session cookie source, read when neither a header nor a ticket came. @default none */
  cookie?: TokenSource;
}

/**
 * Whether the handshake may come from where it comes from. A browser always sends `Origin` on a
 * WebSocket handshake and can never set `Authorization` on one (nor send a Bearer scheme as an
 * ambient credential), so a handshake with no `Origin` and a Bearer header cannot come from a
 * page: it is a server, a CLI or a mobile app holding a token, and the cross-site check has
 * nothing to protect there. Without `Origin` and without a Bearer header: refused, as before.
 * The header's token is then verified like any other (and a ticket must belong to it).
 */
export function originAllowed(c: Context, allowedOrigins: readonly string[]): boolean {
  // workerd drops an empty header: an empty `Origin` arrives as none (browsers never send one).
  const origin = c.req.header("Origin");
  if (!origin) return "token" in bearerToken(c.req.header("Authorization"));
  // Same-origin pages (the demo SPA served by this worker) are always allowed.
  if (origin === new URL(c.req.url).origin) return true;
  return allowedOrigins.includes(origin);
}

export function isUpgrade(c: Context): boolean {
  return (c.req.header("Upgrade") ?? "").toLowerCase() === "websocket";
}

/**
 * 429 `too_many_sockets` when the user already has `max` live sockets in this isolate. Per
 * isolate: live sockets are isolate state; the store-wide bound is the ticket cap
 * (WS_MAX_TICKETS_PER_USER), which every browser socket has to pass first.
 */
export function checkSocketCap(sockets: SocketRegistry, session: Session, max: number): void {
  if (sockets.countUser(session.userId) >= max) throw jsonError("too_many_sockets", { limit: max }, { "Retry-After": "30" });
}

export async function authorizeUpgrade(c: Context, deps: CredentialDeps, o: HandshakeOptions): Promise<Authentication> {
  if (!isUpgrade(c)) return { ok: false, refusal: { status: 426 } };
  if (!originAllowed(c, o.allowedOrigins)) return { ok: false, refusal: { status: 403, reason: "origin_not_allowed" } };
  return authenticate(c, deps, { sources: o.cookie ? [...UPGRADE_SOURCES, o.cookie] : UPGRADE_SOURCES, fresh: true });
}
