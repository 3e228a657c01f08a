/**
 * Environment → validated configuration. Every problem is named at once (never a silent
 * default secret); outside development a bad configuration makes every request answer 500
 * with that message, and the log says it too. Defaults come from defaults.ts.
 */
import { parseKeyRing } from "../token/key-ring.js";
import { parseDuration } from "../util/duration.js";
import { MAX_TICKET_TTL_MS } from "../session/tickets.js";
import { DEFAULTS, defaultTouchInterval, MIN_SECRET_LENGTH } from "../defaults.js";
import type { SessionPolicy } from "../session/manager.js";
import type { SameSite } from "../cookie/session-cookie.js";
import { gatewayConfig, type GatewayConfig } from "./gateway-config.js";
import { list } from "../util/list.js";
import { CLOCK_PERIOD_MS } from "../session/clock.js";
import { loadOpsConfig, type OpsConfig, type OpsEnv } from "./ops-config.js";

export interface Env extends OpsEnv {
  ENVIRONMENT?: string;
  SESSION_KEYS?: string;
  PASSWORD_PEPPER?: string;
  UPSTASH_REDIS_REST_URL?: string;
  UPSTASH_REDIS_REST_TOKEN?: string;
  SIGNUP?: string;
  STORE_PREFIX?: string;
  STORE_TIMEOUT_MS?: string;
  STORE_FRESHNESS_BOUND?: string;
  SESSION_IDLE_TIMEOUT?: string;
  SESSION_ABSOLUTE_TIMEOUT?: string;
  SESSION_MAX_PER_USER?: string;
  SESSION_TOUCH_INTERVAL?: string;
  SESSION_CACHE_TTL?: string;
  CORS_ORIGINS?: string;
  SESSION_COOKIE_SAMESITE?: string;
  COOKIE_TRUSTED_ORIGINS?: string;
  WS_ALLOWED_ORIGINS?: string;
  WS_QUERY_SESSION_TOKEN?: string;
  WS_RECHECK_INTERVAL?: string;
  WS_TICKET_TTL?: string;
  WS_MAX_TICKETS_PER_USER?: string;
  WS_MAX_SOCKETS_PER_SESSION?: string;
  WS_MAX_SOCKETS_PER_USER?: string;
  WS_MAX_MESSAGE_BYTES?: string;
  WS_UPGRADE_RATE?: string;
  WS_MESSAGE_RATE?: string;
  WS_ROOM_BYTE_RATE?: string;
  WS_ROOM_EMAILS?: string;
  RATE_LIMIT_LOGIN_ACCOUNT?: string;
  RATE_LIMIT_LOGIN_ACCOUNT_ADDRESS?: string;
  RATE_LIMIT_LOGIN_UNDER_ATTACK?: string;
  RATE_LIMIT_PASSWORD_CHECK?: string;
  RATE_LIMIT_PASSWORD_CHANGE_ACCOUNT?: string;
  RATE_LIMIT_PASSWORD_CHANGE_SESSION?: string;
  RATE_LIMIT_LOGIN_IP?: string;
  RATE_LIMIT_REGISTER_IP?: string;
  ORIGIN_URL?: string;
  GATEWAY_PATHS?: string;
  GATEWAY_ASSERTION_KEY?: string;
  GATEWAY_AUDIENCE?: string;
  GATEWAY_FORWARD_AUTHORIZATION?: string;
  GATEWAY_FORWARD_HEADERS?: string;
  REQUEST_LOG?: string;
  DBSC?: string;
  DBSC_COOKIE_TTL?: string;
  SERVER_TIMING?: string;
  /**
   * The static-assets binding (the demo SPA), served by the platform before the worker runs.
   * Typed structurally rather than as Workers' `Fetcher`: `AppType` reaches this interface, and
   * it must type-check in front-end projects that have DOM types only.
   */
  ASSETS?: { fetch(input: Request | string, init?: RequestInit): Promise<Response> };
}

export type Environment = "development" | "test" | "production";

/** `"10 / 1 h"`: at most 10 events per window. */
export interface RateLimitRule {
  limit: number;
  windowMs: number;
}

export interface Config {
  environment: Environment;
  /** kid:key entries; `ephemeral` when development generated them. */
  sessionKeys: { kid: string; key: Uint8Array }[];
  ephemeralKeys: boolean;
  pepper: string;
  ephemeralPepper: boolean;
  /** `freshnessBoundMs`: read replicas' freshness bound (STORE_FRESHNESS_BOUND), null when off (one Redis). */
  store: { url: string; token: string; timeoutMs: number; prefix: string; freshnessBoundMs: number | null };
  signup: "open" | "closed";
  policy: SessionPolicy;
  cacheTtlMs: number;
  corsOrigins: string[];
  /**
   * The `__Host-session` cookie transport (login with `"transport": "cookie"`). `trustedOrigins`:
   * pages besides the worker's own whose cookie requests pass the CSRF check and whose cookie
   * opens sockets (COOKIE_TRUSTED_ORIGINS; never taken from CORS_ORIGINS).
   */
  cookie: { sameSite: SameSite; trustedOrigins: string[] };
  ws: {
    allowedOrigins: string[];
    querySessionToken: boolean;
    /** The safety-net re-check of live sockets (the push is the primary path; docs/REALTIME.md). */
    recheckIntervalMs: number;
    ticketTtlMs: number;
    /** Outstanding tickets per user, store-wide. */
    maxTicketsPerUser: number;
    maxSocketsPerSession: number;
    /** Live sockets per user: store-wide for `/ws` (its Durable Objects), per isolate for gateway relays. */
    maxSocketsPerUser: number;
    maxMessageBytes: number;
    /** WebSocket upgrades per session (store-wide), `/ws` and the gateway's relay. */
    upgradeRate: RateLimitRule;
    /** Messages per socket in the demo room (a token bucket: `limit` at once, refilled over the window). */
    messageRate: RateLimitRule;
    /** Bytes a demo room fans out (message size × sockets reached), per window. */
    roomByteRate: RateLimitRule;
    /** Whether the demo room's presence and messages name users' emails (else ids only). */
    roomEmails: boolean;
  };
  rateLimits: {
    loginPerAccount: RateLimitRule;
    loginPerAccountAddress: RateLimitRule;
    loginUnderAttack: RateLimitRule;
    loginPerIp: RateLimitRule;
    registerPerIp: RateLimitRule;
    passwordCheck: RateLimitRule;
    passwordChangeAccount: RateLimitRule;
    passwordChangeSession: RateLimitRule;
  };
  /** Gateway mode (ORIGIN_URL), or null. */
  gateway: GatewayConfig | null;
  /**
   * Device Bound Session Credentials for cookie logins (issue 24): offered with every cookie
   * login; a browser that registers swaps the long-lived cookie for one of `cookieTtlMs` it
   * renews by signing a challenge. Browsers without DBSC keep the long-lived cookie.
   */
  dbsc: { enabled: boolean; cookieTtlMs: number };
  /** One JSON line per request on stdout. */
  requestLog: boolean;
  /** `Server-Timing: session;desc=hit|miss|fresh` on verified responses (development and test by default). */
  serverTiming: boolean;
  /** Audit retention and metrics rollup (ops-config.ts). */
  ops: OpsConfig;
}

export type ConfigResult = { ok: true; config: Config; warnings: string[] } | { ok: false; problems: string[] };


export const MIN_PEPPER_LENGTH = MIN_SECRET_LENGTH;

/** `"100 / 1 h"` → { limit: 100, windowMs: 3600000 }, or null. */
export function parseRule(raw: string): RateLimitRule | null {
  const m = /^(\d+)\s*\/\s*(.+)$/.exec(raw);
  const windowMs = m ? parseDuration(m[2]!) : null;
  if (!m || windowMs === null || windowMs <= 0 || Number(m[1]) < 1) return null;
  return { limit: Number(m[1]), windowMs };
}

export function loadConfig(env: Env): ConfigResult {
  const problems: string[] = [];
  const warnings: string[] = [];
  const environment = (["development", "test", "production"] as const).find((e) => e === (env.ENVIRONMENT ?? "production"));
  if (!environment) problems.push(`ENVIRONMENT must be development, test or production (got "${env.ENVIRONMENT}")`);
  const dev = environment === "development";

  const duration = (name: keyof Env, fallback: string, min = 0): number => {
    const raw = (env[name] as string | undefined) ?? fallback;
    const ms = parseDuration(raw);
    if (ms === null || ms < min) {
      problems.push(`${name} must be a duration like "30 m" or "1 s"${min ? ` of at least ${min} ms` : ""} (got "${raw}")`);
      return parseDuration(fallback)!;
    }
    return ms;
  };
  const integer = (name: keyof Env, fallback: number, min: number, max: number): number => {
    const raw = env[name] as string | undefined;
    if (raw === undefined || raw === "") return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`${name} must be an integer from ${min} to ${max} (got "${raw}")`);
      return fallback;
    }
    return n;
  };
  const rule = (name: keyof Env, fallback: string): RateLimitRule => {
    const raw = ((env[name] as string | undefined) || fallback).trim();
    const parsed = parseRule(raw);
    if (!parsed) problems.push(`${name} must look like "100 / 1 h" (got "${raw}")`);
    return parsed ?? parseRule(fallback)!;
  };

  // Secrets.
  let sessionKeys: Config["sessionKeys"] = [];
  let ephemeralKeys = false;
  const ring = parseKeyRing(env.SESSION_KEYS);
  if (ring.ok) sessionKeys = ring.entries;
  else if (dev && !env.SESSION_KEYS?.trim()) {
    ephemeralKeys = true;
    sessionKeys = [{ kid: "dev", key: crypto.getRandomValues(new Uint8Array(32)) }];
    warnings.push("SESSION_KEYS is not set: using an EPHEMERAL development key ring. Every token dies when this isolate restarts. Run `npm run keys:generate` and put it in .dev.vars.");
  } else problems.push(...ring.problems);

  let pepper = env.PASSWORD_PEPPER ?? "";
  let ephemeralPepper = false;
  if (pepper.length < MIN_PEPPER_LENGTH) {
    if (dev && !pepper) {
      ephemeralPepper = true;
      pepper = crypto.randomUUID() + crypto.randomUUID();
      warnings.push("PASSWORD_PEPPER is not set: using an EPHEMERAL development pepper. Passwords hashed now stop verifying after a restart.");
    } else problems.push(pepper ? `PASSWORD_PEPPER is too short (${pepper.length} characters, at least ${MIN_PEPPER_LENGTH})` : "PASSWORD_PEPPER is missing");
  }

  const url = env.UPSTASH_REDIS_REST_URL ?? "";
  if (!url) problems.push("UPSTASH_REDIS_REST_URL is missing");
  else if (!/^https?:\/\/[^\s]+$/.test(url)) problems.push("UPSTASH_REDIS_REST_URL must be an http(s) URL");
  else if (environment === "production" && url.startsWith("http://") && !/^http:\/\/(127\.0\.0\.1|localhost|\[::1\])[:/]/.test(url + "/")) problems.push("UPSTASH_REDIS_REST_URL must use https outside loopback in production");
  if (!env.UPSTASH_REDIS_REST_TOKEN) problems.push("UPSTASH_REDIS_REST_TOKEN is missing");

  const freshnessRaw = (env.STORE_FRESHNESS_BOUND ?? DEFAULTS.storeFreshnessBound).trim();
  let freshnessBoundMs: number | null = null;
  if (freshnessRaw !== "off") {
    const ms = parseDuration(freshnessRaw);
    // Above the clock's period, or every replica read would be judged stale.
    if (ms === null || ms <= CLOCK_PERIOD_MS || ms > 60_000) problems.push(`STORE_FRESHNESS_BOUND must be off or a duration above ${CLOCK_PERIOD_MS} ms and at most 60 s, like "2 s" (got "${freshnessRaw}")`);
    else freshnessBoundMs = ms;
  }

  const signup = env.SIGNUP ?? (dev ? "open" : DEFAULTS.signup);
  if (signup !== "open" && signup !== "closed") problems.push(`SIGNUP must be open or closed (got "${signup}")`);

  const idleTimeoutMs = duration("SESSION_IDLE_TIMEOUT", DEFAULTS.idleTimeout, 1000);
  const absoluteTimeoutMs = duration("SESSION_ABSOLUTE_TIMEOUT", DEFAULTS.absoluteTimeout, 1000);
  if (absoluteTimeoutMs < idleTimeoutMs) problems.push("SESSION_ABSOLUTE_TIMEOUT must not be shorter than SESSION_IDLE_TIMEOUT");
  const touchIntervalMs = env.SESSION_TOUCH_INTERVAL ? duration("SESSION_TOUCH_INTERVAL", "3 m") : defaultTouchInterval(idleTimeoutMs);

  const corsOrigins = list(env.CORS_ORIGINS);
  const cookieTrusted = list(env.COOKIE_TRUSTED_ORIGINS ?? DEFAULTS.cookieTrustedOrigins);
  const badTrusted = cookieTrusted.filter((o) => !/^https?:\/\/[^/\s]+$/.test(o));
  if (badTrusted.length) problems.push(`COOKIE_TRUSTED_ORIGINS entries must be origins like https://app.example (got ${badTrusted.map((o) => `"${o}"`).join(", ")})`);
  const badOrigin = [...corsOrigins, ...list(env.WS_ALLOWED_ORIGINS)].filter((o) => o !== "*" && !/^https?:\/\/[^/\s]+$/.test(o));
  if (badOrigin.length) problems.push(`CORS_ORIGINS / WS_ALLOWED_ORIGINS entries must be origins like https://app.example (got ${badOrigin.map((o) => `"${o}"`).join(", ")})`);
  if (corsOrigins.includes("*")) problems.push("CORS_ORIGINS may not be * (list the SPA origins)");
  const wsQuery = env.WS_QUERY_SESSION_TOKEN ?? DEFAULTS.wsQuerySessionToken;
  const sameSite = (env.SESSION_COOKIE_SAMESITE ?? DEFAULTS.sessionCookieSameSite).trim().toLowerCase();
  if (sameSite !== "lax" && sameSite !== "strict") problems.push(`SESSION_COOKIE_SAMESITE must be lax or strict (got "${env.SESSION_COOKIE_SAMESITE}")`);
  if (env.SERVER_TIMING && env.SERVER_TIMING !== "on" && env.SERVER_TIMING !== "off") problems.push(`SERVER_TIMING must be on or off (got "${env.SERVER_TIMING}")`);
  const roomEmails = env.WS_ROOM_EMAILS ?? DEFAULTS.wsRoomEmails;
  if (roomEmails !== "on" && roomEmails !== "off") problems.push(`WS_ROOM_EMAILS must be on or off (got "${roomEmails}")`);
  if (env.DBSC && env.DBSC !== "on" && env.DBSC !== "off") problems.push(`DBSC must be on or off (got "${env.DBSC}")`);
  if (wsQuery !== "allow" && wsQuery !== "deny") problems.push(`WS_QUERY_SESSION_TOKEN must be allow or deny (got "${wsQuery}")`);

  const gateway = gatewayConfig(env, problems);


  const config: Config = {
    environment: environment ?? "production",
    sessionKeys,
    ephemeralKeys,
    pepper,
    ephemeralPepper,
    store: {
      url,
      token: env.UPSTASH_REDIS_REST_TOKEN ?? "",
      timeoutMs: integer("STORE_TIMEOUT_MS", DEFAULTS.storeTimeoutMs, 50, 1500),
      prefix: env.STORE_PREFIX ?? DEFAULTS.storePrefix,
      freshnessBoundMs,
    },
    signup: signup === "open" ? "open" : "closed",
    policy: {
      idleTimeoutMs,
      absoluteTimeoutMs,
      maxSessionsPerUser: integer("SESSION_MAX_PER_USER", DEFAULTS.maxSessionsPerUser, 1, 1000),
      touchIntervalMs,
    },
    cacheTtlMs: duration("SESSION_CACHE_TTL", DEFAULTS.cacheTtl),
    corsOrigins,
    cookie: { sameSite: sameSite === "strict" ? "Strict" : "Lax", trustedOrigins: cookieTrusted },
    ws: {
      allowedOrigins: env.WS_ALLOWED_ORIGINS ? list(env.WS_ALLOWED_ORIGINS) : corsOrigins,
      querySessionToken: wsQuery === "allow",
      recheckIntervalMs: duration("WS_RECHECK_INTERVAL", DEFAULTS.wsRecheckInterval, 100),
      ticketTtlMs: Math.min(duration("WS_TICKET_TTL", DEFAULTS.wsTicketTtl, 1000), MAX_TICKET_TTL_MS),
      maxTicketsPerUser: integer("WS_MAX_TICKETS_PER_USER", DEFAULTS.wsMaxTicketsPerUser, 1, 1000),
      maxSocketsPerSession: integer("WS_MAX_SOCKETS_PER_SESSION", DEFAULTS.wsMaxSocketsPerSession, 1, 1000),
      maxSocketsPerUser: integer("WS_MAX_SOCKETS_PER_USER", DEFAULTS.wsMaxSocketsPerUser, 1, 10_000),
      maxMessageBytes: integer("WS_MAX_MESSAGE_BYTES", DEFAULTS.wsMaxMessageBytes, 16, 1_048_576),
      upgradeRate: rule("WS_UPGRADE_RATE", DEFAULTS.wsUpgradeRate),
      messageRate: rule("WS_MESSAGE_RATE", DEFAULTS.wsMessageRate),
      roomByteRate: rule("WS_ROOM_BYTE_RATE", DEFAULTS.wsRoomByteRate),
      roomEmails: roomEmails === "on",
    },
    rateLimits: {
      loginPerAccount: rule("RATE_LIMIT_LOGIN_ACCOUNT", DEFAULTS.rateLimitLoginAccount),
      loginPerAccountAddress: rule("RATE_LIMIT_LOGIN_ACCOUNT_ADDRESS", DEFAULTS.rateLimitLoginAccountAddress),
      loginUnderAttack: rule("RATE_LIMIT_LOGIN_UNDER_ATTACK", DEFAULTS.rateLimitLoginUnderAttack),
      loginPerIp: rule("RATE_LIMIT_LOGIN_IP", DEFAULTS.rateLimitLoginIp),
      registerPerIp: rule("RATE_LIMIT_REGISTER_IP", DEFAULTS.rateLimitRegisterIp),
      passwordCheck: rule("RATE_LIMIT_PASSWORD_CHECK", DEFAULTS.rateLimitPasswordCheck),
      passwordChangeAccount: rule("RATE_LIMIT_PASSWORD_CHANGE_ACCOUNT", DEFAULTS.rateLimitPasswordChangeAccount),
      passwordChangeSession: rule("RATE_LIMIT_PASSWORD_CHANGE_SESSION", DEFAULTS.rateLimitPasswordChangeSession),
    },
    gateway,
    // Minutes by default: a copied bound cookie is worth at most that; each renewal costs one
    // signature and one store command. Seconds are allowed for tests.
    dbsc: { enabled: env.DBSC !== "off", cookieTtlMs: duration("DBSC_COOKIE_TTL", "5 m", 1000) },
    requestLog: env.REQUEST_LOG !== "off",
    serverTiming: env.SERVER_TIMING ? env.SERVER_TIMING === "on" : environment !== "production",
    ops: loadOpsConfig(env, problems),
  };
  return problems.length ? { ok: false, problems } : { ok: true, config, warnings };
}
