/** What the routes need: the session core plus the worker's accounts, limits and sockets. Built once per isolate (build.ts). */
import type { SessionCore } from "./assemble.js";
import type { AccountStore } from "./auth/accounts.js";
import type { PasswordHasher } from "./auth/password.js";
import type { RateLimits } from "./auth/rate-limits.js";
import type { Config, Env } from "./config.js";
import type { SessionVariables } from "./credentials/session-auth.js";
import type { SocketRegistry } from "./ws/registry.js";
import type { TokenSource } from "./credentials/sources.js";
import type { UserSocketsNamespace } from "./realtime/gate.js";
import type { RealtimeRoom } from "./realtime/room.js";

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
  /** The Durable Objects of the real-time layer (null: no USER_SOCKETS binding, no push, `/ws` answers 503). */
  realtime: RealtimeBindings | null;
}

/** The namespaces of the real-time layer, from wrangler.toml's bindings (docs/REALTIME.md). */
export interface RealtimeBindings {
  /** The demo room behind `/ws` (null in a worker that only hosts objects of its own). */
  rooms: DurableObjectNamespace<RealtimeRoom> | null;
  /** Where revocations are pushed: required for any real-time use. */
  users: UserSocketsNamespace;
}

/** Route factories receive `Deps`; the context carries only per-request values. */
export type AppEnv = { Bindings: Env; Variables: SessionVariables };
