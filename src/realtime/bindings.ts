import type { UserSocketsNamespace } from "./gate.js";
import type { RealtimeRoom } from "./room.js";

/** The namespaces of the real-time layer, from wrangler.toml's bindings (docs/REALTIME.md). */
export interface RealtimeBindings {
  /** The demo room behind `/ws` (null in a worker that only hosts objects of its own). */
  rooms: DurableObjectNamespace<RealtimeRoom> | null;
  /** Where revocations are pushed: required for any real-time use. */
  users: UserSocketsNamespace;
}
