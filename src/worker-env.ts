import type { Env } from "./config.js";
import type { RealtimeRoom } from "./realtime/room.js";
import type { UserSockets } from "./realtime/user-sockets.js";

/**
 * The deployed worker's bindings: `Env` plus the Durable Object namespaces of the real-time
 * layer. Kept out of config.ts because `AppType` reaches `Env` and must type-check in front-end
 * projects with DOM types only, where Workers' `DurableObjectNamespace` does not exist.
 */
export interface WorkerEnv extends Env {
  /** The demo room objects behind `/ws` (src/realtime/room.ts). */
  ROOMS?: DurableObjectNamespace<RealtimeRoom>;
  /** One object per user: where that user's sockets are (src/realtime/user-sockets.ts). */
  USER_SOCKETS?: DurableObjectNamespace<UserSockets>;
}

