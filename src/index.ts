/**
 * Worker entry: builds the app once per isolate from its bindings and serves it; exports the
 * `SessionVerifier` RPC entrypoint for service bindings, and `AppType` for `hc<AppType>()`.
 */
import { appFor } from "./app-for.js";
import type { App } from "./app.js";
import type { Env } from "./config.js";

export default {
  async fetch(request, env, ctx) {
    const b = await appFor(env);
    if (!b.ok) return b.response();
    return b.app.fetch(request, env, ctx);
  },
} satisfies ExportedHandler<Env>;

export { SessionVerifier } from "./rpc.js";
/** For `hc<AppType>()` from `hono/client`: typed calls to this worker. */
export type AppType = App;
