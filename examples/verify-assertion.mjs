// Verifies X-Session-Assertion at the origin (Node 20+). See docs/GATEWAY.md for the format.
// Strict on purpose: exactly `v2.<exp>.<jti>.<mac>`, canonical unpadded base64url only, a
// lifetime no longer than the gateway issues, and the MAC compared in constant time.
import { createHmac, timingSafeEqual } from "node:crypto";

const TTL_SECONDS = 10; // what the gateway issues (ASSERTION_TTL_SECONDS)
const SKEW_SECONDS = 2; // clock difference tolerated between gateway and origin
const FORMAT = /^v2\.(\d{1,12})\.([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/;

/** One header value, or null when missing or repeated (a repeated identity header is an attack). */
function header(headers, name) {
  const v = typeof headers.get === "function" ? headers.get(name) : headers[name];
  return typeof v === "string" ? v : null;
}

/** base64url that decodes to `bytes` bytes and re-encodes to itself (no stray bits, no padding). */
function canonical(s, bytes) {
  const b = Buffer.from(s, "base64url");
  return b.length === bytes && b.toString("base64url") === s ? b : null;
}

/**
 * @param headers  the request's headers (Node's `req.headers` or a Fetch `Headers`)
 * @param expected `{ method, target, audience, key, nowMs? }`: `target` is the request target as
 *                 received (Node: `req.url`, path and query), `audience` your GATEWAY_AUDIENCE.
 * @returns `{ user, roles, sessionId, jti, expiresAt }`, or null: then answer 401 and ignore
 *          every X-Session-* header.
 */
export function verifyAssertion(headers, { method, target, audience, key, nowMs = Date.now() }) {
  if (!key || !audience) throw new TypeError("verifyAssertion: key and audience are required");
  const assertion = header(headers, "x-session-assertion");
  const user = header(headers, "x-session-user");
  const roles = header(headers, "x-session-roles");
  const sessionId = header(headers, "x-session-id");
  if (assertion === null || user === null || roles === null || sessionId === null) return null;
  const m = FORMAT.exec(assertion);
  if (!m) return null;
  const [, exp, jti, mac] = m;
  const expMs = Number(exp) * 1000;
  if (expMs <= nowMs || expMs > nowMs + (TTL_SECONDS + SKEW_SECONDS) * 1000) return null;
  const got = canonical(mac, 32);
  if (!got || !canonical(jti, 16)) return null;
  const message = `edge-session/assertion\0v2.${exp}.${jti}\n${audience}\n${String(method).toUpperCase()}\n${target}\n${user}\n${roles}\n${sessionId}`;
  const want = createHmac("sha256", key).update(message).digest();
  if (!timingSafeEqual(got, want)) return null;
  return { user, roles: roles.split(",").filter(Boolean), sessionId, jti, expiresAt: Number(exp) };
}
