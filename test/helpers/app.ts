/**
 * Builds the app in-test with overrides (a controllable clock, other settings) and the same
 * bindings the worker gets, so lifecycle tests can move time without waiting.
 */
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { createApp, type App } from "../../src/worker/app.js";
import { loadDeps, type BuildOverrides } from "../../src/worker/build.js";
import type { WorkerEnv as Env } from "../../src/worker/env.js";
import type { Deps } from "../../src/worker/deps.js";
import type { Fetch } from "./http.js";

export type Built = { ok: true; app: App; deps: Deps } | { ok: false; response: () => Response };

/** Bindings → app in one call, as the entry does it (src/worker/index.ts caches the two steps apart). */
export async function build(env: Env, overrides: BuildOverrides = {}): Promise<Built> {
  const loaded = await loadDeps(env, overrides);
  return loaded.ok ? { ok: true, app: createApp(loaded.deps), deps: loaded.deps } : loaded;
}

export class Clock {
  constructor(public t = Date.now()) {}
  now = () => this.t;
  advance(ms: number) {
    this.t += ms;
  }
}

export async function testApp(overrides: Partial<Env> = {}, clock?: Clock): Promise<{ fetch: Fetch; deps: Deps; env: Env }> {
  const e = { ...(env as unknown as Env), ...overrides };
  const built = await build(e, clock ? { now: clock.now } : {});
  if (!built.ok) throw new Error(`test app misconfigured: ${await built.response().text()}`);
  const fetch: Fetch = async (req) => {
    const ctx = createExecutionContext();
    const res = await built.app.fetch(req, e, ctx);
    await waitOnExecutionContext(ctx);
    return res;
  };
  return { fetch, deps: built.deps, env: e };
}
