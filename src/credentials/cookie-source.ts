/**
 * The `__Host-session` cookie as a token source, for pages served from the worker's own origin.
 *
 * A fallback: read only when no `Authorization` header (or, on an upgrade, no ticket) presented
 * a credential. The header wins whatever session the cookie names, and the cookie is then
 * neither verified nor cleared: the client chose its credential explicitly, and a header is not
 * ambient (a cross-site page cannot attach one), so that request needs no CSRF proof either.
 *
 * A cookie is ambient, so a cookie-authenticated request with an unsafe method must carry the
 * CSRF proofs (cookie/csrf.ts); without them the source refuses with 403 `csrf` before the token
 * is looked at (no store call). A WebSocket upgrade (a GET that acts as the user) is read only
 * from the worker's own origin or a trusted one, else 403 `csrf` the same way. A 401 for the
 * cookie's token clears the cookie (`clear`).
 */
import { checkCookieUpgrade, checkCsrf } from "../cookie/csrf.js";
import { clearedSessionCookie, readSessionCookie, type SameSite } from "../cookie/session-cookie.js";
import type { TokenSource } from "./sources.js";

export interface CookieSourceOptions {
  /** The cookie's SameSite, repeated in the `Set-Cookie` that clears it. @default "Lax" */
  sameSite?: SameSite;
  /**
   * Origins besides the worker's own whose pages may send cookie-authenticated unsafe requests
   * and open cookie-authenticated sockets (`COOKIE_TRUSTED_ORIGINS`). @default []
   */
  trustedOrigins?: readonly string[];
}

export function cookieSource(options: CookieSourceOptions = {}): TokenSource {
  const trusted = options.trustedOrigins ?? [];
  return {
    name: "cookie",
    fallback: true,
    clear: clearedSessionCookie({ sameSite: options.sameSite }),
    read(c) {
      const found = readSessionCookie(c.req.header("Cookie"));
      if ("reason" in found) return found.reason === "missing" ? null : { status: 401, reason: "malformed" };
      const upgrade = (c.req.header("Upgrade") ?? "").toLowerCase() === "websocket";
      if (!(upgrade ? checkCookieUpgrade(c.req.raw, trusted) : checkCsrf(c.req.raw, trusted)).ok) return { status: 403, reason: "csrf" };
      return { kind: "token", token: found.token };
    },
  };
}
