/**
 * Worker entry. Builds the app once per isolate from its bindings and serves it.
 * Also exported: the app factory and types for other Hono apps and `hc<AppType>()`.
 */
import { build, type Built } from "./build.js";
import type { Env } from "./config.js";
import type { App } from "./app.js";

const built = new WeakMap<object, Promise<Built>>();

/** The app for these bindings (built once, reused by every request of the isolate). */
export function appFor(env: Env): Promise<Built> {
  let b = built.get(env);
  if (!b) {
    b = build(env);
    built.set(env, b);
    // A failed build (e.g. a thrown import error) must not be cached forever.
    b.catch(() => built.delete(env));
  }
  return b;
}

export default {
  async fetch(request, env, ctx) {
    const b = await appFor(env);
    if (!b.ok) return b.response();
    return b.app.fetch(request, env, ctx);
  },
} satisfies ExportedHandler<Env>;

/** For `hc<AppType>()` from `hono/client`: typed calls to this worker. */
export type AppType = App;
export { createApp } from "./app.js";
export { build, buildDeps } from "./build.js";
