/**
 * The worker's dependencies for a bindings object, built once per isolate and shared by the
 * fetch handler, the demo room and the RPC entrypoint. Keyed by the `env` object: a new
 * bindings object (tests, a redeploy) gets a fresh construction.
 *
 * The construction for the bindings the isolate starts with begins while it starts (module
 * scope, through `cloudflare:workers`' env): Cloudflare starts an isolate during the TLS
 * handshake of its first request, so the configuration, key ring and store client are ready
 * before that request arrives instead of being built inside it. It does no I/O (the store
 * client connects at its first command). The fetch handler's `env` is another object with the
 * same bindings: it takes the startup construction when its bindings are the same
 * (`sameBindings`), and builds its own otherwise (tests that pass bindings of their own).
 */
import { env as startupEnv } from "cloudflare:workers";
import { loadDeps, type Loaded } from "./build.js";
import type { WorkerEnv } from "./env.js";

const pending = new WeakMap<object, Promise<Loaded>>();
const ready = new WeakMap<object, Loaded>();

/** The same variables with the same values, and the same binding names of the same kinds. */
export function sameBindings(a: object, b: object): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) {
    const x = (a as Record<string, unknown>)[k];
    const y = (b as Record<string, unknown>)[k];
    if (typeof x !== typeof y || (typeof x !== "object" && typeof x !== "function" && x !== y)) return false;
  }
  return true;
}

/** The construction begun at isolate start: its promise, and its result once it has one. */
let started: Loaded | undefined;
let startFailed = false;
const starting: Promise<Loaded> | undefined = (() => {
  try {
    const p = loadDeps(startupEnv as WorkerEnv);
    p.then(
      (l) => (started = l),
      () => (startFailed = true),
    );
    return p;
  } catch {
    // No bindings at module scope (not in a worker): every env builds its own.
    return undefined;
  }
})();

/** Takes the startup construction for `env` when its bindings are the startup ones. */
function adopt(env: WorkerEnv): boolean {
  if (!starting || startFailed || !sameBindings(env, startupEnv)) return false;
  pending.set(env, starting);
  if (started) ready.set(env, started);
  else starting.then((l) => ready.set(env, l), () => pending.delete(env));
  return true;
}

/** The dependencies for these bindings if they are already built (the per-request fast path), else undefined. */
export function readyDepsFor(env: WorkerEnv): Loaded | undefined {
  const r = ready.get(env);
  if (r !== undefined || pending.has(env) || !started) return r;
  return adopt(env) ? ready.get(env) : undefined;
}

/** What was built for the isolate's startup bindings (for the app built ahead in index.ts), or undefined. */
export function startupDeps(): Promise<Loaded> | undefined {
  return starting;
}

export function depsFor(env: WorkerEnv): Promise<Loaded> {
  let p = pending.get(env);
  if (!p && adopt(env)) p = pending.get(env);
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
