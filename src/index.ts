/**
 * Worker entry: builds the app once per isolate from its bindings and serves it; exports the
 * `SessionVerifier` RPC entrypoint for service bindings, and `AppType` for `hc<AppType>()`.
 */
import { appFor, builtFor } from "./app-for.js";
import type { App } from "./app.js";
import type { WorkerEnv as Env } from "./worker-env.js";

export default {
  fetch(request, env, ctx) {
    // After the first request an isolate answers without awaiting anything of its own.
    const b = builtFor(env);
    if (b) return b.ok ? b.app.fetch(request, env, ctx) : b.response();
    return appFor(env).then((built) => (built.ok ? built.app.fetch(request, env, ctx) : built.response()));
  },
} satisfies ExportedHandler<Env>;

export { SessionVerifier } from "./rpc.js";
/** For `hc<AppType>()` from `hono/client`: typed calls to this worker. */
export type AppType = App;
/** Durable Objects of the real-time layer (bound in wrangler.toml; see docs/REALTIME.md). */
export { RealtimeRoom } from "./realtime/room.js";
export { UserSockets } from "./realtime/user-sockets.js";
