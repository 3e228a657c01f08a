/**
 * Cold start: a fresh workerd process per sample (a new Miniflare), then the time of its FIRST
 * `GET /api/hello`, from the request's start to the last byte, measured from outside. Samples
 * alternate between this worker (the deployed bundle, its Durable Object bindings and secrets as
 * deployed) and the hono/jwt peer, so both see the same machine. The ratio is of the medians.
 *
 * What the first request pays beyond a warm one: the isolate's first run of the handler and of
 * everything it touches. The process start, the script's compile and its top-level code (where
 * this worker builds its dependencies and app: src/worker/deps-for.ts) come before `ready`: they
 * are reported apart as `startupMs`, not in the first request.
 */
import { Miniflare } from "miniflare";
import { median } from "./load.ts";

export interface ColdStartSpec {
  name: string;
  scriptPath: string;
  bindings: Record<string, string>;
  durableObjects?: Record<string, { className: string; useSQLite: boolean }>;
}

export interface ColdStart {
  samples: number;
  /** Median ms of the first request, per worker. */
  firstRequestMs: Record<string, number>;
  /** Every sample, per worker, in the order taken. */
  samplesMs: Record<string, number[]>;
  /** Median ms of the tenth request of the same process (warm), per worker, for scale. */
  warmRequestMs: Record<string, number>;
  /**
   * Median ms from starting workerd to its being ready (process start, script compile and the
   * module's top-level code, where this worker now builds its dependencies), per worker: what a
   * first request does not wait for where the platform starts the isolate ahead of it.
   */
  startupMs: Record<string, number>;
}

async function oneSample(spec: ColdStartSpec, compatibilityDate: string): Promise<{ first: number; warm: number; startup: number }> {
  const t0 = performance.now();
  const mf = new Miniflare({
    host: "127.0.0.1",
    port: 0,
    cf: false,
    modules: true,
    scriptPath: spec.scriptPath,
    compatibilityDate,
    bindings: spec.bindings,
    durableObjects: spec.durableObjects,
    handleRuntimeStdio: (out, err) => {
      out.resume();
      err.resume();
    },
  });
  try {
    const url = new URL("/api/hello", await mf.ready).href;
    const startup = performance.now() - t0;
    const time = async () => {
      const t0 = performance.now();
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`${spec.name}: GET /api/hello answered ${res.status}`);
      return performance.now() - t0;
    };
    const first = await time();
    let warm = 0;
    for (let i = 0; i < 10; i++) warm = await time();
    return { first, warm, startup };
  } finally {
    await mf.dispose();
  }
}

export async function measureColdStart(specs: ColdStartSpec[], samples: number, compatibilityDate: string, log: (m: string) => void): Promise<ColdStart> {
  const first: Record<string, number[]> = {};
  const warm: Record<string, number[]> = {};
  const startup: Record<string, number[]> = {};
  for (const s of specs) (first[s.name] = []), (warm[s.name] = []), (startup[s.name] = []);
  // One throwaway round: the first workerd start of a process pays for loading its binary.
  for (const s of specs) await oneSample(s, compatibilityDate);
  for (let i = 0; i < samples; i++) {
    // Alternate which goes first, so neither always follows the other's teardown.
    const order = i % 2 === 0 ? specs : [...specs].reverse();
    for (const s of order) {
      const r = await oneSample(s, compatibilityDate);
      first[s.name]!.push(r.first);
      warm[s.name]!.push(r.warm);
      startup[s.name]!.push(r.startup);
    }
    log(`cold start ${i + 1}/${samples}: ${specs.map((s) => `${s.name} ${first[s.name]!.at(-1)!.toFixed(1)} ms`).join(", ")}`);
  }
  return {
    samples,
    firstRequestMs: Object.fromEntries(specs.map((s) => [s.name, median(first[s.name]!)])),
    samplesMs: Object.fromEntries(specs.map((s) => [s.name, first[s.name]!.map((v) => Math.round(v * 100) / 100)])),
    warmRequestMs: Object.fromEntries(specs.map((s) => [s.name, median(warm[s.name]!)])),
    startupMs: Object.fromEntries(specs.map((s) => [s.name, median(startup[s.name]!)])),
  };
}
