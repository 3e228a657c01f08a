/**
 * Token sources: where a request may present its credential. Each reads the request only — no
 * I/O — and says one of three things: nothing here (null), a credential to resolve, or a refusal
 * for how it was presented. `authenticate()` resolves what they found, so adding a transport
 * (a cookie, a header of your own) means adding a source here and nothing else.
 */
import type { Context } from "hono";
import { TICKET_PROTOCOL } from "../protocol.js";
import { looksLikeTicket } from "../session/tickets.js";
import { MAX_TOKEN_LENGTH } from "../token/codec.js";
import type { Refusal } from "./refusal.js";

/** A credential found in the request, not yet checked. */
export type Presented =
  /** A session token. `inUrl`: it came in the query string (allowed only where configured). */
  | {
      kind: "token";
      token: string;
      inUrl?: boolean;
      /** The request's `DPoP` proof, when it sent one (checked only for a DPoP-bound session). */
      dpop?: string;
    }
  /** A single-use WebSocket ticket; `protocol` is the subprotocol to echo when it came as one. */
  | { kind: "ticket"; ticket: string; protocol: string | null };

export interface TokenSource {
  /** Names the transport in logs and in `c.var.credential`. */
  readonly name: string;
  /**
   * Read only when no source before it presented a credential (the cookie after `Authorization`):
   * a fallback never has to agree with the others, it is simply not consulted.
   * @default false
   */
  readonly fallback?: boolean;
  /** A `Set-Cookie` that removes this source's credential, sent with every 401 for what it presented. */
  readonly clear?: string;
  read(c: Context): Presented | Refusal | null;
}

/** Longest `Authorization` header read at all: "Bearer " + the longest token. */
const MAX_AUTHORIZATION = 7 + MAX_TOKEN_LENGTH;

/**
 * The token from `Authorization: Bearer <token>`. The scheme is case-insensitive (RFC 7235
 * §2.1); anything else — another scheme, extra spaces, a joined duplicate header, an
 * oversized value — is `malformed`. Tokens in the URL are never read here (ASVS 14.2.1).
 */
export function bearerToken(header: string | undefined | null): { token: string } | { reason: "missing" | "malformed" } {
  if (header === undefined || header === null || header === "") return { reason: "missing" };
  if (header.length > MAX_AUTHORIZATION || header.length < 8) return { reason: "malformed" };
  if (header.slice(0, 7).toLowerCase() !== "bearer ") return { reason: "malformed" };
  return { token: header.slice(7) };
}

/** `Authorization: Bearer <token>`: SPAs on any origin, mobile and server clients. */
export const bearerSource: TokenSource = {
  name: "bearer",
  read(c) {
    const extracted = bearerToken(c.req.header("Authorization"));
    if ("token" in extracted) return { kind: "token", token: extracted.token };
    return extracted.reason === "missing" ? null : { status: 401, reason: "malformed" };
  },
};

/**
 * A WebSocket upgrade's credential: browsers cannot set headers on a WebSocket, so a
 * single-use ticket travels in `?token=` or as the subprotocol pair `["session", <ticket>]`.
 * A session token in the query is passed on marked `inUrl` (refused unless
 * `WS_QUERY_SESSION_TOKEN=allow`); a session token is never accepted as a subprotocol.
 */
export const ticketSource: TokenSource = {
  name: "ticket",
  read(c) {
    const query = c.req.query("token") ?? null;
    const header = c.req.header("Sec-WebSocket-Protocol");
    let offered: string | null = null;
    if (header) {
      const parts = header.split(",").map((p) => p.trim());
      if (parts[0] === TICKET_PROTOCOL) {
        if (parts.length !== 2 || !parts[1]) return { status: 401, reason: "malformed" };
        offered = parts[1];
      }
    }
    if (query !== null && offered !== null) return { status: 401, reason: "malformed" };
    if (offered !== null) return looksLikeTicket(offered) ? { kind: "ticket", ticket: offered, protocol: TICKET_PROTOCOL } : { status: 401, reason: "invalid_ticket" };
    if (query === null) return null;
    return looksLikeTicket(query) ? { kind: "ticket", ticket: query, protocol: null } : { kind: "token", token: query, inUrl: true };
  },
};
