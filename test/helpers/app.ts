/**
 * Builds the app in-test with overrides (a controllable clock, other settings) and the same
 * bindings the worker gets, so lifecycle tests can move time without waiting.
 */
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { build } from "../../src/worker/app.js";
import type { WorkerEnv as Env } from "../../src/worker/env.js";
import type { Deps } from "../../src/worker/deps.js";
import type { Fetch } from "./http.js";

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
