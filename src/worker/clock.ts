/**
 * `StoreClock`: the writer of the store clock (session/clock.ts) for the deployed worker, one
 * object per deployment and key prefix. Its alarm beats every second: re-arm, then a Lua TIME
 * write at the primary. Verifiers start it (`ensure`) whenever a replica shows no clock or an
 * old one, so a deployment needs no step of its own, and a writer lost with its object (a reset,
 * a migration) comes back at the next stale read. With STORE_FRESHNESS_BOUND off it stops.
 *
 * Cost: 86,400 store commands a day (one EVALSHA a beat) and as many alarm invocations.
 */
import { DurableObject } from "cloudflare:workers";
import { requireDeps } from "./deps-for.js";
import type { WorkerEnv as Env } from "./env.js";
import { ensureClockAlarm, runClockAlarm } from "../session/clock.js";
import { freshnessMetrics } from "../session/freshness.js";

/** The namespace binding of this class in wrangler.toml. */
export const CLOCK_BINDING = "STORE_CLOCK";

export class StoreClock extends DurableObject<Env> {
  /** Starts the beat if none is scheduled. Returns true when this call started it. */
  async ensure(): Promise<boolean> {
    return ensureClockAlarm(this.ctx.storage);
  }

  override async alarm(): Promise<void> {
    const deps = await requireDeps(this.env);
    if (deps.config.store.freshnessBoundMs === null) return;
    const written = await runClockAlarm(this.ctx.storage, deps.store, deps.keys);
    freshnessMetrics.clockBeat(written !== null);
    // This object's isolate rolls its metrics up like the worker's (its beats, its store commands).
    if (deps.rollup.due()) await deps.rollup.flush();
  }
}

