/**
 * CORS for SPAs on other origins, with Bearer tokens (no cookies, so never credentials mode).
 * Mounted only when `CORS_ORIGINS` lists origins: a disabled CORS costs nothing per request.
 *
 * Written here instead of using `hono/cors`: that middleware sets headers on `c.res` before the
 * handler runs, which makes Hono build a placeholder Response for every request and merge its
 * headers into the real one afterwards (BENCHMARKS.md has the cost). Here nothing happens before
 * the handler, and headers are added only to what it answered. Behaviour matches `hono/cors` for
 * our options: any OPTIONS is answered 204 here, an allowed origin is echoed, `Vary: Origin` is
 * on every response.
 */
import type { MiddlewareHandler } from "hono";
import { withHeaders } from "./responses.js";

export interface CorsOptions {
  /** Exact origins allowed (scheme://host[:port]); anything else gets no CORS headers. */
  origins: readonly string[];
  /** @default ["GET", "POST", "DELETE", "OPTIONS"] */
  allowMethods?: readonly string[];
  /** @default ["Authorization", "Content-Type"] */
  allowHeaders?: readonly string[];
  /** Response headers the page may read. @default [] */
  exposeHeaders?: readonly string[];
  /** Seconds a browser may cache a preflight. @default 600 */
  maxAge?: number;
}

export function cors(options: CorsOptions): MiddlewareHandler {
  const allowed = new Set(options.origins);
  const methods = (options.allowMethods ?? ["GET", "POST", "DELETE", "OPTIONS"]).join(",");
  const headers = (options.allowHeaders ?? ["Authorization", "Content-Type"]).join(",");
  const expose = (options.exposeHeaders ?? []).join(",");
  const maxAge = String(options.maxAge ?? 600);

  return async (c, next) => {
    const origin = c.req.header("Origin");
    const allow = origin !== undefined && allowed.has(origin) ? origin : null;

    if (c.req.method === "OPTIONS") {
      const preflight = new Headers({ Vary: "Origin, Access-Control-Request-Headers" });
      if (allow) {
        preflight.set("Access-Control-Allow-Origin", allow);
        preflight.set("Access-Control-Allow-Methods", methods);
        preflight.set("Access-Control-Allow-Headers", headers);
        preflight.set("Access-Control-Max-Age", maxAge);
        if (expose) preflight.set("Access-Control-Expose-Headers", expose);
      }
      return new Response(null, { status: 204, headers: preflight });
    }

    await next();
    withHeaders(c, (h) => {
      h.append("Vary", "Origin");
      if (allow) {
        h.set("Access-Control-Allow-Origin", allow);
        if (expose) h.set("Access-Control-Expose-Headers", expose);
      }
    });
  };
}
