/**
 * The library surface: mount the session layer in your own Hono app.
 *
 *   import { Hono } from "hono";
 *   import { createSessionLayer, sessionAuth, requireRole } from "edge-session";
 *
 *   const layer = await createSessionLayer({ url, token, sessionKeys: env.SESSION_KEYS });
 *   app.use("/api/*", sessionAuth({ manager: layer.sessions }));
 *   app.get("/api/admin", requireRole("admin"), (c) => c.json(c.var.user));
 *
 * Browser side: `edge-session/client` (createSessionClient).
 */
export { sessionAuth, requireRole, bearerToken, type SessionAuthOptions, type SessionUser, type SessionVariables } from "./middleware/session-auth.js";
export { SessionManager, DEFAULT_POLICY, defaultTouchInterval, type SessionManagerOptions, type SessionPolicy, type ValidateResult, type CreateResult, type InvalidReason } from "./session/manager.js";
export type { Session } from "./session/record.js";
export { createUpstashStore, StoreUnavailableError, type SessionStoreClient, type StoreScript, type SetOptions, type UpstashStoreOptions } from "./session/store.js";
export { keySpace, type KeySpace } from "./session/keys.js";
export { TicketStore } from "./session/tickets.js";
export { createKeyRing, parseKeyRing, generateKeyEntry, type KeyRing } from "./token/key-ring.js";
export { createPasswordHasher, MAX_ITERATIONS, type PasswordHasher } from "./auth/password.js";
export { AccountStore, type Account } from "./auth/accounts.js";
export { createApp, type App } from "./app.js";
export { build, buildDeps } from "./build.js";
export { loadConfig, type Config, type Env } from "./config.js";
export { signAssertion, assertionMessage, ASSERTION_TTL_SECONDS } from "./gateway/assertion.js";
export { storeUnavailableResponse, unauthorized, forbidden } from "./middleware/errors.js";
export { createSessionLayer, type SessionLayerOptions } from "./layer.js";
