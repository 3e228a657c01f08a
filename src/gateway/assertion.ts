/**
 * `X-Session-Assertion`: a short-lived HMAC-SHA-256 statement of one forwarded request, so an
 * origin behind the gateway can check that the identity headers came from us (and not from a
 * client that reached it directly), for this very request. Format:
 *
 *   v2.<exp>.<jti>.<mac>
 *
 * - `exp`: expiry in seconds since the epoch (issued + ASSERTION_TTL_SECONDS);
 * - `jti`: 16 random bytes, base64url (22 characters): a unique id, for origins that want
 *   one-time use (remember it until `exp`, refuse it a second time);
 * - `mac`: base64url(HMAC-SHA-256(key, assertionMessage(…))) — 43 characters, canonical.
 *
 * The MAC covers the audience (the origin the request is forwarded to: an assertion for one
 * origin is worthless at another sharing the key), the method, the request target exactly as
 * the origin receives it (path AND query: `?id=1` does not become `?id=2&delete=1`), and the
 * exact `X-Session-User`, `X-Session-Roles` and `X-Session-Id` values. The lifetime is short
 * because the assertion outlives nothing it should: not a logout, not a replay window worth
 * the name.
 */
import { encodeBase64url, randomBytes } from "../util/base64url.js";

/** Lifetime of an assertion. Origins refuse anything expiring later than this from now. */
export const ASSERTION_TTL_SECONDS = 10;
export const ASSERTION_VERSION = "v2";
const DOMAIN = "edge-session/assertion\0";
const encoder = new TextEncoder();

/** What one assertion states about one forwarded request. */
export interface AssertedRequest {
  /** `X-Session-User`. */
  user: string;
  /** `X-Session-Roles` (comma-separated). */
  roles: string;
  /** `X-Session-Id`. */
  sessionId: string;
  method: string;
  /** The request target as the origin receives it: pathname + search (`/app/orders?id=1`). */
  target: string;
  /** The origin it is meant for: `GATEWAY_AUDIENCE`, by default the origin of `ORIGIN_URL`. */
  audience: string;
}

export function assertionMessage(exp: number, jti: string, r: AssertedRequest): string {
  return `${DOMAIN}${ASSERTION_VERSION}.${exp}.${jti}\n${r.audience}\n${r.method.toUpperCase()}\n${r.target}\n${r.user}\n${r.roles}\n${r.sessionId}`;
}

export async function importAssertionKey(secret: string): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
}

export async function signAssertion(key: CryptoKey, r: AssertedRequest, nowMs: number): Promise<string> {
  const exp = Math.floor(nowMs / 1000) + ASSERTION_TTL_SECONDS;
  const jti = encodeBase64url(randomBytes(16));
  const mac = await crypto.subtle.sign("HMAC", key, encoder.encode(assertionMessage(exp, jti, r)));
  return `${ASSERTION_VERSION}.${exp}.${jti}.${encodeBase64url(new Uint8Array(mac))}`;
}
