/**
 * The replicated mode's contract: one primary and named read regions, each with a replica fed
 * through a lag line (`LagQueue`). Offsets are positions in the primary's replication stream:
 * the embedded engine counts replicated changes, real Redis uses its `master_repl_offset`. The
 * `upstash-sync-token` the store hands out is such an offset, in decimal.
 */
import type { Backend } from "../types.ts";

export interface RegionStatus {
  name: string;
  /** Current replication delay, in ms. */
  lagMs: number;
  /** True while replication to this region is stopped. */
  partitioned: boolean;
  /** The primary's offset when this status was taken. */
  primaryOffset: number;
  /** The offset this region's replica has applied. */
  appliedOffset: number;
  /** What waits in the lag line: changes (embedded) or stream chunks (Redis), and their size. */
  backlog: { items: number; bytes: number };
  /** Real Redis only: the spawned replica (`redis-server`) behind this region. */
  replica?: { pid: number; port: number };
}

export interface Region {
  readonly name: string;
  /** The replica's data, for reads only. */
  readonly backend: Backend;
  appliedOffset(): Promise<number>;
  /** Resolves true once the replica has applied `offset`, false after `timeoutMs`. */
  waitFor(offset: number, timeoutMs: number): Promise<boolean>;
  setLag(ms: number): void;
  setPartitioned(on: boolean): void;
  readonly lagMs: number;
  readonly partitioned: boolean;
  status(): Promise<RegionStatus>;
  close(): Promise<void>;
}

export interface Replication {
  /** Where writes (and the primary endpoint's reads) go. */
  readonly primary: Backend;
  readonly regions: ReadonlyMap<string, Region>;
  /** The primary's current offset: what a client that just wrote must see. */
  primaryOffset(): Promise<number>;
  /** Stops the regions (replica processes, proxies, timers), not the primary. */
  close(): Promise<void>;
}

export const REGION_NAME = /^[a-z][a-z0-9-]{0,31}$/;
export const MAX_LAG_MS = 10 * 60_000;

/** Names for `--regions <n>`: the usual Upstash read-region areas first. */
const DEFAULT_NAMES = ["us", "eu", "ap", "sa", "af", "me"];

/** `["eu","ap"]`, `"eu,ap"` or a count (`2` → `us`, `eu`) to checked, distinct region names. */
export function regionNames(spec: string | number | readonly string[]): string[] {
  let names: string[];
  if (typeof spec === "number" || (typeof spec === "string" && /^\d+$/.test(spec.trim()))) {
    const n = Number(spec);
    if (!Number.isInteger(n) || n < 1 || n > 16) throw new RangeError("the number of regions must be between 1 and 16");
    names = Array.from({ length: n }, (_, i) => DEFAULT_NAMES[i] ?? `r${i + 1}`);
  } else {
    names = (typeof spec === "string" ? spec.split(",") : [...spec]).map((s) => s.trim().toLowerCase()).filter((s) => s !== "");
  }
  if (names.length === 0) throw new RangeError("name at least one region");
  for (const n of names) {
    if (!REGION_NAME.test(n) || n === "primary") throw new RangeError(`bad region name ${JSON.stringify(n)}: lowercase letters, digits and dashes, starting with a letter, not "primary"`);
  }
  if (new Set(names).size !== names.length) throw new RangeError("region names must be distinct");
  return names;
}

export function checkLag(ms: unknown): number {
  if (typeof ms !== "number" || !Number.isFinite(ms) || ms < 0 || ms > MAX_LAG_MS) {
    throw new RangeError(`lagMs must be a number of milliseconds between 0 and ${MAX_LAG_MS}`);
  }
  return ms;
}
