/** What the routes need, built once per isolate from the configuration (see index.ts). */
import type { AccountStore } from "./auth/accounts.js";
import type { PasswordHasher } from "./auth/password.js";
import type { Config } from "./config.js";
import type { SessionManager } from "./session/manager.js";
import type { SessionStoreClient } from "./session/store.js";
import type { KeySpace } from "./session/keys.js";
import type { SessionVariables } from "./middleware/session-auth.js";
import type { RateLimits } from "./auth/rate-limits.js";
import type { Env } from "./config.js";
import type { TicketStore } from "./session/tickets.js";
import type { SocketRegistry } from "./ws/registry.js";

export interface Deps {
  config: Config;
  store: SessionStoreClient;
  keys: KeySpace;
  sessions: SessionManager;
  accounts: AccountStore;
  passwords: PasswordHasher;
  rateLimits: RateLimits;
  tickets: TicketStore;
  /** This isolate's live sockets, closed at once when their session ends here. */
  sockets: SocketRegistry;
  now: () => number;
}

export type AppEnv = { Bindings: Env; Variables: SessionVariables & { deps: Deps } };
