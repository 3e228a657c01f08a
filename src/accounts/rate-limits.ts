/**
 * Brute-force limits on the login and register routes (ASVS 6.1.1; 4.0.3 2.2.1: at most 100
 * failed attempts an hour per account): sliding windows kept in the session store by one Lua
 * script (`SLIDING_WINDOW` in store/scripts.ts), the algorithm and key layout of
 * @upstash/ratelimit's sliding window. Written here rather than taken from that library: it
 * cost about a sixth of the worker's 60 KiB bundle budget (BENCHMARKS.md) for the one script
 * we use, and it failed open on a timeout. If the limiter cannot answer, the login is denied
 * (503): the store's `StoreError` propagates.
 */
import type { Config, RateLimitRule } from "../worker/config.js";
import type { RedisStore } from "../store/redis.js";
import { SLIDING_WINDOW } from "../store/scripts.js";

/**
 * - `loginAccount`: failed logins per account, all addresses together (beyond it: a slowdown,
 *   see login-limits.ts);
 * - `loginAccountAddress`: failed logins per (account, address group): a hard limit;
 * - `loginUnderAttack`: failed logins per (account, address group) once `loginAccount` is spent;
 * - `loginIp`: login attempts per address group, whatever the account: a hard limit;
 * - `registerIp`: registrations per address group;
 * - `passwordCheck`: wrong `currentPassword` answers per session (`POST /auth/password`);
 * - `passwordChangeAccount` / `passwordChangeSession`: password changes per account and per
 *   session (each costs two derivations; a wrong current password gives its count back);
 * - `wsUpgrade`: WebSocket upgrades per session (`/ws` and the gateway's relay).
 */
export type LimitKind = "loginAccount" | "loginAccountAddress" | "loginUnderAttack" | "loginIp" | "registerIp" | "passwordCheck" | "passwordChangeAccount" | "passwordChangeSession" | "wsUpgrade";

export type LimitDecision = { ok: true } | { ok: false; retryAfterSeconds: number };

export interface RateLimits {
  /**
   * Counts one event, atomically with the decision: of N concurrent hits at most the remaining
   * budget are allowed. A refused hit does not count. Throws StoreError when the
   * limiter cannot answer.
   */
  hit(kind: LimitKind, key: string): Promise<LimitDecision>;
  /** Gives back one event counted by an allowed `hit` (a login that turned out to succeed). */
  refund(kind: LimitKind, key: string): Promise<void>;
}

/** The configured rule for every limit. */
export function limitRules(r: Config["rateLimits"], ws?: Pick<Config["ws"], "upgradeRate">): Record<LimitKind, RateLimitRule> {
  return {
    loginAccount: r.loginPerAccount,
    loginAccountAddress: r.loginPerAccountAddress,
    loginUnderAttack: r.loginUnderAttack,
    loginIp: r.loginPerIp,
    registerIp: r.registerPerIp,
    passwordCheck: r.passwordCheck,
    passwordChangeAccount: r.passwordChangeAccount,
    passwordChangeSession: r.passwordChangeSession,
    // Unlimited where a caller has no sockets to limit.
    wsUpgrade: ws?.upgradeRate ?? { limit: Number.MAX_SAFE_INTEGER, windowMs: 60_000 },
  };
}

export interface RateLimitsOptions {
  /** The session store: one client, one timeout budget per isolate. */
  store: RedisStore;
  /** Key prefix of every counter (`<prefix>:<kind>:<key>:<window number>`). */
  prefix: string;
  rules: Record<LimitKind, RateLimitRule>;
  /** The clock for `Retry-After`. Windows follow the wall clock, like the store's own expiry. @default Date.now */
  now?: () => number;
}

export function createRateLimits(options: RateLimitsOptions): RateLimits {
  const { store, prefix, rules } = options;
  const now = options.now ?? Date.now;
  /** One step of the window: `rate` 1 counts (refused when the budget is spent), -1 gives one back unchecked. */
  const step = async (kind: LimitKind, key: string, rate: 1 | -1): Promise<LimitDecision> => {
    const { limit, windowMs } = rules[kind];
    const at = Date.now();
    const window = Math.floor(at / windowMs);
    const base = `${prefix}:${kind}:${key}:`;
    const [remaining] = await store.run<[number, number]>(SLIDING_WINDOW, [base + window, base + (window - 1)], [limit, at, windowMs, rate]);
    if (Number(remaining) >= 0) return { ok: true };
    const reset = (window + 1) * windowMs;
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((reset - now()) / 1000)) };
  };
  return {
    hit: (kind, key) => step(kind, key, 1),
    refund: async (kind, key) => void (await step(kind, key, -1)),
  };
}
