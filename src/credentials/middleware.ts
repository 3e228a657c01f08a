/**
 * `sessionAuth()` and `requireRole()`: Hono middleware over the one credential path. A verified
 * request gets a typed `c.var.session`, `c.var.user` and `c.var.sessionSource`; a refused one
 * gets its 401 here (returned, not thrown: a refused token is the hot path under a flood of
 * forged tokens, and a throw costs a stack trace and the error handler's round).
 */
import type { MiddlewareHandler } from "hono";
import type { SessionUser } from "../protocol.js";
import { forbidden, refusalResponse, withHeaders } from "../http/responses.js";
import type { Session } from "../session/record.js";
import type { LookupSource } from "../session/reader.js";
import { authenticate, type CredentialDeps } from "./authenticate.js";
import { bearerSource, type TokenSource } from "./sources.js";

export type SessionVariables = {
  session: Session;
  user: SessionUser;
  /** Where the verdict came from (edge cache hit, store miss, fresh read): for the request log. */
  sessionSource: LookupSource;
  /** The token source that presented the credential: `"bearer"`, `"cookie"`, … */
  credential: string;
};

export interface SessionAuthOptions {
  /** Always read the store, bypassing the edge cache (account and session management). @default false */
  fresh?: boolean;
  /** Where the credential may come from, in order. @default [bearerSource] */
  sources?: readonly TokenSource[];
  /**
   * Add `Server-Timing: session;desc="hit|miss|fresh";dur=…`. Off by default: it tells any holder
   * of a token whether someone else used the same token within the cache lifetime.
   * @default false
   */
  serverTiming?: boolean;
}

export function sessionAuth(deps: CredentialDeps, options: SessionAuthOptions = {}): MiddlewareHandler<{ Variables: SessionVariables }> {
  if (!deps?.reader || !deps.sessions) throw new Error("sessionAuth: pass the session layer (reader and sessions)");
  const auth = { sources: options.sources ?? [bearerSource], fresh: options.fresh ?? false };
  const serverTiming = options.serverTiming ?? false;
  const clears = new Map(auth.sources.filter((s) => s.clear).map((s) => [s.name, s.clear!]));
  return async (c, next) => {
    const started = serverTiming ? performance.now() : 0;
    const result = await authenticate(c, deps, auth);
    if (!result.ok) return refusalResponse(result.refusal);
    c.set("session", result.session);
    c.set("user", result.user);
    c.set("sessionSource", result.source);
    c.set("credential", result.via);
    // Any 401 a handler answers for a cookie-borne token (a session ended meanwhile) clears it too.
    const clear = clears.size ? clears.get(result.via) : undefined;
    const took = serverTiming ? performance.now() - started : 0;
    // Personal data, or a token or ticket: never kept by a browser or a shared cache
    // (RFC 9111 §5.2.2.5). Set before the handler, so a response made with `c.json()` and the
    // like is born with it; a handler's own policy replaces it.
    c.header("Cache-Control", "no-store");
    await next();
    const res = c.res;
    // A Response the handler built itself never saw the header above.
    const missing = !res.headers.has("Cache-Control");
    if (missing || (clear && res.status === 401) || serverTiming) {
      withHeaders(c, (h) => {
        if (missing) h.set("Cache-Control", "no-store");
        if (clear && c.res.status === 401) h.append("Set-Cookie", clear);
        if (serverTiming) h.append("Server-Timing", `session;desc="${result.source}";dur=${took.toFixed(1)}`);
      });
    }
  };
}

/** 403 unless the session's user has at least one of `roles`. Mount after `sessionAuth()`. */
export function requireRole(...roles: string[]): MiddlewareHandler<{ Variables: SessionVariables }> {
  if (roles.length === 0) throw new Error("requireRole: name at least one role");
  return async (c, next) => {
    const user = c.get("user");
    if (!user) throw new Error("requireRole() needs sessionAuth() before it");
    if (!roles.some((r) => user.roles.includes(r))) throw forbidden();
    await next();
  };
}
