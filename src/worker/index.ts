/**
 * The deployed worker: one app built from the library (see README, "Architecture"). The app is
 * built once per isolate from its bindings; the Durable Objects and the RPC entrypoint that
 * wrangler.toml binds are exported here.
 */
import { createApp, type App } from "./app.js";
import { depsFor, readyDepsFor } from "./deps-for.js";
import type { WorkerEnv as Env } from "./env.js";

const apps = new WeakMap<object, App>();

function appOf(deps: Parameters<typeof createApp>[0], env: Env): App {
  let app = apps.get(env);
  if (!app) apps.set(env, (app = createApp(deps)));
  return app;
}

export default {
  fetch(request, env, ctx) {
    // After the first request an isolate answers without awaiting anything of its own.
    const ready = readyDepsFor(env);
    if (ready) {
      if (!ready.ok) return ready.response();
      // One comparison per request; once a minute per isolate, the rollup runs after the response.
      if (ready.deps.rollup.due()) ctx.waitUntil(ready.deps.rollup.flush());
      return appOf(ready.deps, env).fetch(request, env, ctx);
    }
    return depsFor(env).then((loaded) => (loaded.ok ? appOf(loaded.deps, env).fetch(request, env, ctx) : loaded.response()));
  },
} satisfies ExportedHandler<Env>;

export { SessionVerifier } from "./rpc.js";
/** For `hc<AppType>()` from `hono/client`: typed calls to this worker. */
export type AppType = App;
/** Durable Objects of the real-time layer (bound in wrangler.toml; see docs/REALTIME.md). */
export { RealtimeRoom } from "./room.js";
export { UserSockets } from "../realtime/user-sockets.js";
/** The store clock's writer (read replicas; STORE_FRESHNESS_BOUND, docs/REALTIME.md). */
export { StoreClock } from "./clock.js";
