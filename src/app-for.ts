/** The app for a bindings object, built once per isolate and shared by fetch and RPC. */
import { build, type Built } from "./build.js";
import type { WorkerEnv as Env } from "./worker-env.js";

const built = new WeakMap<object, Promise<Built>>();
const ready = new WeakMap<object, Built>();

/** The app for these bindings if it is already built (the per-request fast path), else undefined. */
export function builtFor(env: Env): Built | undefined {
  return ready.get(env);
}

export function appFor(env: Env): Promise<Built> {
  let b = built.get(env);
  if (!b) {
    b = build(env);
    built.set(env, b);
    b.then((result) => ready.set(env, result), () => {});
    // A failed build (a thrown error, not a config problem) must not be cached forever.
    b.catch(() => built.delete(env));
  }
  return b;
}
