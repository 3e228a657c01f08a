/**
 * Errors thrown by the session client. Every refusal carries the HTTP status and the worker's
 * machine-readable `error` code, so callers can tell "sign in again" (401) from "keep the
 * token and retry later" (503) without parsing messages.
 */

/** What the worker's JSON error bodies look like (`{"error": "...", "reason"?: "..."}`). */
export interface ErrorBody {
  error: string;
  reason?: string;
  [extra: string]: unknown;
}

/** A request the worker refused, or that never got an answer (`status` 0). */
export class SessionClientError extends Error {
  override readonly name: string = "SessionClientError";
  /** The HTTP status; 0 when the request itself failed (network error, aborted). */
  readonly status: number;
  /**
   * The worker's `error` code, or `http_<status>` when the body had none. The worker sends only these
   * (`ERROR_CODES` in protocol.ts, checked by test/client/vocabulary.node.test.ts):
   * `invalid_request`, `invalid_json`, `invalid_room`, `invalid_dpop_proof`, `dbsc_refused`, `not_verified`, `unauthorized`,
   * `invalid_credentials`, `forbidden`, `not_found`, `conflict`, `email_taken`,
   * `payload_too_large`, `upgrade_required`, `rate_limited`, `too_many_tickets`,
   * `too_many_sockets`, `internal`, `misconfigured`, `bad_gateway`, `session_store_unavailable`,
   * `realtime_unavailable`.
   */
  readonly code: string;
  /** The worker's `reason`, when it gave one (`expired`, `revoked`, `malformed`, …). */
  readonly reason: string | undefined;
  /** Seconds to wait before retrying, from `Retry-After`, when the worker sent it. */
  readonly retryAfter: number | undefined;

  constructor(status: number, code: string, options: { reason?: string; retryAfter?: number; message?: string; cause?: unknown } = {}) {
    super(options.message ?? (options.reason ? `${code} (${options.reason})` : code), options.cause === undefined ? undefined : { cause: options.cause });
    this.status = status;
    this.code = code;
    this.reason = options.reason;
    this.retryAfter = options.retryAfter;
  }
}

/**
 * 401: the token is missing, expired or revoked. The client has already forgotten it and
 * emitted `unauthorized`: show the sign-in view.
 */
export class UnauthorizedError extends SessionClientError {
  override readonly name = "UnauthorizedError";
}

/**
 * 503 `session_store_unavailable`: the worker could not reach its session store. The token
 * may well be good and is KEPT: retry after `retryAfter` seconds.
 */
export class StoreUnavailableError extends SessionClientError {
  override readonly name = "StoreUnavailableError";
}

/** Parses a worker error body; null when the body is not one. */
export function parseErrorBody(value: unknown): ErrorBody | null {
  if (typeof value !== "object" || value === null) return null;
  const error = (value as { error?: unknown }).error;
  if (typeof error !== "string") return null;
  const reason = (value as { reason?: unknown }).reason;
  return { ...(value as Record<string, unknown>), error, ...(typeof reason === "string" ? { reason } : {}) } as ErrorBody;
}

/** `Retry-After` in seconds (the worker sends delta-seconds); undefined when absent or a date. */
export function retryAfterSeconds(res: Response): number | undefined {
  const raw = res.headers.get("Retry-After");
  if (raw === null || !/^\d+$/.test(raw.trim())) return undefined;
  return Number(raw.trim());
}

/** Reads a response body as JSON without throwing (null when empty or not JSON). */
export async function readJson(res: Response): Promise<unknown> {
  try {
    const text = await res.text();
    return text ? (JSON.parse(text) as unknown) : null;
  } catch {
    return null;
  }
}

/**
 * The error for a refused response (the body is read: pass a clone if you still need it).
 * A 401 is an `UnauthorizedError` only when a token was sent (a failed login is not one).
 */
export async function errorFromResponse(res: Response, o: { tokenSent: boolean }): Promise<SessionClientError> {
  const body = parseErrorBody(await readJson(res));
  const code = body?.error ?? `http_${res.status}`;
  // The server's own words when it gave some ("password must be at least 8 characters"): what a page shows.
  const message = typeof body?.message === "string" && body.message !== "" ? body.message : undefined;
  const options = { reason: body?.reason, retryAfter: retryAfterSeconds(res), message };
  if (res.status === 401 && o.tokenSent) return new UnauthorizedError(401, code, options);
  if (res.status === 503 && code === "session_store_unavailable") return new StoreUnavailableError(503, code, options);
  return new SessionClientError(res.status, code, options);
}
