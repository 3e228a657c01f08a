/**
 * `edge-session`: the session layer itself, with no web framework in it.
 *
 *   const layer = await createSessionLayer({ url, token, sessionKeys: env.SESSION_KEYS });
 *   const { token, session } = await layer.createSession({ id, email, roles: [] }); // after your own sign-in
 *   const r = await layer.validateSession(token);   // { ok: true, session, user } | { ok: false, reason }
 *   await layer.endSession(session.id);  await layer.endUserSessions(user.id);
 *
 * Hono middleware: `edge-session/hono`. Sockets in Durable Objects: `edge-session/realtime`.
 * Browser: `edge-session/client`, `edge-session/react`. RPC: `edge-session/rpc`. Types for
 * front ends with DOM types only: `edge-session/types`. The deployed worker: `edge-session/worker`.
 */
export { createSessionLayer, type SessionLayer, type SessionLayerOptions } from "./session/layer.js";
export type { SessionApi, NewSessionUser, NewSessionMeta, CreateSessionResult, ValidateSessionResult, IssueTicketResult } from "./session/api.js";
export type { SessionPolicy, EndedEvent, EndedListener } from "./session/manager.js";
export type { Session } from "./session/record.js";
export { StoreError, type RedisStore } from "./store/redis.js";
export type { StoreFailureKind } from "./store/failure.js";
export { generateKeyEntry } from "./token/key-ring.js";
/** Read replicas (Upstash Global): the store clock and what the verifier measured (docs/REALTIME.md "Read replicas"). */
export { advanceStoreClock, runClockAlarm, ensureClockAlarm, CLOCK_PERIOD_MS, type AlarmStorage } from "./session/clock.js";
export type { FreshnessOptions } from "./session/fresh-read.js";
export { freshnessMetrics, FreshnessMetrics, type FreshnessSink, type FreshnessSnapshot, type Observed } from "./session/freshness.js";
/** The wire vocabulary shared with the browser client: reasons, error codes, close codes, the user shape. */
export * from "./protocol.js";
