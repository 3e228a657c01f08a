/**
 * ID token checks (OpenID Connect Core §3.1.3.7): signature against the provider's keys, then
 * issuer, audience and authorized party, expiry and issue time within the leeway, the nonce of
 * this sign-in, and, when the app asked for them, the authentication age (`max_age`), the
 * authentication context (`acr`) and methods (`amr`). The signature is checked even though the
 * token came over TLS from the token endpoint: a verified token is what is kept with the session
 * and later sent back as `id_token_hint`, and the check costs one cached key.
 */
import { checkIssuer, type TenantOptions } from "./discovery.js";
import { failed } from "./errors.js";
import { verifyJws, type JwksOptions } from "./jwks.js";

export interface IdTokenClaims {
  iss: string;
  sub: string;
  aud: string | string[];
  exp: number;
  iat: number;
  nonce?: string;
  azp?: string;
  auth_time?: number;
  acr?: string;
  amr?: string[];
  sid?: string;
  email?: string;
  email_verified?: boolean;
  name?: string;
  tid?: string;
  [claim: string]: unknown;
}

export interface IdTokenExpectations {
  issuer: string;
  tenants?: TenantOptions;
  clientId: string;
  /** The nonce sent with this sign-in's authorization request. */
  nonce: string;
  /** Seconds of clock difference tolerated on `exp`, `iat` and `auth_time`. @default 60 */
  leewaySeconds?: number;
  /** The `max_age` sent: `auth_time` must then be present and recent enough. */
  maxAgeSeconds?: number;
  /** `acr` values accepted; when set, a token without one of them is refused. */
  acceptAcr?: readonly string[];
  /** Methods that must all appear in `amr` (e.g. `["mfa"]`). */
  requireAmr?: readonly string[];
  /** Current time in ms. @default Date.now */
  now?: number;
}

const SUB = /^[\x21-\x7e]{1,255}$/;
const isTime = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

/** Checks decoded claims; throws `OidcError` (`sso_failed` with the reason, `forbidden` for a tenant outside the allowlist). */
export function checkIdTokenClaims(claims: Record<string, unknown>, e: IdTokenExpectations): IdTokenClaims {
  const leeway = e.leewaySeconds ?? 60;
  const now = (e.now ?? Date.now()) / 1000;
  checkIssuer(claims.iss, e.issuer, e.tenants, claims.tid);
  const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!aud.includes(e.clientId)) throw failed("wrong_audience", { expected: e.clientId, got: claims.aud });
  // Several audiences: the token must say which one it was issued to (§3.1.3.7 items 4–5).
  if (aud.length > 1 && claims.azp === undefined) throw failed("azp_missing", { expected: e.clientId, got: claims.aud });
  if (claims.azp !== undefined && claims.azp !== e.clientId) throw failed("wrong_azp", { expected: e.clientId, got: claims.azp });
  if (!isTime(claims.exp)) throw failed("exp_missing", { got: claims.exp });
  if (claims.exp + leeway <= now) throw failed("id_token_expired", { expected: `exp > ${Math.floor(now - leeway)}`, got: claims.exp });
  if (!isTime(claims.iat)) throw failed("iat_missing", { got: claims.iat });
  if (claims.iat - leeway > now) throw failed("iat_in_future", { expected: `iat <= ${Math.floor(now + leeway)}`, got: claims.iat });
  // The values are not logged: a nonce is the sign-in's secret binding to this browser.
  if (typeof claims.nonce !== "string" || claims.nonce !== e.nonce) throw failed("nonce_mismatch", { expected: "this sign-in's nonce", got: typeof claims.nonce === "string" ? "another nonce" : "none" });
  if (typeof claims.sub !== "string" || !SUB.test(claims.sub)) throw failed("sub_invalid", { expected: "1-255 printable ASCII characters", got: typeof claims.sub });
  if (e.maxAgeSeconds !== undefined) {
    if (!isTime(claims.auth_time)) throw failed("auth_time_missing", { expected: "auth_time (max_age was sent)", got: claims.auth_time });
    if (claims.auth_time + e.maxAgeSeconds + leeway < now) throw failed("authentication_too_old", { expected: `auth_time >= ${Math.floor(now - e.maxAgeSeconds - leeway)}`, got: claims.auth_time });
  }
  if (e.acceptAcr && e.acceptAcr.length > 0 && !(typeof claims.acr === "string" && e.acceptAcr.includes(claims.acr))) {
    throw failed("acr_not_accepted", { expected: e.acceptAcr, got: claims.acr });
  }
  if (e.requireAmr && e.requireAmr.length > 0) {
    const amr = Array.isArray(claims.amr) ? claims.amr : [];
    const missing = e.requireAmr.filter((m) => !amr.includes(m));
    if (missing.length) throw failed("amr_missing", { expected: e.requireAmr, got: claims.amr });
  }
  return claims as IdTokenClaims;
}

/** Verifies an ID token's signature with the provider's keys, then its claims. */
export async function verifyIdToken(idToken: unknown, keys: JwksOptions, expected: IdTokenExpectations): Promise<IdTokenClaims> {
  const jws = await verifyJws(idToken, keys);
  // A token typed for another purpose (a logout token, an access token) is not an ID token.
  const typ = jws.header.typ;
  if (typ !== undefined && typeof typ === "string" && !/^(jwt|application\/jwt)$/i.test(typ)) throw failed("wrong_typ", { expected: "JWT or none", got: typ });
  return checkIdTokenClaims(jws.payload, expected);
}
