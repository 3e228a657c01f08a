/**
 * The library surface: mount the session layer in your own Hono app.
 *
 *   import { Hono } from "hono";
 *   import { createSessionLayer, sessionAuth, requireRole, errorHandler } from "edge-session";
 *
 *   const layer = await createSessionLayer({ url, token, sessionKeys: env.SESSION_KEYS });
 *   const { token } = await layer.createSession({ id, email, roles: [] }); // after your own sign-in
 *   app.use("/api/*", sessionAuth(layer));
 *   app.get("/api/admin", requireRole("admin"), (c) => c.json(c.var.user));
 *   app.onError(errorHandler); // 503 with Retry-After when the store is down
 *
 * Browser side: `edge-session/client` (createSessionClient).
 */
export * from "./protocol.js";
export { sessionAuth, requireRole, type SessionAuthOptions, type SessionVariables } from "./credentials/session-auth.js";
export { authenticate, toUser, type Authenticated, type Authentication, type AuthenticateOptions, type CredentialDeps } from "./credentials/authenticate.js";
export { bearerSource, bearerToken, ticketSource, type Presented, type TokenSource } from "./credentials/sources.js";
export { cookieSource, type CookieSourceOptions } from "./credentials/cookie-source.js";
export { SESSION_COOKIE, sessionCookie, clearedSessionCookie, readSessionCookie, withoutSessionCookie, type SameSite } from "./cookie/session-cookie.js";
export { checkCsrf, isSafeMethod, type CsrfVerdict } from "./cookie/csrf.js";
export type { Refusal } from "./credentials/refusal.js";
export { SessionManager, DEFAULT_POLICY, type SessionManagerOptions, type SessionPolicy, type CreateResult, type EndedEvent, type EndedListener } from "./session/manager.js";
export { SessionReader, type ReadResult, type LookupSource, type SessionReaderOptions } from "./session/reader.js";
export type { Session } from "./session/record.js";
export { createUpstashStore, StoreError, type RedisStore, type StoreScript, type SetOptions, type UpstashStoreOptions } from "./store/redis.js";
export { keySpace, type KeySpace } from "./store/keys.js";
export { TicketStore } from "./session/tickets.js";
export { createKeyRing, parseKeyRing, generateKeyEntry, type KeyRing } from "./token/key-ring.js";
export { createPasswordHasher, MAX_ITERATIONS, type PasswordHasher } from "./auth/password.js";
export { AccountStore, type Account } from "./auth/accounts.js";
export { createApp, type App } from "./app.js";
export { build, buildDeps } from "./build.js";
export { loadConfig, type Config, type Env } from "./config.js";
export { DEFAULTS, defaultTouchInterval } from "./defaults.js";
export { assembleCore, type CoreSettings, type SessionCore } from "./assemble.js";
export { signAssertion, assertionMessage, ASSERTION_TTL_SECONDS } from "./gateway/assertion.js";
export { errorHandler, refusalResponse, refuse, forbidden, jsonError, storeUnavailableResponse } from "./http/responses.js";
export { createSessionLayer, type SessionLayer, type SessionLayerOptions } from "./layer.js";
/** Verified sockets in Durable Objects (ours and yours): see src/realtime/library.ts and docs/REALTIME.md. */
export * from "./realtime/library.js";
export { RealtimeRoom } from "./realtime/room.js";
export { sessionApi, USER_ID, type SessionApi, type NewSessionUser, type NewSessionMeta, type CreateSessionResult, type ValidateSessionResult } from "./sessions.js";
export type { VerifyResponse, CreateSessionResponse, RpcSession } from "./rpc-types.js";
