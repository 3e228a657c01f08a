/**
 * Workers "in" several regions of one Upstash Global-like store (the local store's replicated
 * mode): one entry worker per region in one Miniflare, each reading through its own region's
 * REST endpoint, all sharing one Durable Object namespace as one deployment does. The worker of
 * the primary's region owns the objects (rooms, per-user sockets, the store clock); the others
 * bind to them by script name. Each worker has its own isolate (module state, edge cache) and its
 * own loopback port.
 */
import { Miniflare, type WorkerOptions } from "miniflare";
import type { StoreServer } from "@edge-session/local-store";
import { bundleWorkerEntry, COMPATIBILITY_DATE } from "../realtime/cluster.ts";
import type { FreshnessSnapshot } from "../../src/session/freshness.ts";

/** The primary's region: its worker talks to the primary's endpoint. */
export const PRIMARY = "primary";

export interface GlobalCluster {
  /** Region name → the base URL of that region's worker (PRIMARY included). */
  workers: Record<string, string>;
  freshness(region: string): Promise<FreshnessSnapshot>;
  resetFreshness(region: string): Promise<void>;
  dispose(): Promise<void>;
}

export interface GlobalClusterOptions {
  /** A store started with `regions`. */
  store: StoreServer;
  /** Worker variables shared by every region (keys, prefix, STORE_FRESHNESS_BOUND …); the store URL is set per region. */
  bindings: Record<string, string>;
  /** Where workerd's output goes (default: dropped). */
  output?: (stream: NodeJS.ReadableStream) => void;
}

export async function startGlobalCluster(o: GlobalClusterOptions): Promise<GlobalCluster> {
  const scriptPath = await bundleWorkerEntry("bench/global/region-worker.ts", "global-region");
  const owner = `edge-${PRIMARY}`;
  const classes = { ROOMS: "RealtimeRoom", USER_SOCKETS: "UserSockets", STORE_CLOCK: "StoreClock" };
  const objects = (own: boolean) =>
    Object.fromEntries(Object.entries(classes).map(([binding, className]) => [binding, own ? { className, useSQLite: true } : { className, scriptName: owner, useSQLite: true }]));
  const endpoints: [string, string][] = [[PRIMARY, o.store.url], ...o.store.regions.map((r): [string, string] => [r.name, r.url])];
  const workers: WorkerOptions[] = endpoints.map(([region, url]) => ({
    name: `edge-${region}`,
    modules: true,
    scriptPath,
    compatibilityDate: COMPATIBILITY_DATE,
    bindings: { ...o.bindings, UPSTASH_REDIS_REST_URL: url, UPSTASH_REDIS_REST_TOKEN: o.store.token },
    durableObjects: objects(region === PRIMARY),
    unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
  }));
  const mf = new Miniflare({
    host: "127.0.0.1",
    port: 0,
    cf: false,
    workers,
    handleRuntimeStdio: (stdout, stderr) => {
      for (const s of [stdout, stderr]) (o.output ? o.output(s) : s.resume());
    },
  });
  await mf.ready;
  const urls: Record<string, string> = {};
  for (const [region] of endpoints) urls[region] = (await mf.unsafeGetDirectURL(`edge-${region}`)).toString().replace(/\/$/, "");
  const call = async (region: string, path: string, method = "GET") => {
    const res = await fetch(urls[region]! + path, { method, signal: AbortSignal.timeout(5000) });
    if (!res.ok) throw new Error(`${region}${path}: ${res.status}`);
    return res.json();
  };
  return {
    workers: urls,
    freshness: (region) => call(region, "/__freshness") as Promise<FreshnessSnapshot>,
    resetFreshness: async (region) => void (await call(region, "/__freshness/reset", "POST")),
    dispose: () => mf.dispose(),
  };
}
