/**
 * The startup construction (src/worker/deps-for.ts) goes only to a fetch env with the startup
 * bindings: a bindings object with another value builds its own, so a test's or a preview's
 * settings are never served with another env's keys.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { depsFor, sameBindings } from "../../src/worker/deps-for.js";
import type { WorkerEnv } from "../../src/worker/env.js";

describe("sameBindings", () => {
  it("same names, same variable values, same kinds of binding", () => {
    const ns = { get() {} };
    expect(sameBindings({ A: "1", NS: ns }, { A: "1", NS: { get() {} } })).toBe(true);
    expect(sameBindings({ A: "1" }, { A: "2" })).toBe(false);
    expect(sameBindings({ A: "1" }, { A: "1", B: "2" })).toBe(false);
    expect(sameBindings({ A: "1", B: "2" }, { A: "1", C: "2" })).toBe(false);
    expect(sameBindings({ A: "1" }, { A: ns })).toBe(false);
  });
});

describe("depsFor: the startup construction", () => {
  it("a copy of the worker's own bindings gets the very same dependencies; other values get their own", async () => {
    const own = await depsFor({ ...(env as unknown as WorkerEnv) });
    const again = await depsFor({ ...(env as unknown as WorkerEnv) });
    expect(own.ok && again.ok && own.deps === again.deps).toBe(true);
    const other = await depsFor({ ...(env as unknown as WorkerEnv), SESSION_CACHE_TTL: "2 s" });
    expect(other.ok && own.ok && other.deps !== own.deps).toBe(true);
    expect(other.ok && other.deps.config.cacheTtlMs).toBe(2000);
  });
});
