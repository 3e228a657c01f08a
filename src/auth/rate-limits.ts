/**
 * Brute-force limits on the login and register routes (ASVS 6.1.1; 4.0.3 2.2.1: at most 100
 * failed attempts an hour per account), kept in the same store through @upstash/ratelimit.
 * The library fails OPEN when its store times out; we do not inherit that: if the limiter
 * cannot answer, the login is denied (503).
 */
import { Ratelimit } from "@upstash/ratelimit";
import type { Redis } from "@upstash/redis/cloudflare";
import type { Config, RateLimitRule } from "../config.js";
import { StoreError } from "../store/redis.js";

/**
 * - `loginAccount`: failed logins per account, all addresses together (beyond it: a slowdown,
 *   see login-limits.ts);
 * - `loginAccountAddress`: failed logins per (account, address group): a hard limit;
 * - `loginUnderAttack`: failed logins per (account, address group) once `loginAccount` is spent;
 * - `loginIp`: login attempts per address group, whatever the account: a hard limit;
 * - `registerIp`: registrations per address group;
 * - `passwordCheck`: wrong `currentPassword` answers per session (`POST /auth/password`).
 */
export type LimitKind = "loginAccount" | "loginAccountAddress" | "loginUnderAttack" | "loginIp" | "registerIp" | "passwordCheck";

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
export function limitRules(r: Config["rateLimits"]): Record<LimitKind, RateLimitRule> {
  return {
    loginAccount: r.loginPerAccount,
    loginAccountAddress: r.loginPerAccountAddress,
    loginUnderAttack: r.loginUnderAttack,
    loginIp: r.loginPerIp,
    registerIp: r.registerPerIp,
    passwordCheck: r.passwordCheck,
  };
}

export interface RateLimitsOptions {
  /** The session store's own client (store/redis.ts): one client, one timeout budget per isolate. */
  redis: Redis;
  prefix: string;
  rules: Record<LimitKind, RateLimitRule>;
  now?: () => number;
}

export function createRateLimits(options: RateLimitsOptions): RateLimits {
  const redis = options.redis;
  const limiters = Object.fromEntries(
    (Object.keys(options.rules) as LimitKind[]).map((kind) => {
      const rule = options.rules[kind];
      return [
        kind,
        new Ratelimit({
          redis,
          prefix: `${options.prefix}:${kind}`,
          limiter: Ratelimit.slidingWindow(rule.limit, `${rule.windowMs} ms`),
          // Its own timeout resolves as "allowed": disable it, our client signal bounds the call.
          timeout: 0,
          analytics: false,
          ephemeralCache: false,
        }),
      ];
    }),
  ) as Record<LimitKind, Ratelimit>;

  const decide = (success: boolean, reset: number): LimitDecision =>
    success ? { ok: true } : { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((reset - (options.now ?? Date.now)()) / 1000)) };

  return {
    async hit(kind, key) {
      try {
        const r = await limiters[kind].limit(key);
        return decide(r.success, r.reset);
      } catch (error) {
        throw new StoreError(error);
      }
    },
    async refund(kind, key) {
      try {
        // A negative rate skips the check and decrements the current window's counter.
        await limiters[kind].limit(key, { rate: -1 });
      } catch (error) {
        throw new StoreError(error);
      }
    },
  };
}
