import type { Env } from "./config.js";
import type { RealtimeRoom } from "./room.js";
import type { UserSockets } from "../realtime/user-sockets.js";
import type { StoreClock } from "./clock.js";
import type { UserSocketsNamespace } from "../realtime/gate.js";

/**
 * The deployed worker's bindings: `Env` plus the Durable Object namespaces of the real-time
 * layer. Kept out of config.ts because `AppType` reaches `Env` and must type-check in front-end
 * projects with DOM types only, where Workers' `DurableObjectNamespace` does not exist.
 */
export interface WorkerEnv extends Env {
  /** The demo room objects behind `/ws` (room.ts). */
  ROOMS?: DurableObjectNamespace<RealtimeRoom>;
  /** One object per user: where that user's sockets are (src/realtime/user-sockets.ts). */
  USER_SOCKETS?: DurableObjectNamespace<UserSockets>;
  /** The store clock's writer, for read replicas (clock.ts; STORE_FRESHNESS_BOUND). */
  STORE_CLOCK?: DurableObjectNamespace<StoreClock>;
  /** A Workers Analytics Engine dataset for the metrics (docs/OPERATIONS.md); optional. */
  ANALYTICS?: AnalyticsEngineDataset;
}


/** The namespaces of the real-time layer, from wrangler.toml's bindings (docs/REALTIME.md). */
export interface RealtimeBindings {
  /** The demo room behind `/ws` (null in a worker that only hosts objects of its own). */
  rooms: DurableObjectNamespace<RealtimeRoom> | null;
  /** Where revocations are pushed: required for any real-time use. */
  users: UserSocketsNamespace;
}
