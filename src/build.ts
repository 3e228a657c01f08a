/**
 * Environment → dependencies → app, once per isolate (and again only if the bindings object
 * changes). Configuration errors become a worker that answers every request with one clear
 * 500, and the log says the same (never a silent default secret).
 */
import { createApp, type App } from "./app.js";
import { AccountStore } from "./auth/accounts.js";
import { createPasswordHasher } from "./auth/password.js";
import { createRateLimits } from "./auth/rate-limits.js";
import { loadConfig, type Config, type Env } from "./config.js";
import type { Deps } from "./deps.js";
import { keySpace } from "./session/keys.js";
import { followTimeoutFor, SessionManager } from "./session/manager.js";
import { createUpstashStore } from "./session/store.js";
import { createKeyRing } from "./token/key-ring.js";
import { TicketStore } from "./session/tickets.js";
import { SocketRegistry } from "./ws/registry.js";

export type Built = { ok: true; app: App; deps: Deps } | { ok: false; response: () => Response };

export interface BuildOverrides {
  /** The clock, for tests of expiry. @default Date.now */
  now?: () => number;
}

export async function buildDeps(config: Config, overrides: BuildOverrides = {}): Promise<Deps> {
  const now = overrides.now ?? Date.now;
  const store = createUpstashStore({ url: config.store.url, token: config.store.token, timeoutMs: config.store.timeoutMs });
  const keys = keySpace(config.store.prefix);
  const keyRing = await createKeyRing(config.sessionKeys);
  const sessions = new SessionManager({ store, keyRing, keys, policy: config.policy, cacheTtlMs: config.cacheTtlMs, followTimeoutMs: followTimeoutFor(config.store.timeoutMs), now });
  const sockets = new SocketRegistry();
  sessions.onEnded((ids) => sockets.closeSessions(ids));
  return {
    config,
    store,
    keys,
    sessions,
    accounts: new AccountStore(store, keys, now),
    passwords: await createPasswordHasher(config.pepper),
    rateLimits: createRateLimits({
      url: config.store.url,
      token: config.store.token,
      timeoutMs: config.store.timeoutMs,
      prefix: keys.rateLimit,
      rules: { loginAccount: config.rateLimits.loginPerAccount, loginIp: config.rateLimits.loginPerIp, registerIp: config.rateLimits.registerPerIp },
      now,
    }),
    tickets: new TicketStore(store, keys, config.ws.ticketTtlMs),
    sockets,
    now,
  };
}

export async function build(env: Env, overrides: BuildOverrides = {}): Promise<Built> {
  const loaded = loadConfig(env);
  if (!loaded.ok) {
    const message = `edge-session is misconfigured: ${loaded.problems.join("; ")}`;
    console.error(JSON.stringify({ level: "error", msg: "config", problems: loaded.problems }));
    return { ok: false, response: () => Response.json({ error: "misconfigured", message }, { status: 500 }) };
  }
  for (const warning of loaded.warnings) console.warn(`\n!!! ${warning}\n`);
  const deps = await buildDeps(loaded.config, overrides);
  return { ok: true, app: createApp(deps, loaded.config.requestLog ? {} : { log: null }), deps };
}
