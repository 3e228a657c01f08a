/** What the routes need: the session core plus the worker's accounts, limits and sockets. Built once per isolate (build.ts). */
import type { SessionCore } from "../session/core.js";
import type { AccountStore } from "../accounts/accounts.js";
import type { PasswordHasher } from "../accounts/password.js";
import type { RateLimits } from "../accounts/rate-limits.js";
import type { Config, Env } from "./config.js";
import type { SessionVariables } from "../credentials/middleware.js";
import type { SocketRegistry } from "../realtime/relay-registry.js";
import type { TokenSource } from "../credentials/sources.js";
import type { MetricsRollup } from "../metrics/rollup.js";

export interface Deps extends SessionCore {
  config: Config;
  accounts: AccountStore;
  passwords: PasswordHasher;
  rateLimits: RateLimits;
  /** This isolate's gateway-relayed sockets, closed at once when their session ends here. */
  sockets: SocketRegistry;
  /** Where an HTTP request's credential may come from, in order: `Authorization`, then the session cookie. */
  sources: readonly TokenSource[];
  /** The session cookie source alone (the WebSocket handshake reads it after the ticket). */
  cookie: TokenSource;
  /**
   * The Durable Objects of the real-time layer, a `RealtimeBindings` (env.ts), or
   * null: no USER_SOCKETS binding, no push, `/ws` answers 503. Typed `unknown` here because
   * `AppType` reaches `Deps` and must type-check with DOM types only; routes/ws.ts reads it.
   */
  realtime: unknown;
  /** This isolate's metrics rollup (metrics/rollup.ts): the entry calls it when due. */
  rollup: MetricsRollup;
}

/** Route factories receive `Deps`; the context carries only per-request values. */
export type AppEnv = { Bindings: Env; Variables: SessionVariables };
