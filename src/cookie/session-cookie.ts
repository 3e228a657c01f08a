/**
 * The session cookie: `__Host-session=<token>; Max-Age=…; Path=/; Secure; HttpOnly;
 * SameSite=Lax`. Pure string work (no Hono, no Context), shared by the worker and its tests.
 *
 * `__Host-` makes a conforming browser refuse the cookie unless it is `Secure`, has `Path=/` and
 * names no `Domain` (RFC 6265bis §4.1.3.2): no sibling host and no plain-HTTP page can set,
 * shadow or read it (ASVS 5.0 3.3.1, 3.3.3). `HttpOnly` keeps it out of `document.cookie`
 * (3.3.4); the token is then sent to the page in `Set-Cookie` only, never in a body or header.
 */
import { MAX_TOKEN_LENGTH } from "../token/codec.js";

export const SESSION_COOKIE = "__Host-session";

export type SameSite = "Lax" | "Strict";

export interface SessionCookieOptions {
  /** `Lax` lets a top-level navigation from another site arrive signed in; `Strict` does not. @default "Lax" */
  sameSite?: SameSite;
}

/**
 * `Set-Cookie` for a token whose session ends for good at `absoluteExpiresAt`: `Max-Age` is the
 * whole seconds left until then (rounded down, so the browser never keeps it past the session),
 * and at least 0.
 */
export function sessionCookie(token: string, absoluteExpiresAt: number, now: number, options: SessionCookieOptions = {}): string {
  const maxAge = Math.max(0, Math.floor((absoluteExpiresAt - now) / 1000));
  return `${SESSION_COOKIE}=${token}; Max-Age=${maxAge}; Path=/; Secure; HttpOnly; SameSite=${options.sameSite ?? "Lax"}`;
}

/** `Set-Cookie` that removes the cookie (same name, path and prefix rules, `Max-Age=0`). */
export function clearedSessionCookie(options: SessionCookieOptions = {}): string {
  return `${SESSION_COOKIE}=; Max-Age=0; Path=/; Secure; HttpOnly; SameSite=${options.sameSite ?? "Lax"}`;
}

/**
 * The session token from a `Cookie` header. `missing` when no `__Host-session` pair is there;
 * `malformed` when the header names the cookie twice (a second one can only have been planted:
 * `__Host-` allows one per host), or holds an empty or oversized value. The value is otherwise
 * returned as sent: the token codec decides whether it is a token.
 *
 * The header is read whole, whatever its size: the platform bounds it (the edge refuses requests
 * whose headers exceed its limits before the worker runs). A cap of our own on the whole header
 * was a lever for anyone who can add cookies to the site's jar — a sibling subdomain setting a
 * few large `Domain=` cookies — to make the session cookie unreadable, and its 401 then cleared
 * a cookie nobody had examined. Only the names are compared; values other than ours are skipped
 * without being copied.
 */
export function readSessionCookie(header: string | null | undefined): { token: string } | { reason: "missing" | "malformed" } {
  if (header === undefined || header === null || header === "") return { reason: "missing" };
  let found: string | null = null;
  let from = 0;
  // Pairs are separated by ";" (RFC 6265 §4.2.1); whitespace around them is tolerated.
  while (from <= header.length) {
    let end = header.indexOf(";", from);
    if (end === -1) end = header.length;
    const eq = header.indexOf("=", from);
    if (eq !== -1 && eq < end && header.slice(from, eq).trim() === SESSION_COOKIE) {
      if (found !== null) return { reason: "malformed" };
      found = header.slice(eq + 1, end).trim();
    }
    from = end + 1;
  }
  if (found === null) return { reason: "missing" };
  if (found === "" || found.length > MAX_TOKEN_LENGTH) return { reason: "malformed" };
  return { token: found };
}

/**
 * The `Cookie` header without the session cookie (other cookies kept, in order), or null when
 * nothing is left: what a proxied origin may see.
 */
export function withoutSessionCookie(header: string | null | undefined): string | null {
  if (!header) return null;
  const kept = header
    .split(";")
    .map((p) => p.trim())
    .filter((p) => p !== "" && p.slice(0, Math.max(0, p.indexOf("="))).trim() !== SESSION_COOKIE && p !== SESSION_COOKIE);
  return kept.length ? kept.join("; ") : null;
}
