/**
 * Every refusal and error leaves the worker through here, so statuses, bodies and headers stay
 * identical wherever they are produced (a client must be able to tell "drop the token" from
 * "try later"). Bodies are `{"error": <ErrorCode>, "reason"?: …}` (protocol.ts).
 */
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { Refusal } from "../credentials/refusal.js";
import { ERROR_CODES, type ErrorCode, type ForbiddenReason } from "../protocol.js";
import { StoreError } from "../store/redis.js";

/** Seconds a client should wait before retrying after a store outage. */
export const STORE_RETRY_AFTER_SECONDS = 2;

/** A refusal from the credential path as HTTP. 401s carry the RFC 6750 §3 challenge. */
export function refusalResponse(r: Refusal): Response {
  switch (r.status) {
    case 401: {
      // A DPoP refusal names the DPoP scheme (RFC 9449 §7.1), so a client knows a proof is what it lacks.
      const challenge = r.reason === "dpop_invalid" ? `DPoP algs="ES256", error="invalid_dpop_proof"` : r.reason === "dpop_required" ? `DPoP algs="ES256", error="invalid_token"` : `Bearer error="invalid_token"`;
      const res = Response.json(
        r.detail ? { error: "unauthorized", reason: r.reason, detail: r.detail } : { error: "unauthorized", reason: r.reason },
        { status: 401, headers: { "WWW-Authenticate": `${challenge}, error_description="${r.reason}"`, "Cache-Control": "no-store" } },
      );
      if (r.setCookie) res.headers.append("Set-Cookie", r.setCookie);
      return res;
    }
    case 403:
      return Response.json(r.reason ? { error: "forbidden", reason: r.reason } : { error: "forbidden" }, { status: 403, headers: { "Cache-Control": "no-store" } });
    case 426:
      return Response.json({ error: "upgrade_required" }, { status: 426, headers: { Upgrade: "websocket" } });
  }
}

/** The same refusal, thrown: for code deep in a handler (the credential path returns it instead). */
export function refuse(r: Refusal): HTTPException {
  return new HTTPException(r.status, { res: refusalResponse(r) });
}

/** 403: authenticated, but not allowed to do this. */
export function forbidden(reason?: ForbiddenReason): HTTPException {
  return refuse({ status: 403, reason });
}

/** 503: the store could not answer. Never a 401: the client must keep its (possibly good) token. */
export function storeUnavailableResponse(): Response {
  return Response.json(
    { error: "session_store_unavailable" },
    { status: 503, headers: { "Retry-After": String(STORE_RETRY_AFTER_SECONDS), "Cache-Control": "no-store" } },
  );
}

/** A JSON error with a machine-readable code; the status is the code's own (protocol.ts). */
export function jsonError(error: ErrorCode, extra?: Record<string, unknown>, headers?: ConstructorParameters<typeof Headers>[0]): HTTPException {
  const status = ERROR_CODES[error];
  return new HTTPException(status, { res: Response.json({ error, ...extra }, { status, headers }) });
}

/**
 * Adds headers to the response a handler produced, even when its headers are immutable (a
 * response passed through as fetched): then it is copied once. Reads the copy back from `c.res`,
 * because Hono's setter stores a copy of what it is given. A 101 is final as built: untouched.
 */
export function withHeaders(c: Context, set: (headers: Headers) => void): void {
  if (c.res.status === 101) return;
  try {
    set(c.res.headers);
  } catch {
    c.res = new Response(c.res.body, c.res);
    set(c.res.headers);
  }
}

/**
 * The error translation a Hono app mounts to answer like this worker: thrown refusals as they
 * are, a store failure as 503 with `Retry-After` (never a 401, never a grant), anything else a
 * logged 500 that names nothing internal.
 */
export function errorHandler(err: Error, c: { req: { url: string } }): Response {
  if (err instanceof HTTPException) return err.getResponse();
  const path = new URL(c.req.url).pathname;
  if (err instanceof StoreError) {
    // Which store, and what kind of failure (timeout, refused, error_reply, bad_reply, …): what an on-call engineer acts on.
    console.warn(JSON.stringify({ level: "warn", msg: "session store unavailable", path, store: err.host, kind: err.kind, cause: err.reason }));
    return storeUnavailableResponse();
  }
  console.error(JSON.stringify({ level: "error", msg: "unhandled", path, error: err.name, detail: err.message }));
  return jsonError("internal").getResponse();
}
