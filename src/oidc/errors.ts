/**
 * One error type for every OpenID Connect refusal, so the routes can answer a precise status and
 * a machine-readable reason, and the log can say what was expected and what came, without
 * catching by message text.
 */

/** How a refusal is answered: the client's fault, the provider's answer, or the provider being unreachable. */
export type OidcErrorKind =
  /** The request to our endpoints was malformed or out of sequence (400). */
  | "invalid_request"
  /** The provider's answer failed a check: signature, claims, state (401). */
  | "sso_failed"
  /** The provider or the user said no (cancel, consent refused, provider error) (401). */
  | "sso_refused"
  /** Authenticated, but this app's policy does not admit the user (403). */
  | "forbidden"
  /** The provider could not be reached or answered outside the protocol (502). */
  | "sso_unavailable";

export const OIDC_ERROR_STATUS = {
  invalid_request: 400,
  sso_failed: 401,
  sso_refused: 401,
  forbidden: 403,
  sso_unavailable: 502,
} as const satisfies Record<OidcErrorKind, number>;

export class OidcError extends Error {
  constructor(
    readonly kind: OidcErrorKind,
    /** Machine-readable, stable: `[a-z0-9_]`, shown to clients. */
    readonly reason: string,
    /** For the log only: what the check wanted and what arrived (never a secret or a token). */
    readonly detail: { expected?: unknown; got?: unknown } = {},
  ) {
    super(`${kind}: ${reason}`);
    this.name = "OidcError";
  }
}

export const failed = (reason: string, detail?: { expected?: unknown; got?: unknown }) => new OidcError("sso_failed", reason, detail);
export const unavailable = (reason: string, detail?: { expected?: unknown; got?: unknown }) => new OidcError("sso_unavailable", reason, detail);
