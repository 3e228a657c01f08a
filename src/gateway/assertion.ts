/**
 * `X-Session-Assertion`: a short-lived HMAC-SHA-256 statement of the identity headers, so an
 * origin behind the gateway can check they came from us (and not from a client that reached it
 * directly). Format:
 *
 *   v1.<exp>.<mac>
 *
 * - `exp`: expiry in seconds since the epoch (issued + at most 60 s);
 * - `mac`: base64url(HMAC-SHA-256(key, "edge-session/assertion\0v1.<exp>\n<user>\n<roles>\n<sid>\n<METHOD>\n<path>")),
 *   where user, roles and sid are the exact `X-Session-User`, `X-Session-Roles` and
 *   `X-Session-Id` header values, and METHOD and path those of the forwarded request (so an
 *   assertion cannot be replayed against another route).
 */
import { encodeBase64url } from "../util/base64url.js";

export const ASSERTION_TTL_SECONDS = 60;
const DOMAIN = "edge-session/assertion\0";
const encoder = new TextEncoder();

export interface AssertedIdentity {
  user: string;
  roles: string;
  sessionId: string;
  method: string;
  path: string;
}

export function assertionMessage(exp: number, id: AssertedIdentity): string {
  return `${DOMAIN}v1.${exp}\n${id.user}\n${id.roles}\n${id.sessionId}\n${id.method.toUpperCase()}\n${id.path}`;
}

export async function importAssertionKey(secret: string): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
}

export async function signAssertion(key: CryptoKey, id: AssertedIdentity, nowMs: number, ttlSeconds = ASSERTION_TTL_SECONDS): Promise<string> {
  const exp = Math.floor(nowMs / 1000) + Math.min(ttlSeconds, ASSERTION_TTL_SECONDS);
  const mac = await crypto.subtle.sign("HMAC", key, encoder.encode(assertionMessage(exp, id)));
  return `v1.${exp}.${encodeBase64url(new Uint8Array(mac))}`;
}
