/**
 * A cache miss against read replicas: ONE command when the nearest replica proves itself fresh
 * (MGET of the session record, the store clock and the session's revocation mark), a second one
 * at the primary only when it cannot — the replica is beyond the bound or has no clock — or when
 * a fresh replica lacks the record (a session created within the bound, not replicated yet: a
 * 401 for it would end a good sign-in). What the primary answers is current by definition. A
 * primary that cannot answer is a `StoreError` (503): never a grant from unproven data, never a
 * 401 from a replica that may simply be behind.
 */
import { READ_AT_PRIMARY } from "./clock.js";
import { freshnessMetrics, isFresh, stalenessOf, type FreshnessMetrics } from "./freshness.js";
import type { KeySpace } from "../store/keys.js";
import type { RedisStore } from "../store/redis.js";

/** Read replicas: the freshness bound a verifier holds replica answers to, and its hooks. */
export interface FreshnessOptions {
  /**
   * The most a replica may be behind the primary for its answer to stand, in ms
   * (STORE_FRESHNESS_BOUND). At least the clock period (1 s) plus the usual replication lag, or
   * every miss pays a primary read. @default 2000 (DEFAULTS.storeFreshnessBound)
   */
  boundMs: number;
  /** Where the figures go. @default freshnessMetrics (this isolate's) */
  metrics?: FreshnessMetrics;
  /**
   * Told when a replica had no usable clock or an old one: the deployed worker starts its clock
   * writer from here if it is not running. Must not throw or wait. @default undefined
   */
  onStale?: (stalenessMs: number | null) => void;
}

export interface CheckedRead {
  /** The session record, or null when the session does not exist (at a fresh replica and at the primary). */
  record: string | null;
  /** The primary's time of the session's revocation, when a recent one is recorded. */
  revokedAt: number | null;
  /** Where the answer came from. */
  from: "replica" | "primary";
}

const num = (v: string | null | undefined) => (v && /^\d{1,16}$/.test(v) ? Number(v) : null);

/**
 * `atPrimary`: skip the replica — for the routes that must see the store as it is now (logout,
 * session management: `reader.read(token, true)`), one command at the primary.
 */
export async function readChecked(o: FreshnessOptions & { store: RedisStore; keys: KeySpace; sessionId: string; now: () => number; atPrimary?: boolean }): Promise<CheckedRead> {
  const metrics = o.metrics ?? freshnessMetrics;
  const sessionKey = o.keys.session(o.sessionId);
  const markKey = o.keys.markPrefix + o.sessionId;
  if (o.atPrimary) return readAtPrimary(o.store, sessionKey, markKey, null);
  const [record = null, clock = null, mark = null] = await o.store.mget([sessionKey, o.keys.clock, markKey]);
  const staleness = stalenessOf(clock, o.now());
  const fresh = isFresh(staleness, o.boundMs);
  metrics.replicaRead(staleness, fresh);
  if (fresh && record !== null) return { record, revokedAt: null, from: "replica" };
  if (fresh) metrics.confirmRead();
  else o.onStale?.(staleness);
  try {
    return await readAtPrimary(o.store, sessionKey, markKey, mark);
  } catch (error) {
    if (!fresh) metrics.staleRefusal();
    throw error;
  }
}

async function readAtPrimary(store: RedisStore, sessionKey: string, markKey: string, replicaMark: string | null): Promise<CheckedRead> {
  const reply = await store.run<[string, string]>(READ_AT_PRIMARY, [sessionKey, markKey], []);
  return { record: reply?.[0] || null, revokedAt: num(reply?.[1]) ?? num(replicaMark), from: "primary" };
}
