/**
 * Every default, in one place. The worker's configuration (config.ts, from `env`) and the
 * library's `createSessionLayer()` (layer.ts, from options) both fall back to these values;
 * wrangler.toml's `[vars]` mirror them for production and say so.
 */

/** Durations are written as the configuration accepts them ("30 m", "1 s"). */
export const DEFAULTS = {
  /** SESSION_IDLE_TIMEOUT: inactivity timeout (ASVS 7.3.1). */
  idleTimeout: "30 m",
  /** SESSION_ABSOLUTE_TIMEOUT: absolute lifetime, enforced in code and by the store TTL (ASVS 7.3.2). */
  absoluteTimeout: "12 h",
  /** SESSION_MAX_PER_USER: concurrent sessions per user; the oldest ends beyond it (ASVS 7.1.2). */
  maxSessionsPerUser: 20,
  /** SESSION_CACHE_TTL: edge cache lifetime, the worst-case staleness after a revocation elsewhere. */
  cacheTtl: "1 s",
  /** Most tokens cached per isolate (live and dead together). */
  cacheMaxEntries: 10_000,
  /** Most forged token strings remembered per isolate. */
  forgedMaxEntries: 1000,
  /** STORE_TIMEOUT_MS: budget for one store operation including its retries. */
  storeTimeoutMs: 1000,
  /** Retries when the store's `fetch` itself fails (HTTP errors are not retried). */
  storeRetries: 2,
  /**
   * STORE_FRESHNESS_BOUND: with read replicas (Upstash Global), the most a replica may be behind
   * for a verifier to use its answer ("off": one Redis, no replicas; "2 s" suits replicas: the
   * clock's 1 s period plus room for the usual lag). docs/REALTIME.md "Read replicas".
   */
  storeFreshnessBound: "off",
  /** STORE_PREFIX: every key this product writes starts with it. */
  storePrefix: "es:",
  /** SESSION_COOKIE_SAMESITE: the `__Host-session` cookie's SameSite (`strict` also blocks arriving signed in from a link). */
  sessionCookieSameSite: "lax",
  /** COOKIE_TRUSTED_ORIGINS: pages besides the worker's own that the session cookie serves (CSRF check and sockets). */
  cookieTrustedOrigins: "",
  /** SIGNUP outside development. */
  signup: "closed",
  /** WS_QUERY_SESSION_TOKEN: a session token (not a ticket) in `?token=` is refused. */
  wsQuerySessionToken: "deny",
  /**
   * WS_RECHECK_INTERVAL: the safety net under the revocation push — how often a room's alarm
   * re-reads the sessions of its sockets (and a gateway-relayed socket its own). docs/REALTIME.md.
   */
  wsRecheckInterval: "30 s",
  /** WS_MAX_SOCKETS_PER_SESSION: live sockets per session; more → 429 `too_many_sockets`. */
  wsMaxSocketsPerSession: 5,
  /** WS_MAX_SOCKETS_PER_USER: live sockets per user across sessions and rooms (per isolate for gateway relays). */
  wsMaxSocketsPerUser: 25,
  /** WS_MAX_MESSAGE_BYTES: largest message a room accepts; bigger ones close the socket with 1009. */
  wsMaxMessageBytes: 64 * 1024,
  /** WS_UPGRADE_RATE: WebSocket upgrades per session (each costs store and Durable Object calls). */
  wsUpgradeRate: "30 / 1 m",
  /** WS_MESSAGE_RATE: messages per socket in the demo room (a token bucket); beyond it the socket closes with 1008. */
  wsMessageRate: "20 / 10 s",
  /** WS_ROOM_BYTE_RATE: bytes a demo room fans out (size × sockets reached); a message beyond it is dropped (`room_busy`). */
  wsRoomByteRate: "4194304 / 10 s",
  /** WS_ROOM_EMAILS: whether the demo room's presence and messages name emails (off: user ids only). */
  wsRoomEmails: "off",
  /** WS_TICKET_TTL: lifetime of a single-use WebSocket ticket (at most 30 s). */
  wsTicketTtl: "30 s",
  /** WS_MAX_TICKETS_PER_USER: outstanding (unused, unexpired) tickets a user may hold. */
  wsMaxTicketsPerUser: 10,
  /** RATE_LIMIT_LOGIN_ACCOUNT: failed logins per account, all address groups together; beyond it a slowdown (auth/login-limits.ts). */
  rateLimitLoginAccount: "100 / 1 h",
  /** RATE_LIMIT_LOGIN_ACCOUNT_ADDRESS: failed logins per (account, address group): a hard limit. */
  rateLimitLoginAccountAddress: "10 / 15 m",
  /** RATE_LIMIT_LOGIN_UNDER_ATTACK: failed logins per (account, address group) once the account-wide budget is spent. */
  rateLimitLoginUnderAttack: "3 / 1 h",
  /** RATE_LIMIT_LOGIN_IP: login attempts per address group (IPv4 address, IPv6 /64). */
  rateLimitLoginIp: "300 / 1 h",
  /** RATE_LIMIT_REGISTER_IP: registrations per address group. */
  rateLimitRegisterIp: "20 / 1 h",
  /** RATE_LIMIT_PASSWORD_CHECK: wrong current passwords per session on POST /auth/password. */
  rateLimitPasswordCheck: "5 / 1 h",
  /** RATE_LIMIT_PASSWORD_CHANGE_ACCOUNT: password changes per account (each costs two PBKDF2 derivations). */
  rateLimitPasswordChangeAccount: "5 / 1 h",
  /** RATE_LIMIT_PASSWORD_CHANGE_SESSION: password changes per session (parallel changes from one token). */
  rateLimitPasswordChangeSession: "2 / 1 h",
} as const;

/** How long `/health` reuses its answer per isolate (the route is unauthenticated: no store trip per request). */
export const HEALTH_CACHE_MS = 1000;

/**
 * The least time between two sliding-expiry writes when SESSION_TOUCH_INTERVAL is not set:
 * a tenth of the idle timeout, at least a minute.
 */
export function defaultTouchInterval(idleTimeoutMs: number): number {
  return Math.max(Math.floor(idleTimeoutMs / 10), 60_000);
}

/**
 * How long single-flight followers wait for a leader: a little over the store's own budget per
 * operation, so a failed read reaches them as that failure (a 503 at once) rather than as a
 * second attempt of their own.
 */
export function followTimeoutFor(storeTimeoutMs: number): number {
  return storeTimeoutMs + 100;
}

/** Shortest secret accepted for PASSWORD_PEPPER and GATEWAY_ASSERTION_KEY (256 bits of base64url ≈ 43). */
export const MIN_SECRET_LENGTH = 32;
