/**
 * Two entry workers sharing one Durable Object namespace in one Miniflare: the honest local
 * stand-in for "another isolate (another location) handled the revocation". `edge-a` owns the
 * `RealtimeRoom` and `UserSockets` classes; `edge-b` runs the same code and binds to edge-a's
 * namespaces (`scriptName`). Each has its own module state (checked by the tests through the
 * probe) and its own loopback port. Optional: `rpc-consumer`, a third worker calling edge-b's
 * `SessionVerifier` RPC entrypoint; `edge-broken`, the same code with ROOMS bound to objects
 * that fail to start (the "object cannot be reached" case).
 *
 * The script is bench/realtime/probe-worker.ts bundled with esbuild (the worker plus counters).
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build as esbuild } from "esbuild";
import { packageSource } from "../../dev/package-entries.ts";
import { Miniflare, type WorkerOptions } from "miniflare";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
export const COMPATIBILITY_DATE = "2026-04-26";

export interface Probe {
  roomFetch: number;
  roomPush: number;
  roomAlarm: number;
  admit: number;
  release: number;
  sessionsEnded: number;
  timerCalls: number;
  pendingTimers: number;
}

export interface ClusterOptions {
  /** Worker variables (store URL and token, keys, prefix …), the same for every entry worker. */
  bindings: Record<string, string>;
  consumer?: boolean;
  broken?: boolean;
  /** Where workerd's output goes (default: dropped). */
  output?: (worker: string, stream: NodeJS.ReadableStream) => void;
}

export interface Cluster {
  a: string;
  b: string;
  consumer: string | null;
  broken: string | null;
  probe(base: string): Promise<Probe>;
  resetProbe(base: string): Promise<void>;
  roomSockets(base: string, room: string): Promise<number>;
  dispose(): Promise<void>;
}

const bundled = new Map<string, Promise<string>>();

/** Bundles the probe worker once per process into .tmp/ (Miniflare wants it under the working directory). */
export function bundleProbeWorker(): Promise<string> {
  return bundleWorkerEntry("bench/realtime/probe-worker.ts", "realtime-probe");
}

/** Bundles a worker entry (relative to the repository) with esbuild, once per process, into .tmp/<name>/index.js. */
export function bundleWorkerEntry(entry: string, name: string): Promise<string> {
  let p = bundled.get(entry);
  if (p) return p;
  p = (async () => {
    const outfile = path.join(ROOT, ".tmp", name, "index.js");
    await esbuild({
      entryPoints: [path.join(ROOT, entry)],
      outfile,
      bundle: true,
      minify: true,
      format: "esm",
      platform: "neutral",
      target: "es2022",
      conditions: ["workerd", "worker", "browser"],
      mainFields: ["module", "main"],
      external: ["cloudflare:*"],
      // The examples import the package by name: here that name is the repository's src/.
      plugins: [packageSource],
      logLevel: "warning",
    });
    return outfile;
  })();
  bundled.set(entry, p);
  return p;
}

const BROKEN_OBJECTS = `
export class Broken {
  constructor() { throw new Error("this object cannot start"); }
}
export default { fetch() { return new Response("broken-objects"); } };`;

export async function startRealtimeCluster(o: ClusterOptions): Promise<Cluster> {
  const scriptPath = await bundleProbeWorker();
  const direct = [{ host: "127.0.0.1", port: 0 }];
  const own = { ROOMS: { className: "RealtimeRoom", useSQLite: true }, USER_SOCKETS: { className: "UserSockets", useSQLite: true } };
  const shared = {
    ROOMS: { className: "RealtimeRoom", scriptName: "edge-a", useSQLite: true },
    USER_SOCKETS: { className: "UserSockets", scriptName: "edge-a", useSQLite: true },
  };
  const entry = (name: string, durableObjects: WorkerOptions["durableObjects"]): WorkerOptions => ({
    name,
    modules: true,
    scriptPath,
    compatibilityDate: COMPATIBILITY_DATE,
    bindings: o.bindings,
    durableObjects,
    unsafeDirectSockets: direct,
  });
  const workers: WorkerOptions[] = [entry("edge-a", own), entry("edge-b", shared)];
  if (o.consumer) {
    workers.push({
      name: "rpc-consumer",
      modules: true,
      compatibilityDate: COMPATIBILITY_DATE,
      script: `export default { async fetch(request, env) { const { op, arg } = await request.json(); return Response.json(await env.VERIFIER[op](arg)); } };`,
      serviceBindings: { VERIFIER: { name: "edge-b", entrypoint: "SessionVerifier" } },
      unsafeDirectSockets: direct,
    });
  }
  if (o.broken) {
    workers.push({ name: "broken-objects", modules: true, compatibilityDate: COMPATIBILITY_DATE, script: BROKEN_OBJECTS, durableObjects: { BROKEN: { className: "Broken", useSQLite: true } } });
    workers.push(entry("edge-broken", { ROOMS: { className: "Broken", scriptName: "broken-objects", useSQLite: true }, USER_SOCKETS: shared.USER_SOCKETS }));
  }
  const mf = new Miniflare({
    host: "127.0.0.1",
    port: 0,
    cf: false,
    workers,
    handleRuntimeStdio: (stdout, stderr) => {
      if (o.output) {
        o.output("workerd", stdout);
        o.output("workerd", stderr);
      } else {
        stdout.resume();
        stderr.resume();
      }
    },
  });
  await mf.ready;
  const url = async (name: string) => (await mf.unsafeGetDirectURL(name)).toString().replace(/\/$/, "");
  const [a, b] = await Promise.all([url("edge-a"), url("edge-b")]);
  const get = async (u: string, init?: RequestInit) => {
    const res = await fetch(u, { ...init, signal: AbortSignal.timeout(5000) });
    if (!res.ok) throw new Error(`${u}: ${res.status} ${await res.text()}`);
    return res.json() as Promise<any>;
  };
  return {
    a,
    b,
    consumer: o.consumer ? await url("rpc-consumer") : null,
    broken: o.broken ? await url("edge-broken") : null,
    probe: (base) => get(`${base}/__probe`) as Promise<Probe>,
    resetProbe: async (base) => void (await get(`${base}/__probe/reset`, { method: "POST" })),
    roomSockets: async (base, room) => (await get(`${base}/__probe/room?name=${encodeURIComponent(room)}`)).sockets as number,
    dispose: () => mf.dispose(),
  };
}
