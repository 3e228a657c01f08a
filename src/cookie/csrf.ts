/**
 * CSRF defence for cookie-authenticated requests with an unsafe method. Two independent proofs,
 * both required (OWASP CSRF Prevention Cheat Sheet; ASVS 5.0 3.5.1, 3.5.3):
 *
 * 1. Where it came from: `Origin` is this worker's own origin (or one listed as trusted); with
 *    no `Origin`, `Sec-Fetch-Site` must say `same-origin`. Neither header can be set by a page
 *    (both are forbidden request headers); a request with neither is refused (fail closed).
 *    `same-site` is not enough: a sibling subdomain may be someone else's.
 * 2. A custom request header, `X-CSRF-Protection: 1` (the cheat sheet's "Employing Custom Request
 *    Headers for AJAX/API"). A `<form>` cannot set a header at all, and a cross-origin `fetch`
 *    that sets one is preflighted; this worker's CORS never answers with
 *    `Access-Control-Allow-Credentials`, so a credentialed cross-origin request carrying it is
 *    never sent. Chosen over a synchronizer token (a store read and write per session: the cache
 *    hit would pay a round trip) and over a signed double-submit cookie (a second, script-readable
 *    cookie, an HMAC per request, and rotation at every login) because every unsafe route here
 *    is a JSON API called by `fetch`, where the header costs nothing and needs no state.
 *
 * Safe methods (GET, HEAD, OPTIONS) pass: none of them changes state here — except a WebSocket
 * upgrade, which is a GET that opens a channel acting as the user: `checkCookieUpgrade`.
 */

import { CSRF_HEADER, CSRF_HEADER_VALUE } from "../protocol.js";

export { CSRF_HEADER, CSRF_HEADER_VALUE };

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

export function isSafeMethod(method: string): boolean {
  return SAFE_METHODS.has(method.toUpperCase());
}

export interface CsrfRequest {
  method: string;
  /** The request URL as the worker sees it: its origin is the one a same-origin page has. */
  url: string;
  headers: { get(name: string): string | null };
}

export type CsrfVerdict = { ok: true } | { ok: false; detail: "origin" | "header" };

/**
 * Whether a cookie-authenticated request may proceed. `trustedOrigins` are exact origins
 * (scheme://host[:port]) allowed besides the worker's own.
 */
export function checkCsrf(req: CsrfRequest, trustedOrigins: readonly string[] = []): CsrfVerdict {
  if (isSafeMethod(req.method)) return { ok: true };
  const origin = req.headers.get("Origin");
  if (origin !== null) {
    if (origin !== new URL(req.url).origin && !trustedOrigins.includes(origin)) return { ok: false, detail: "origin" };
  } else if (req.headers.get("Sec-Fetch-Site") !== "same-origin") {
    return { ok: false, detail: "origin" };
  }
  if (req.headers.get(CSRF_HEADER) !== CSRF_HEADER_VALUE) return { ok: false, detail: "header" };
  return { ok: true };
}

/**
 * Whether a cookie may authenticate this WebSocket upgrade. A browser attaches the cookie to the
 * handshake of any page on the same site, no CORS preflight guards it and no header can ride on
 * it, so only `Origin` can say whose page opened it: the worker's own, or one listed as trusted.
 * The WebSocket `Origin` allowlist (`WS_ALLOWED_ORIGINS`, `CORS_ORIGINS`) does not count here: it
 * names pages that authenticate with tickets, and a page on a sibling host of the same site is
 * not a page the cookie's owner chose to trust.
 */
export function checkCookieUpgrade(req: CsrfRequest, trustedOrigins: readonly string[] = []): CsrfVerdict {
  const origin = req.headers.get("Origin");
  if (origin !== null && (origin === new URL(req.url).origin || trustedOrigins.includes(origin))) return { ok: true };
  return { ok: false, detail: "origin" };
}
