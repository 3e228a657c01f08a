/**
 * The isolate's metrics: named counters and latency histograms that any part of the code records
 * into (`metrics.count("verify.hit")`, `metrics.observe("store", ms)`), drained once a minute by
 * the rollup (rollup.ts). Recording is a Map update on plain data: no I/O, no await, no
 * allocation once a name has been seen, so the cache-hit path can afford it. Module state is
 * per isolate and best-effort (an evicted isolate loses what it had not flushed).
 */

/**
 * Upper bounds (ms) of the latency buckets; one more bucket holds everything above the last.
 * Fixed bounds make histograms from many isolates add up exactly, so percentiles can be read
 * from the sum (a reservoir of samples could not be merged).
 */
export const LATENCY_BOUNDS_MS: readonly number[] = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 30000];

/** A latency series for one period: how many, their sum and largest (ms), and the bucket counts. */
export interface Histogram {
  n: number;
  sum: number;
  max: number;
  /** `LATENCY_BOUNDS_MS.length + 1` counts: bucket i holds samples ≤ bound i (the last: above all). */
  buckets: number[];
}

export interface MetricsSnapshot {
  /** When the period began and ended (ms since epoch). */
  from: number;
  to: number;
  counters: Record<string, number>;
  latencies: Record<string, Histogram>;
}

/** Most distinct names kept: a bug that makes names from input must not grow memory without end. */
const MAX_NAMES = 512;

export function bucketOf(ms: number): number {
  let i = 0;
  while (i < LATENCY_BOUNDS_MS.length && ms > LATENCY_BOUNDS_MS[i]!) i++;
  return i;
}

export class MetricsRegistry {
  private counters = new Map<string, number>();
  private latencies = new Map<string, Histogram>();
  private since: number;
  /** Off: nothing is recorded (the benchmark's baseline, METRICS=off). */
  enabled = true;

  constructor(private readonly now: () => number = Date.now) {
    this.since = now();
  }

  /** Adds `n` to the counter `name`. */
  count(name: string, n = 1): void {
    if (!this.enabled) return;
    const v = this.counters.get(name);
    if (v !== undefined) this.counters.set(name, v + n);
    else if (this.counters.size < MAX_NAMES) this.counters.set(name, n);
  }

  /** Records one latency sample (ms) under `name`; its count doubles as the number of events. */
  observe(name: string, ms: number): void {
    if (!this.enabled) return;
    let h = this.latencies.get(name);
    if (!h) {
      if (this.latencies.size >= MAX_NAMES) return;
      h = { n: 0, sum: 0, max: 0, buckets: new Array(LATENCY_BOUNDS_MS.length + 1).fill(0) };
      this.latencies.set(name, h);
    }
    const v = ms > 0 ? ms : 0;
    h.n++;
    h.sum += v;
    if (v > h.max) h.max = v;
    h.buckets[bucketOf(v)]!++;
  }

  /** True when nothing was recorded since the last `take()`. */
  get empty(): boolean {
    return this.counters.size === 0 && this.latencies.size === 0;
  }

  /** Everything recorded since the last take, and a fresh period. */
  take(): MetricsSnapshot {
    const to = this.now();
    const snapshot: MetricsSnapshot = { from: this.since, to, counters: Object.fromEntries(this.counters), latencies: Object.fromEntries(this.latencies) };
    this.counters = new Map();
    this.latencies = new Map();
    this.since = to;
    return snapshot;
  }
}

/** The quantile `q` (0–1) of a histogram, as the upper bound of the bucket it falls in (ms); null when empty. */
export function quantile(buckets: readonly number[], q: number): number | null {
  const total = buckets.reduce((a, b) => a + b, 0);
  if (!total) return null;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (let i = 0; i < buckets.length; i++) {
    seen += buckets[i]!;
    if (seen >= rank) return i < LATENCY_BOUNDS_MS.length ? LATENCY_BOUNDS_MS[i]! : Infinity;
  }
  return Infinity;
}

/** The isolate's registry: import it and record. */
export const metrics = new MetricsRegistry();
