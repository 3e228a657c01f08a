/**
 * `sessionAuth()` and `requireRole()`: Hono middleware that verifies the Bearer token
 * (signature first, then cache, then store) and exposes a typed `c.var.session` / `c.var.user`.
 * Usable by any Hono app: give it a SessionManager (or a function of the context returning one).
 */
import type { Context, MiddlewareHandler } from "hono";
import { createMiddleware } from "hono/factory";
import type { Session } from "../session/record.js";
import type { SessionManager } from "../session/manager.js";
import { forbidden, unauthorizedResponse } from "./errors.js";
import { MAX_TOKEN_LENGTH } from "../token/codec.js";

export interface SessionUser {
  id: string;
  email: string;
  roles: string[];
}

export type SessionVariables = {
  session: Session;
  user: SessionUser;
};

export interface SessionAuthOptions {
  /** The session manager, or how to get it from the request context. */
  manager: SessionManager | ((c: Context) => SessionManager | Promise<SessionManager>);
  /**
   * Always read the store, bypassing the edge cache: for routes where a revocation elsewhere
   * must be seen at once (account and session management).
   * @default false
   */
  fresh?: boolean;
  /**
   * Add `Server-Timing: session;desc="hit|miss|fresh";dur=…` to the response.
   * @default true
   */
  serverTiming?: boolean;
}

/** Longest `Authorization` header read at all: "Bearer " + the longest token. */
const MAX_AUTHORIZATION = 7 + MAX_TOKEN_LENGTH;

/**
 * The token from `Authorization: Bearer <token>`. The scheme is case-insensitive (RFC 7235
 * §2.1); anything else — another scheme, extra spaces, a joined duplicate header, an
 * oversized value — is `malformed`. Tokens in the URL are never read here (ASVS 14.2.1).
 */
export function bearerToken(header: string | undefined | null): { token: string } | { reason: "missing" | "malformed" } {
  if (header === undefined || header === null || header === "") return { reason: "missing" };
  if (header.length > MAX_AUTHORIZATION || header.length < 8) return { reason: "malformed" };
  if (header.slice(0, 7).toLowerCase() !== "bearer ") return { reason: "malformed" };
  return { token: header.slice(7) };
}

export function toUser(session: Session): SessionUser {
  return { id: session.userId, email: session.email, roles: session.roles };
}

export function sessionAuth(options: SessionAuthOptions): MiddlewareHandler<{ Variables: SessionVariables }> {
  if (!options || !options.manager) throw new Error("sessionAuth: options.manager is required");
  const getManager = typeof options.manager === "function" ? options.manager : () => options.manager as SessionManager;
  const fresh = options.fresh ?? false;
  const serverTiming = options.serverTiming ?? true;

  return createMiddleware<{ Variables: SessionVariables }>(async (c, next) => {
    const started = performance.now();
    const extracted = bearerToken(c.req.header("Authorization"));
    if ("reason" in extracted) return unauthorizedResponse(extracted.reason);
    const manager = await getManager(c);
    const result = await manager.validate(extracted.token, { fresh, waitUntil: waitUntilOf(c) });
    if (!result.ok) return unauthorizedResponse(result.reason);
    c.set("session", result.session);
    c.set("user", toUser(result.session));
    const took = performance.now() - started;
    await next();
    if (serverTiming) appendHeader(c, "Server-Timing", `session;desc="${result.source}";dur=${took.toFixed(1)}`);
  });
}

/** 403 unless the session's user has at least one of `roles`. Mount after `sessionAuth()`. */
export function requireRole(...roles: string[]): MiddlewareHandler<{ Variables: SessionVariables }> {
  if (roles.length === 0) throw new Error("requireRole: name at least one role");
  return createMiddleware<{ Variables: SessionVariables }>(async (c, next) => {
    const user = c.get("user");
    if (!user) throw new Error("requireRole() needs sessionAuth() before it");
    if (!roles.some((r) => user.roles.includes(r))) throw forbidden();
    await next();
  });
}

function waitUntilOf(c: Context): ((p: Promise<unknown>) => void) | undefined {
  try {
    const ctx = c.executionCtx;
    return (p) => ctx.waitUntil(p);
  } catch {
    return undefined; // Not running in a Worker (e.g. app.request() in a unit test).
  }
}

/** Appends a header even when the downstream response's headers are immutable (e.g. a proxied fetch). */
function appendHeader(c: Context, name: string, value: string): void {
  if (c.res.status === 101) return; // A WebSocket handshake response is final as built.
  try {
    c.res.headers.append(name, value);
  } catch {
    c.res = new Response(c.res.body, c.res);
    c.res.headers.append(name, value);
  }
}
