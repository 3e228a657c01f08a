/**
 * The `global` benchmark section (issue 21): the multi-region harness over the local store's
 * replicated mode. `npm run bench -- global [--quick]` runs it alone and merges it into
 * bench/results.json (`global`); the full `npm run bench` runs it too.
 */
import { randomBytes } from "node:crypto";
import { startStore, type StoreServer } from "@edge-session/local-store";
import { APP_ORIGIN } from "../realtime/client.ts";
import { startGlobalCluster, type GlobalCluster } from "./cluster.ts";
import { commandsPerMiss, writerCommandsPerDay } from "./costs.ts";
import { sweep, type Lag, type PointResult } from "./sweep.ts";
import { CLOCK_PERIOD_MS } from "../../src/session/clock.ts";

export const GLOBAL_FULL = { sessionsPerPoint: 50, parallel: 5, baselineSessions: 10 };
export const GLOBAL_QUICK = { sessionsPerPoint: 10, parallel: 5, baselineSessions: 0 };
export const LAGS: Lag[] = [0, 250, 2000, "partition"];
const CACHE_TTL_MS = 1000;
const FRESHNESS_BOUND_MS = 2000;
/** The bound this project states: SESSION_CACHE_TTL + STORE_FRESHNESS_BOUND. */
export const STATED_BOUND_MS = CACHE_TTL_MS + FRESHNESS_BOUND_MS;

export interface GlobalResult {
  storeBackend: string;
  regions: { from: string; to: string };
  statedBoundMs: number;
  cacheTtlMs: number;
  freshnessBoundMs: number;
  clockPeriodMs: number;
  /** global.httpRevocationBoundMs[L]: p99 and max of revoking response → first refusal in the other region. */
  httpRevocationBoundMs: Record<string, { p99: number | null; max: number | null; bound: number; grantsAfterBound: number }>;
  staleRefusalsPerMinute: Record<string, number>;
  storeCommandsPerMiss: number;
  writerCommandsPerDay: number;
  points: PointResult[];
  /** The same sweep with STORE_FRESHNESS_BOUND off (what the bound was before), when run. */
  baseline: PointResult[] | null;
}

export function globalBindings(prefix: string, freshness: string): Record<string, string> {
  return {
    SESSION_KEYS: `k1:${randomBytes(32).toString("base64url")}`,
    PASSWORD_PEPPER: randomBytes(32).toString("base64url"),
    ENVIRONMENT: "test",
    SIGNUP: "open",
    STORE_PREFIX: prefix,
    CORS_ORIGINS: APP_ORIGIN,
    SESSION_CACHE_TTL: `${CACHE_TTL_MS} ms`,
    STORE_FRESHNESS_BOUND: freshness,
    RATE_LIMIT_LOGIN_IP: "100000 / 1 h",
    RATE_LIMIT_REGISTER_IP: "100000 / 1 h",
    REQUEST_LOG: "off",
  };
}

/** A store with two read regions (eu: the one lagged, ap: where revocations are made). */
export function startRegions(): Promise<StoreServer> {
  return startStore({ port: 0, regions: ["eu", "ap"], redisUrl: process.env.REDIS_URL || undefined });
}

export async function runGlobal(o: { quick: boolean; log: (msg: string) => void }): Promise<GlobalResult> {
  const settings = o.quick ? GLOBAL_QUICK : GLOBAL_FULL;
  const store = await startRegions();
  const prefix = `bench:g${randomBytes(4).toString("hex")}:`;
  let cluster: GlobalCluster | null = null;
  try {
    o.log(`global: store (${store.backend.name}) with regions ${store.regions.map((r) => r.name).join(", ")}`);
    cluster = await startGlobalCluster({ store, bindings: globalBindings(prefix, `${FRESHNESS_BOUND_MS} ms`) });
    const base = { cluster, store, from: "ap", to: "eu", boundMs: STATED_BOUND_MS, parallel: settings.parallel, log: o.log };
    const points = await sweep({ ...base, lags: LAGS, sessionsPerPoint: settings.sessionsPerPoint });
    const perMiss = await commandsPerMiss({ cluster, store, from: "ap", to: "eu", n: 20 });
    o.log(`global: ${perMiss.perMiss} store commands per miss (${JSON.stringify(perMiss.commands)})`);
    const writer = await writerCommandsPerDay(store);
    o.log(`global: clock writer ${writer.perDay} commands/day (${JSON.stringify(writer.commands)})`);
    await cluster.dispose();
    cluster = null;
    let baseline: PointResult[] | null = null;
    if (settings.baselineSessions > 0) {
      cluster = await startGlobalCluster({ store, bindings: globalBindings(`${prefix}off:`, "off") });
      baseline = await sweep({ ...base, cluster, lags: LAGS, sessionsPerPoint: settings.baselineSessions, sockets: false, log: (m) => o.log(`baseline (freshness off) ${m}`) });
    }
    const httpRevocationBoundMs: GlobalResult["httpRevocationBoundMs"] = {};
    const staleRefusalsPerMinute: Record<string, number> = {};
    for (const p of points) {
      httpRevocationBoundMs[p.lag] = { p99: p.httpRevocationMs.p99, max: p.httpRevocationMs.max, bound: STATED_BOUND_MS, grantsAfterBound: p.grantsAfterBound };
      staleRefusalsPerMinute[p.lag] = p.staleRefusalsPerMinute;
    }
    return {
      storeBackend: store.backend.name,
      regions: { from: "ap", to: "eu" },
      statedBoundMs: STATED_BOUND_MS,
      cacheTtlMs: CACHE_TTL_MS,
      freshnessBoundMs: FRESHNESS_BOUND_MS,
      clockPeriodMs: CLOCK_PERIOD_MS,
      httpRevocationBoundMs,
      staleRefusalsPerMinute,
      storeCommandsPerMiss: perMiss.perMiss,
      writerCommandsPerDay: writer.perDay,
      points,
      baseline,
    };
  } finally {
    await cluster?.dispose();
    await store.close();
  }
}

/** The section's targets, as the other sections list theirs. */
export function globalTargets(g: GlobalResult): { target: string; pass: boolean; value: string; limit: string; margin: string }[] {
  const worst = Math.max(...g.points.map((p) => p.httpRevocationMs.max ?? Infinity));
  const grants = g.points.reduce((s, p) => s + p.grantsAfterBound + p.neverRefused, 0);
  return [
    { target: `global: HTTP revocation max ≤ ${g.statedBoundMs} ms at every L (0, 250 ms, 2 s, partition)`, pass: worst <= g.statedBoundMs, value: `${worst} ms`, limit: `${g.statedBoundMs} ms`, margin: `${g.statedBoundMs - worst} ms` },
    { target: "global: 0 grants after the bound", pass: grants === 0, value: `${grants}`, limit: "0", margin: "—" },
    { target: "global: store commands per verified request on a miss = 1", pass: g.storeCommandsPerMiss === 1, value: `${g.storeCommandsPerMiss}`, limit: "1", margin: "—" },
  ];
}
