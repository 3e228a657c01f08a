/**
 * Replica freshness: how a verifier knows the data it read is recent enough, and what it
 * measured doing so — plain counters and gauges for a metrics module to pick up.
 *
 * The judgment (docs/REALTIME.md "Read replicas"): a session record read from a replica comes with
 * the store clock read in the same MGET (clock.ts). `now - clock` bounds how far behind the replica
 * is; within `boundMs` its answer stands, beyond it (or with no clock at all) the record is read
 * again at the primary. A revocation committed at the primary before the clock value a replica
 * holds is in that replica, so a grant from replica data happens no later than `boundMs` after
 * any revocation: the HTTP bound is SESSION_CACHE_TTL + STORE_FRESHNESS_BOUND (+ the skew between
 * the worker's clock and the primary's), whatever the replication lag, a partition included.
 */

import { M } from "../metrics/names.js";
import { metrics } from "../metrics/registry.js";

/** Where the figures are also recorded for the operators (the isolate's metrics registry), so they roll up and chart. */
export interface FreshnessSink {
  /** Adds one to the counter `name`. */
  count(name: string): void;
  /** Records one latency sample (ms) under `name`. */
  observe(name: string, ms: number): void;
}

/** A summary of observed durations in ms: count, sum, max and the last one. */
export interface Observed {
  count: number;
  sumMs: number;
  maxMs: number;
  lastMs: number;
}

/** What one isolate measured since it started (or since `reset()`). */
export interface FreshnessSnapshot {
  /** Cache misses read from the store with the clock (one MGET each). */
  replicaReads: number;
  /** …whose replica was within the bound. */
  freshReads: number;
  /** …whose replica was beyond the bound or had no clock: read again at the primary. */
  staleReads: number;
  /** …with no clock at all (the writer never ran, or stopped more than its key's lifetime ago). */
  clockMissing: number;
  /** Records a fresh replica did not have, confirmed at the primary (a session newer than the replica). */
  confirmReads: number;
  /** Primary reads that failed after a stale replica: answered 503, never a grant, never a 401. */
  staleRefusals: number;
  /** How far behind the replica was at each replica read (now − clock). */
  stalenessMs: Observed;
  /** Revocation → the first refusal, in this isolate, of a token it had been granting. */
  revocationToRefusalMs: Observed;
  /** Revocation → the close of a socket held for that session (in the object holding it). */
  revocationToCloseMs: Observed;
  /** Clock writer beats run here. */
  clockBeats: number;
  /** …and those whose store write failed. */
  clockFailures: number;
}

const observed = (): Observed => ({ count: 0, sumMs: 0, maxMs: 0, lastMs: 0 });

function observe(o: Observed, ms: number): void {
  const v = Math.max(0, ms);
  o.count++;
  o.sumMs += v;
  o.lastMs = v;
  if (v > o.maxMs) o.maxMs = v;
}

/** Counters and gauges of one isolate; the recording methods are called by the reader, the clock writer and the socket hosts. */
export class FreshnessMetrics {
  private s = FreshnessMetrics.empty();

  /**
   * @param sink Also record every figure here (counters and latency histograms by the names in
   *   metrics/names.ts). The isolate's instance records into the isolate's metrics registry, so the
   *   rollup carries them to the console; an instance of its own (a test, a library user) does
   *   not unless given one. @default null
   */
  constructor(private readonly sink: FreshnessSink | null = null) {}

  private static empty(): FreshnessSnapshot {
    return {
      replicaReads: 0,
      freshReads: 0,
      staleReads: 0,
      clockMissing: 0,
      confirmReads: 0,
      staleRefusals: 0,
      stalenessMs: observed(),
      revocationToRefusalMs: observed(),
      revocationToCloseMs: observed(),
      clockBeats: 0,
      clockFailures: 0,
    };
  }

  /** A copy of the figures (safe to serialise). */
  snapshot(): FreshnessSnapshot {
    return structuredClone(this.s);
  }

  reset(): void {
    this.s = FreshnessMetrics.empty();
  }

  replicaRead(stalenessMs: number | null, fresh: boolean): void {
    this.s.replicaReads++;
    if (fresh) this.s.freshReads++;
    else this.s.staleReads++;
    this.sink?.count(fresh ? M.replicaFresh : M.replicaStale);
    if (stalenessMs === null) {
      this.s.clockMissing++;
      this.sink?.count(M.replicaClockMissing);
    } else {
      observe(this.s.stalenessMs, stalenessMs);
      this.sink?.observe(M.replicaStaleness, stalenessMs);
    }
  }

  confirmRead(): void {
    this.s.confirmReads++;
    this.sink?.count(M.replicaConfirm);
  }

  staleRefusal(): void {
    this.s.staleRefusals++;
    this.sink?.count(M.replicaStaleRefusal);
  }

  revocationToRefusal(ms: number): void {
    observe(this.s.revocationToRefusalMs, ms);
    this.sink?.observe(M.revocationToRefusal, ms);
  }

  revocationToClose(ms: number): void {
    observe(this.s.revocationToCloseMs, ms);
    this.sink?.observe(M.revocationToClose, ms);
  }

  clockBeat(ok: boolean): void {
    this.s.clockBeats++;
    if (!ok) this.s.clockFailures++;
    this.sink?.count(ok ? M.clockBeat : M.clockFailed);
  }
}

/**
 * This isolate's figures: the reader, the clock writer and the socket hosts all record here, and
 * through it into the isolate's metrics registry (one place for the operators: the rollup and
 * the console read the lags and the replica figures from there).
 */
export const freshnessMetrics = new FreshnessMetrics(metrics);

/** How far behind a replica is, from the clock value it served (null: no usable clock). */
export function stalenessOf(clock: string | null, now: number): number | null {
  if (clock === null || !/^\d{1,16}$/.test(clock)) return null;
  return now - Number(clock);
}

/** Within the bound? A clock from the future (skew) counts as fresh: it is at least as new as now. */
export function isFresh(stalenessMs: number | null, boundMs: number): boolean {
  return stalenessMs !== null && stalenessMs <= boundMs;
}
