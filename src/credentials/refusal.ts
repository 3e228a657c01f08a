/**
 * A refused request, as data. Produced anywhere on the credential path; turned into HTTP in one
 * place (`refusalResponse` in http/responses.ts), so statuses, bodies and challenges never
 * drift between the middleware, the gateway and the WebSocket handshake.
 */
import type { ForbiddenReason, UnauthorizedReason } from "../protocol.js";

export type Refusal =
  /** The credential is missing, malformed or names no live session: drop it, sign in again. */
  | {
      status: 401;
      reason: UnauthorizedReason;
      /** A `Set-Cookie` removing the refused credential, when it came in a cookie. */
      setCookie?: string;
      /** Which check failed, when the reason alone does not say (a DPoP proof's `htu_mismatch` …). */
      detail?: string;
    }
  /** Authenticated or not, this request is not allowed (an Origin outside the allowlist …). */
  | { status: 403; reason?: ForbiddenReason }
  /** A WebSocket route asked with a plain request. */
  | { status: 426 };

export function isRefusal(value: object): value is Refusal {
  return "status" in value;
}
