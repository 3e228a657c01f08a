/**
 * The vocabulary shared by the worker, the RPC entrypoint and the browser client: why a
 * credential is refused, the error codes a response can carry, the user shape and the ticket
 * subprotocol. Dependency-free on purpose: the browser bundle imports it, so it must not pull
 * in Hono, Workers types or anything with I/O.
 *
 * To add a 401 reason: add it to `UNAUTHORIZED_REASONS` here; the type follows, the
 * client sees it in `UnauthorizedError.reason`, and test/client/vocabulary.node.test.ts checks the
 * client's documented list.
 */

/** Why a token failed the MAC check (no store call was made). */
export const SIGNATURE_REASONS = ["malformed", "unknown_key", "bad_signature"] as const;
export type SignatureReason = (typeof SIGNATURE_REASONS)[number];

/**
 * Why a well-signed token names no live session, or not for this presentation: `device_bound`
 * is a DBSC-bound session's long-lived token presented instead of its short-lived bound cookie.
 */
export const SESSION_REASONS = ["expired", "revoked", "device_bound"] as const;
export type SessionReason = (typeof SESSION_REASONS)[number];

/** Why a token was refused after validation: the signature, then the session. */
export type InvalidReason = SignatureReason | SessionReason;

/**
 * A DPoP-bound token (issue 24) refused: `dpop_required` when it came without a proof (a stolen
 * token used without the key), `dpop_invalid` when the proof failed (`detail` says which check:
 * `htu_mismatch`, `iat_out_of_window`, `jkt_mismatch`, `replayed`, …).
 */
export const DPOP_REASONS = ["dpop_required", "dpop_invalid"] as const;
export type DpopRefusalReason = (typeof DPOP_REASONS)[number];

/** Every `reason` of a 401 `{"error":"unauthorized"}`: the token reasons plus how it was presented. */
export const UNAUTHORIZED_REASONS = [...SIGNATURE_REASONS, ...SESSION_REASONS, "missing", "ticket_required", "invalid_ticket", "foreign_ticket", ...DPOP_REASONS] as const;
export type UnauthorizedReason = (typeof UNAUTHORIZED_REASONS)[number];

/** Every `reason` of a 403 `{"error":"forbidden"}` (a plain 403 carries none). */
export const FORBIDDEN_REASONS = ["signup_closed", "current_password_incorrect", "origin_not_allowed", "csrf", "room_forbidden"] as const;
export type ForbiddenReason = (typeof FORBIDDEN_REASONS)[number];

/** Every `error` code a response body of the worker can carry, with its status. */
export const ERROR_CODES = {
  invalid_request: 400,
  invalid_json: 400,
  /** `/ws?room=` names no valid room (checked before the ticket is spent). */
  invalid_room: 400,
  /** A login's `DPoP` proof failed (`reason` says which check): RFC 9449's `invalid_dpop_proof`. */
  invalid_dpop_proof: 400,
  /** A DBSC registration or refresh the server cannot accept (`reason` says why). */
  dbsc_refused: 400,
  /** A request reached a socket-holding object without the identity the worker sets (only the worker calls objects). */
  not_verified: 400,
  unauthorized: 401,
  invalid_credentials: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  email_taken: 409,
  payload_too_large: 413,
  upgrade_required: 426,
  rate_limited: 429,
  /** WS_MAX_TICKETS_PER_USER outstanding tickets already: use or let one expire (`Retry-After`). */
  too_many_tickets: 429,
  /** A socket cap is reached: `reason` is one of `TOO_MANY_SOCKETS_REASONS`. */
  too_many_sockets: 429,
  internal: 500,
  misconfigured: 500,
  bad_gateway: 502,
  session_store_unavailable: 503,
  /** A Durable Object behind `/ws` could not be reached: retry after `Retry-After`; no socket was opened. */
  realtime_unavailable: 503,
} as const;
export type ErrorCode = keyof typeof ERROR_CODES;

/** Why a socket was refused with 429 `too_many_sockets` (WS_MAX_SOCKETS_PER_SESSION / _PER_USER). */
export const TOO_MANY_SOCKETS_REASONS = ["session_socket_limit", "user_socket_limit"] as const;
export type TooManySocketsReason = (typeof TOO_MANY_SOCKETS_REASONS)[number];

/** What `SessionVerifier.verify()` (service-binding RPC) answers when it does not grant. */
export type RpcRefusalReason = InvalidReason | "missing" | "store_unavailable" | "misconfigured";

/**
 * What `SessionVerifier.createSession()` answers when it issues nothing: `invalid_user` for a
 * user that is not `{ id (1–64 of A–Z a–z 0–9 _ -), email, roles? }`, `disabled` for an account
 * an admin disabled.
 */
export type RpcCreateRefusalReason = "invalid_user" | "disabled" | "store_unavailable" | "misconfigured";

/** Why the worker closes a live WebSocket, with the close code it uses. */
export const SOCKET_CLOSE = {
  /** The session ended (logout, revocation, expiry): sign in again. */
  session_ended: 4401,
  /** The store could not confirm the session: reconnect later (never kept open on an error). */
  session_store_unavailable: 4503,
  /** A message over the size limit. */
  message_too_big: 1009,
  /** A binary frame where the room speaks text. */
  text_only: 1003,
  /** More messages than the socket's budget (WS_MESSAGE_RATE). */
  rate_limited: 1008,
} as const;
export type SocketCloseReason = keyof typeof SOCKET_CLOSE;

/**
 * The header a cookie-authenticated unsafe request must carry (with this value): a `<form>`
 * cannot send a header, and a cross-origin `fetch` that sends it is preflighted, which this
 * worker never grants with credentials. Without it: 403 `{"error":"forbidden","reason":"csrf"}`.
 */
export const CSRF_HEADER = "X-CSRF-Protection";
export const CSRF_HEADER_VALUE = "1";

/** The signed-in user, as every surface describes it. */
export interface SessionUser {
  id: string;
  email: string;
  roles: string[];
}

/**
 * The non-secret WebSocket subprotocol name a browser offers before its ticket
 * (`new WebSocket(url, ["session", ticket])`); the worker echoes it back.
 */
export const TICKET_PROTOCOL = "session";
