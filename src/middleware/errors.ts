/**
 * The HTTP shapes of every refusal, in one place, so statuses and bodies stay identical
 * wherever they are produced (a client must be able to tell "drop the token" from "try later").
 */
import { HTTPException } from "hono/http-exception";
import type { InvalidReason } from "../session/manager.js";

/** Why a credential was refused; WebSocket handshakes add the ticket reasons. */
export type UnauthorizedReason = "missing" | InvalidReason | "ticket_required" | "invalid_ticket" | "foreign_ticket";

/** 401: the token is not (or no longer) good. RFC 6750 §3 challenge. */
export function unauthorizedResponse(reason: UnauthorizedReason): Response {
  return Response.json(
    { error: "unauthorized", reason },
    { status: 401, headers: { "WWW-Authenticate": `Bearer error="invalid_token", error_description="${reason}"` } },
  );
}

/**
 * The same 401, thrown (for code deep in a handler). The verification middleware returns
 * `unauthorizedResponse()` instead: a refused token is the hot path under a flood of forged
 * tokens, and a throw costs a stack trace and the error handler's round.
 */
export function unauthorized(reason: UnauthorizedReason): HTTPException {
  return new HTTPException(401, { res: unauthorizedResponse(reason) });
}

/** 403: authenticated, but not allowed to do this. */
export function forbidden(reason?: string): HTTPException {
  return new HTTPException(403, { res: Response.json(reason ? { error: "forbidden", reason } : { error: "forbidden" }, { status: 403 }) });
}

/** Seconds a client should wait before retrying after a store outage. */
export const STORE_RETRY_AFTER_SECONDS = 2;

/** 503: the store could not answer. Never a 401: the client must keep its (possibly good) token. */
export function storeUnavailableResponse(): Response {
  return Response.json(
    { error: "session_store_unavailable" },
    { status: 503, headers: { "Retry-After": String(STORE_RETRY_AFTER_SECONDS), "Cache-Control": "no-store" } },
  );
}

/** A JSON error with a machine-readable code (400, 404, 409, 413, 429 …). */
export function jsonError(status: 400 | 401 | 403 | 404 | 409 | 413 | 426 | 429 | 500 | 502, error: string, extra?: Record<string, unknown>, headers?: HeadersInit): HTTPException {
  return new HTTPException(status, { res: Response.json({ error, ...extra }, { status, headers }) });
}
