/**
 * `edge-session/hono`: the session layer as Hono middleware.
 *
 *   app.use("/api/*", sessionAuth(layer));                       // Authorization: Bearer
 *   app.use("/app/*", sessionAuth(layer, { sources: [bearerSource, cookieSource()] }));
 *   app.get("/api/admin", requireRole("admin"), (c) => c.json(c.var.user));
 *   app.post("/auth/ws-ticket", sessionAuth(layer, { fresh: true }), ticketRoute(layer));
 *   app.onError(errorHandler);  // 401/403 as the worker answers them, 503 + Retry-After on a store outage
 */
export { sessionAuth, requireRole, type SessionAuthOptions, type SessionVariables } from "./credentials/middleware.js";
export { bearerSource, type TokenSource, type Presented } from "./credentials/sources.js";
export { cookieSource, type CookieSourceOptions } from "./credentials/cookie-source.js";
export { ticketRoute } from "./credentials/ticket-route.js";
export { SESSION_COOKIE, sessionCookie, clearedSessionCookie, type SameSite, type SessionCookieOptions } from "./cookie/session-cookie.js";
export { errorHandler } from "./http/responses.js";
