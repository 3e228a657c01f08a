/**
 * The rollup hashes (rollup.ts) read back as series for the admin console: one point per
 * period, counters summed over every isolate, latency percentiles from the merged histograms.
 */
import type { OpsKeySpace } from "../store/keys.js";
import { READ_METRICS } from "../store/ops-scripts.js";
import type { RedisStore } from "../store/redis.js";
import { quantile } from "./registry.js";
import { MINUTE_MS, TEN_MINUTES_MS } from "./rollup.js";

export type MetricsRange = "hour" | "day";

export interface MetricsSeries {
  range: MetricsRange;
  periodMs: number;
  /** Period starts, ms since epoch, oldest first. */
  t: number[];
  counters: Record<string, number[]>;
  /** Per period: events, mean, p50 and p99 (bucket upper bounds, ms; null without events). */
  latencies: Record<string, { n: number[]; mean: (number | null)[]; p50: (number | null)[]; p99: (number | null)[] }>;
}

const RANGES: Record<MetricsRange, { periodMs: number; points: number }> = {
  hour: { periodMs: MINUTE_MS, points: 60 },
  day: { periodMs: TEN_MINUTES_MS, points: 144 },
};

export function isMetricsRange(v: string | undefined): v is MetricsRange {
  return v === "hour" || v === "day";
}

/** Parses the flat hashes (one per period) into series. Pure: tested without a store. */
export function toSeries(range: MetricsRange, t: number[], hashes: unknown[][]): MetricsSeries {
  const counters: MetricsSeries["counters"] = {};
  const hist: Record<string, { n: number[]; sum: number[]; buckets: number[][] }> = {};
  const len = t.length;
  hashes.forEach((flat, i) => {
    for (let j = 0; j + 1 < (flat?.length ?? 0); j += 2) {
      const field = String(flat[j]);
      const value = Number(flat[j + 1]) || 0;
      const [kind, name, bucket] = field.split("|");
      if (!name) continue;
      if (kind === "c") add((counters[name] ??= new Array(len).fill(0)), i, value);
      else if (kind === "n" || kind === "s" || kind === "h") {
        const h = (hist[name] ??= { n: new Array(len).fill(0), sum: new Array(len).fill(0), buckets: Array.from({ length: len }, () => []) });
        if (kind === "n") add(h.n, i, value);
        else if (kind === "s") add(h.sum, i, value);
        else h.buckets[i]![Number(bucket)] = (h.buckets[i]![Number(bucket)] ?? 0) + value;
      }
    }
  });
  const latencies: MetricsSeries["latencies"] = {};
  for (const [name, h] of Object.entries(hist)) {
    const dense = h.buckets.map((b) => Array.from({ length: 15 }, (_, k) => b[k] ?? 0));
    latencies[name] = {
      n: h.n,
      mean: h.n.map((n, i) => (n ? h.sum[i]! / n : null)),
      p50: dense.map((b) => finite(quantile(b, 0.5))),
      p99: dense.map((b) => finite(quantile(b, 0.99))),
    };
  }
  return { range, periodMs: RANGES[range].periodMs, t, counters, latencies };
}

function add(series: number[], i: number, value: number): void {
  series[i] = (series[i] ?? 0) + value;
}

/** Above the last bucket: reported as the last bound's double, so a chart can still draw it. */
function finite(v: number | null): number | null {
  return v === Infinity ? 60_000 : v;
}

export async function readMetrics(store: RedisStore, keys: OpsKeySpace, range: MetricsRange, now: number): Promise<MetricsSeries> {
  const { periodMs, points } = RANGES[range];
  const last = Math.floor(now / periodMs) * periodMs;
  const t = Array.from({ length: points }, (_, i) => last - (points - 1 - i) * periodMs);
  const hashes = await store.run<unknown[][]>(READ_METRICS, t.map((start) => keys.metrics(periodMs, start)), []);
  return toSeries(range, t, hashes ?? []);
}
