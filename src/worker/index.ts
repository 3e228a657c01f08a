/**
 * The deployed worker: one app built from the library (see README, "Architecture"). The app is
 * built once per isolate from its bindings; the Durable Objects and the RPC entrypoint that
 * wrangler.toml binds are exported here.
 */
import { createApp, type App } from "./app.js";
import type { Deps } from "./deps.js";
import { depsFor, readyDepsFor, startupDeps } from "./deps-for.js";
import type { WorkerEnv as Env } from "./env.js";

const apps = new WeakMap<object, App>();

/**
 * The app for the startup bindings, built as soon as their dependencies are (deps-for.ts), with
 * its router's matchers made by one match: a request that takes these dependencies takes this
 * app too, ready to route.
 */
let startupApp: { deps: Deps; app: App } | undefined;
startupDeps()?.then(
  (loaded) => {
    if (!loaded.ok) return;
    const app = createApp(loaded.deps);
    app.router.match("GET", "/api/hello");
    startupApp = { deps: loaded.deps, app };
  },
  () => {},
);

function appOf(deps: Deps, env: Env): App {
  let app = apps.get(env);
  if (!app) apps.set(env, (app = startupApp?.deps === deps ? startupApp.app : createApp(deps)));
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
