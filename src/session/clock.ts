/**
 * The store clock: the primary's own time, written every second into one key. A read replica
 * serves that key like any other, so a read of a session record together with the clock (one
 * MGET) says how far behind the replica that answered is, at no extra command. Replication is
 * ordered: a replica holding clock value c holds every write the primary made before c.
 *
 * Who writes it: the deployed worker's `StoreClock` Durable Object (src/worker/clock.ts), an alarm
 * each `CLOCK_PERIOD_MS`. A library user runs `advanceStoreClock()` on a timer of their own (an
 * alarm in any Durable Object of theirs: `runClockAlarm()`), see docs/REALTIME.md "Replicas".
 * When the writer stops, the clock ages and every replica read is judged stale: verification
 * goes to the primary (one more command per miss), never to a grant from unproven data.
 */
import type { RedisStore, StoreScript } from "../store/redis.js";

/** How often the clock advances. The freshness bound must leave room for it (freshness.ts). */
export const CLOCK_PERIOD_MS = 1000;
/**
 * The clock key's lifetime: past it, a clock nobody advances is gone rather than old (both are
 * stale to a reader). Long enough that a writer's missed beats never make it vanish.
 */
export const CLOCK_TTL_MS = 10 * 60_000;

/**
 * Writes the primary's TIME, in ms, to the clock key. Redis 7 replicates a script's effects, so
 * a replica gets the value written, not a TIME of its own. Running it twice is harmless.
 * KEYS: clock key. ARGV: ttl ms. Returns the value written.
 */
export const ADVANCE_CLOCK: StoreScript = {
  name: "advance-clock",
  retrySafe: true,
  source: `
local t = redis.call('TIME')
local ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('SET', KEYS[1], tostring(ms), 'PX', ARGV[1])
return ms
`,
};

/**
 * The session record read at the primary: EVAL and EVALSHA are served by the primary on Upstash
 * Global (and on the local store), so this is the read a stale or unsure replica answer falls
 * back to. KEYS: session key, revocation mark key. Returns {record or '', mark or ''}.
 */
export const READ_AT_PRIMARY: StoreScript = {
  name: "read-at-primary",
  retrySafe: true,
  source: "return {redis.call('GET', KEYS[1]) or '', redis.call('GET', KEYS[2]) or ''}",
};

/** Advances the store clock once; returns the primary's time written (ms). Throws `StoreError`. */
export async function advanceStoreClock(store: RedisStore, keys: { readonly clock: string }): Promise<number> {
  return Number(await store.run<number>(ADVANCE_CLOCK, [keys.clock], [CLOCK_TTL_MS]));
}

/** What `runClockAlarm` needs of a Durable Object's storage. */
export interface AlarmStorage {
  setAlarm(scheduledTime: number): Promise<void>;
  getAlarm(): Promise<number | null>;
}

/**
 * One beat of a clock writer living in a Durable Object's alarm: re-arms first (so a store
 * failure this beat never stops the writer), then advances the clock. Call it from `alarm()`,
 * and once from anywhere to start it (`ensureClockAlarm`).
 */
export async function runClockAlarm(storage: AlarmStorage, store: RedisStore, keys: { readonly clock: string }, periodMs = CLOCK_PERIOD_MS, now = Date.now): Promise<number | null> {
  await storage.setAlarm(now() + periodMs);
  try {
    return await advanceStoreClock(store, keys);
  } catch {
    return null;
  }
}

/** Starts the writer when no beat is scheduled (idempotent: a running writer is left as it is). */
export async function ensureClockAlarm(storage: AlarmStorage, now = Date.now): Promise<boolean> {
  if ((await storage.getAlarm()) !== null) return false;
  await storage.setAlarm(now());
  return true;
}
