/**
 * Where one request runs in replicated mode, and the `upstash-sync-token` it answers with.
 *
 * - The primary endpoint runs everything on the primary.
 * - A region's endpoint sends a request with any write (pipelines and transactions as a whole)
 *   to the primary, and reads to its replica.
 * - Read-your-writes: a read carrying a sync token the replica has not reached waits for the
 *   replica to catch up, as Upstash documents ("the read replica syncs up to that token before
 *   serving the read"), for at most `syncWaitMs`; then, or at once when the region is
 *   partitioned (waiting cannot help), the primary serves it. Either way the read sees the write.
 * - Every answer carries the offset of the data that served it (never lower than the token the
 *   request brought), so a client's token only moves forward.
 */
import type { Backend } from "../types.ts";
import { allReads } from "./classify.ts";
import type { Replication } from "./types.ts";

export const SYNC_HEADER = "upstash-sync-token";
/** Who answered: `primary` or `replica:<region>` (this store's own header, for tests and curious people). */
export const SERVED_BY_HEADER = "x-local-store-served-by";

export class BadSyncToken extends Error {}

/** The request's token: null when absent or empty (the client's first request sends ""). */
export function parseSyncToken(header: string | string[] | undefined): number | null {
  const value = Array.isArray(header) ? header[header.length - 1] : header;
  if (value === undefined || value.trim() === "") return null;
  if (!/^\d{1,15}$/.test(value.trim())) throw new BadSyncToken(`ERR invalid upstash-sync-token ${JSON.stringify(value.slice(0, 40))}: this store's tokens are the decimal offsets it sent`);
  return Number(value.trim());
}

export interface Routed {
  backend: Backend;
  /** Headers for the answer, read after the commands ran. */
  headers(): Promise<Record<string, string>>;
}

export interface RouteOptions {
  /** The region whose endpoint received the request; null for the primary endpoint. */
  region: string | null;
  commands: string[][];
  token: number | null;
  /** Longest wait for a replica to reach the request's token before the primary serves it. */
  syncWaitMs: number;
}

export async function route(rep: Replication, o: RouteOptions): Promise<Routed> {
  const floor = o.token ?? 0;
  const fromPrimary: Routed = {
    backend: rep.primary,
    headers: async () => ({ [SYNC_HEADER]: String(Math.max(floor, await rep.primaryOffset())), [SERVED_BY_HEADER]: "primary" }),
  };
  const region = o.region === null ? undefined : rep.regions.get(o.region);
  if (!region || !allReads(o.commands)) return fromPrimary;
  if (o.token !== null) {
    if (region.partitioned) {
      if ((await region.appliedOffset()) < o.token) return fromPrimary;
    } else if (!(await region.waitFor(o.token, o.syncWaitMs))) return fromPrimary;
  }
  return {
    backend: region.backend,
    headers: async () => ({ [SYNC_HEADER]: String(Math.max(floor, await region.appliedOffset())), [SERVED_BY_HEADER]: `replica:${region.name}` }),
  };
}
