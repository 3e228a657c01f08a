/** Replication over real Redis: the Redis at `REDIS_URL` is the primary, one spawned replica per region. */
import type { RedisBackend } from "../redis-backend.ts";
import { offsetOf, RedisRegion } from "./redis-replica.ts";
import type { Replication } from "./types.ts";

export interface RedisReplicationOptions {
  primary: RedisBackend;
  primaryUrl: string;
  regions: string[];
  /** Initial lag of every region, in ms. @default 0 */
  lagMs?: number;
  /** How long the replicas' first sync may take. @default 30000 */
  syncTimeoutMs?: number;
}

export async function redisReplication(options: RedisReplicationOptions): Promise<Replication> {
  const primaryOffset = () => offsetOf(options.primary, "master_repl_offset");
  // All at once: replicas that connect within the primary's diskless-sync delay share one full sync.
  const started = await Promise.allSettled(
    options.regions.map((name) => RedisRegion.start({ name, primaryUrl: options.primaryUrl, primaryOffset, lagMs: options.lagMs, syncTimeoutMs: options.syncTimeoutMs })),
  );
  const regions = new Map<string, RedisRegion>();
  for (const r of started) if (r.status === "fulfilled") regions.set(r.value.name, r.value);
  const failed = started.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) {
    await Promise.all([...regions.values()].map((r) => r.close()));
    throw failed.reason;
  }
  return {
    primary: options.primary,
    regions,
    primaryOffset,
    async close() {
      await Promise.all([...regions.values()].map((r) => r.close()));
    },
  };
}
