/**
 * Once per interval per isolate, what the registry holds leaves it: to Workers Analytics Engine
 * when a dataset is bound (no store cost), and to small per-minute and per-ten-minute hashes in
 * the store that the admin console reads without a Cloudflare account (one command per isolate
 * per interval, METRICS_ROLLUP). The check on the request path is one comparison of numbers.
 */
import type { OpsKeySpace } from "../store/keys.js";
import { METRICS_ROLLUP } from "../store/ops-scripts.js";
import type { RedisStore } from "../store/redis.js";
import { M } from "./names.js";
import { metrics as isolateMetrics, type MetricsRegistry, type MetricsSnapshot } from "./registry.js";

export const MINUTE_MS = 60_000;
export const TEN_MINUTES_MS = 600_000;
/** Minute hashes serve the last-hour chart, ten-minute hashes the last-day one; each outlives its chart. */
const MINUTE_TTL_MS = 3 * 3_600_000;
const TEN_MINUTES_TTL_MS = 26 * 3_600_000;

/** What Workers' `AnalyticsEngineDataset` offers, structurally (front-end type checks see no Workers types). */
export interface AnalyticsDataset {
  writeDataPoint(point: { indexes?: string[]; blobs?: string[]; doubles?: number[] }): void;
}

export interface RollupOptions {
  store: RedisStore;
  keys: OpsKeySpace;
  /** @default the isolate's registry */
  registry?: MetricsRegistry;
  /** Least time between two rollups of this isolate, ms. @default 60000 */
  intervalMs?: number;
  /** A bound Analytics Engine dataset. @default null */
  dataset?: AnalyticsDataset | null;
  /** The signing key id this isolate issues with: a new one is audited as a rotation. @default none */
  primaryKid?: string;
  /** Audit retention (ms) when audit is on: the rotation event is trimmed like the others. @default null */
  auditRetentionMs?: number | null;
  /** @default Date.now */
  now?: () => number;
  /** Off: never due, never sends (METRICS=off). @default true */
  enabled?: boolean;
}

/** The hash fields of a snapshot: `c|name` counts; `n|`, `s|` (ms) and `h|name|bucket` for latencies. */
export function rollupFields(s: MetricsSnapshot): (string | number)[] {
  const out: (string | number)[] = [];
  for (const [name, v] of Object.entries(s.counters)) out.push(`c|${name}`, v);
  for (const [name, h] of Object.entries(s.latencies)) {
    out.push(`n|${name}`, h.n, `s|${name}`, Math.round(h.sum));
    h.buckets.forEach((b, i) => b && out.push(`h|${name}|${i}`, b));
  }
  return out;
}

/**
 * Analytics Engine rows, one per name: index and blob1 = name, blob2 = `counter` | `latency`,
 * double1 = count, double2 = sum ms, double3 = max ms, double4… = bucket counts (docs/OPERATIONS.md).
 */
export function analyticsPoints(s: MetricsSnapshot): { indexes: string[]; blobs: string[]; doubles: number[] }[] {
  const points = Object.entries(s.counters).map(([name, v]) => ({ indexes: [name], blobs: [name, "counter"], doubles: [v] }));
  for (const [name, h] of Object.entries(s.latencies)) points.push({ indexes: [name], blobs: [name, "latency"], doubles: [h.n, h.sum, h.max, ...h.buckets] });
  return points;
}

export class MetricsRollup {
  private nextAt: number;
  private readonly now: () => number;
  private readonly intervalMs: number;
  private readonly registry: MetricsRegistry;
  private kidNoted = false;

  constructor(private readonly o: RollupOptions) {
    this.now = o.now ?? Date.now;
    this.intervalMs = o.intervalMs ?? MINUTE_MS;
    this.registry = o.registry ?? isolateMetrics;
    this.nextAt = o.enabled === false ? Infinity : this.now() + this.intervalMs;
  }

  /** Whether a rollup is due (cheap: call it on every request). */
  due(now = Date.now()): boolean {
    return now >= this.nextAt;
  }

  /**
   * Sends what was recorded since the last rollup. Never throws: a failed rollup is logged and
   * its counts are lost (metrics must never fail a request).
   */
  async flush(): Promise<void> {
    if (this.nextAt === Infinity) return;
    const now = this.now();
    this.nextAt = now + this.intervalMs;
    if (this.registry.empty && this.kidNoted) return;
    const snapshot = this.registry.take();
    if (this.o.dataset) {
      try {
        for (const p of analyticsPoints(snapshot)) this.o.dataset.writeDataPoint(p);
      } catch (error) {
        console.warn(JSON.stringify({ level: "warn", msg: "analytics engine write failed", error: String(error) }));
      }
    }
    const minute = Math.floor(now / MINUTE_MS) * MINUTE_MS;
    const ten = Math.floor(now / TEN_MINUTES_MS) * TEN_MINUTES_MS;
    const retention = this.o.auditRetentionMs ?? null;
    const noteKid = !this.kidNoted && this.o.primaryKid !== undefined;
    try {
      await this.o.store.run(
        METRICS_ROLLUP,
        [this.o.keys.metrics(MINUTE_MS, minute), this.o.keys.metrics(TEN_MINUTES_MS, ten), noteKid ? this.o.keys.keysSeen : "", retention !== null ? this.o.keys.audit : ""],
        [MINUTE_TTL_MS, TEN_MINUTES_TTL_MS, this.o.primaryKid ?? "", now, retention !== null ? Math.max(0, now - retention) : 0, ...rollupFields(snapshot)],
      );
      if (noteKid) this.kidNoted = true;
    } catch (error) {
      this.registry.count(M.rollupFailed);
      console.warn(JSON.stringify({ level: "warn", msg: "metrics rollup failed", error: error instanceof Error ? error.message.slice(0, 200) : "unknown" }));
    }
  }
}
