/**
 * Environment → configuration → dependencies. No routes here: the entry (index.ts), the demo room
 * and the RPC entrypoint all reach the same dependencies through `depsFor(env)` (deps-for.ts)
 * without building the Hono app, so nothing that the app imports imports the app back.
 * Configuration errors become one clear 500 for every request, and the log says the same
 * (never a silent default secret).
 */
import { assembleCore } from "../session/core.js";
import { AccountStore } from "../accounts/accounts.js";
import { createPasswordHasher } from "../accounts/password.js";
import { createRateLimits, limitRules } from "../accounts/rate-limits.js";
import { loadConfig, type Config } from "./config.js";
import type { Deps } from "./deps.js";
import type { RealtimeBindings, WorkerEnv } from "./env.js";
import { pushSessionsEnded } from "../realtime/gate.js";
import { createUpstashStore } from "../store/redis.js";
import { SocketRegistry } from "../realtime/relay-registry.js";
import { cookieSource } from "../credentials/cookie-source.js";
import { authorizationSource } from "../credentials/dpop-source.js";
import { kickClock } from "./clock-kick.js";
import { MetricsRollup, type AnalyticsDataset } from "../metrics/rollup.js";
import { metrics } from "../metrics/registry.js";

/** The worker's dependencies, or the answer every request gets when the configuration is bad. */
export type Loaded = { ok: true; deps: Deps } | { ok: false; response: () => Response };

export interface BuildOverrides {
  /** The clock, for tests of expiry. @default Date.now */
  now?: () => number;
  /** The real-time layer's namespaces; build() takes them from `env` (ROOMS, USER_SOCKETS). @default null */
  realtime?: RealtimeBindings | null;
  /** Starts the store clock's writer when a replica shows a stale clock (env.STORE_CLOCK). @default none */
  onStaleClock?: () => void;
  /** A Workers Analytics Engine dataset for the metrics; loadDeps() takes `env.ANALYTICS`. @default null */
  dataset?: AnalyticsDataset | null;
}

export async function buildDeps(config: Config, overrides: BuildOverrides = {}): Promise<Deps> {
  // One client for sessions, accounts and the rate limiter.
  const store = createUpstashStore({ url: config.store.url, token: config.store.token, timeoutMs: config.store.timeoutMs });
  const core = await assembleCore({
    store,
    storeTimeoutMs: config.store.timeoutMs,
    sessionKeys: config.sessionKeys,
    prefix: config.store.prefix,
    policy: config.policy,
    cacheTtlMs: config.cacheTtlMs,
    ticketTtlMs: config.ws.ticketTtlMs,
    maxTicketsPerUser: config.ws.maxTicketsPerUser,
    now: overrides.now,
    freshness: config.store.freshnessBoundMs === null ? undefined : { boundMs: config.store.freshnessBoundMs, onStale: overrides.onStaleClock },
    auditRetentionMs: config.ops.auditRetentionMs,
  });
  const rollup = new MetricsRollup({
    store,
    keys: core.opsKeys,
    intervalMs: config.ops.rollupIntervalMs,
    dataset: overrides.dataset ?? null,
    primaryKid: core.keyRing.signerKid,
    auditRetentionMs: config.ops.auditRetentionMs,
    now: core.now,
    enabled: config.ops.metrics,
  });
  // The registry is the isolate's: a worker configured without metrics records nothing at all.
  if (!config.ops.metrics) metrics.enabled = false;
  // Gateway-relayed sockets of this isolate: a flag their watchers see at once.
  const sockets = new SocketRegistry();
  core.sessions.onEnded(({ sessionIds }) => sockets.closeSessions(sessionIds));
  const cookie = cookieSource({ sameSite: config.cookie.sameSite, trustedOrigins: config.cookie.trustedOrigins });
  // Sockets held by Durable Objects, wherever they are: pushed through the user's object. Every
  // path that ends sessions comes through the manager, so this one subscription covers them all.
  const realtime = overrides.realtime ?? null;
  if (realtime) core.sessions.onEnded((event) => pushSessionsEnded(realtime.users, event));
  return {
    ...core,
    config,
    accounts: new AccountStore(store, core.keys, core.now, core.audit),
    rollup,
    passwords: await createPasswordHasher(config.pepper),
    rateLimits: createRateLimits({
      store,
      prefix: core.keys.rateLimit,
      rules: limitRules(config.rateLimits, config.ws),
      now: core.now,
    }),
    sockets,
    // `Authorization: Bearer|DPoP`, then the cookie.
    sources: [authorizationSource, cookie],
    cookie,
    realtime,
  };
}

export async function loadDeps(env: WorkerEnv, overrides: BuildOverrides = {}): Promise<Loaded> {
  const loaded = loadConfig(env);
  if (!loaded.ok) {
    const message = `edge-session is misconfigured: ${loaded.problems.join("; ")}`;
    console.error(JSON.stringify({ level: "error", msg: "config", problems: loaded.problems }));
    return { ok: false, response: () => Response.json({ error: "misconfigured", message }, { status: 500 }) };
  }
  // Once per isolate, at its start: a configuration warning is one JSON line an operator can alert on.
  for (const warning of loaded.warnings) console.warn(JSON.stringify({ level: "warn", msg: "config", warning }));
  const realtime = env.USER_SOCKETS ? { rooms: env.ROOMS ?? null, users: env.USER_SOCKETS } : null;
  const prefix = loaded.config.store.prefix;
  const onStaleClock = () => kickClock(env.STORE_CLOCK, prefix);
  const deps = await buildDeps(loaded.config, { realtime, onStaleClock, dataset: env.ANALYTICS ?? null, ...overrides });
  return { ok: true, deps };
}
