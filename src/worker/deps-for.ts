/**
 * The worker's dependencies for a bindings object, built once per isolate and shared by the
 * fetch handler, the demo room and the RPC entrypoint. Keyed by the `env` object: a new
 * bindings object (tests, a redeploy) gets a fresh construction.
 */
import { loadDeps, type Loaded } from "./build.js";
import type { WorkerEnv } from "./env.js";

const pending = new WeakMap<object, Promise<Loaded>>();
const ready = new WeakMap<object, Loaded>();

/** The dependencies for these bindings if they are already built (the per-request fast path), else undefined. */
export function readyDepsFor(env: WorkerEnv): Loaded | undefined {
  return ready.get(env);
}

export function depsFor(env: WorkerEnv): Promise<Loaded> {
  let p = pending.get(env);
  if (!p) {
    p = loadDeps(env);
    pending.set(env, p);
    p.then((result) => ready.set(env, result), () => {});
    // A failed construction (a thrown error, not a config problem) must not be cached forever.
    p.catch(() => pending.delete(env));
  }
  return p;
}

/** The dependencies, or a thrown error for objects and RPC calls that cannot answer a 500 page. */
export async function requireDeps(env: WorkerEnv) {
  const loaded = await depsFor(env);
  if (!loaded.ok) throw new Error("edge-session is misconfigured");
  return loaded.deps;
}
