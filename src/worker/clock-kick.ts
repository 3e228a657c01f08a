/**
 * Starting the store clock's writer from the verify path (build.ts), apart from the object
 * itself (clock.ts): the object reaches the worker's dependencies, which the verify path is
 * part of, so one module holding both would close an import cycle.
 */
import type { StoreClock } from "./clock.js";

/** The least time between two starts asked by one isolate: a running writer needs none. */
const KICK_EVERY_MS = 5000;
let lastKick = -Infinity;

/**
 * Asks the deployment's clock object to run, at most once per `KICK_EVERY_MS` per isolate.
 * Never waits and never throws: the verifier that noticed a stale clock has already gone to the
 * primary for its answer.
 */
export function kickClock(ns: DurableObjectNamespace<StoreClock> | undefined, prefix: string, now = Date.now()): void {
  if (!ns || now - lastKick < KICK_EVERY_MS) return;
  lastKick = now;
  ns.get(ns.idFromName(`clock:${prefix}`))
    .ensure()
    .catch((error: unknown) => console.warn(JSON.stringify({ level: "warn", msg: "store clock start failed", error: String(error) })));
}
