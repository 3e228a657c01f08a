/** Starts the replicated mode's primary and regions for `startStore({ regions })`. */
import type { StoreOptions } from "../server.ts";
import { checkLag, regionNames, type Replication } from "./types.ts";

export type { RegionView } from "./control.ts";

/** A read region's endpoint: same token as the primary's. */
export interface RegionInfo {
  name: string;
  url: string;
  controlUrl: string;
  port: number;
}

export async function startReplication(options: StoreOptions): Promise<Replication> {
  if (options.backend) throw new Error("regions need the embedded engine or redisUrl: a backend of your own cannot be replicated");
  const regions = regionNames(options.regions!);
  const lagMs = checkLag(options.regionLagMs ?? 0);
  if (options.redisUrl) {
    const { RedisBackend } = await import("../redis-backend.ts");
    const { redisReplication } = await import("./redis-replication.ts");
    const primary = await RedisBackend.connect(options.redisUrl);
    try {
      return await redisReplication({ primary, primaryUrl: options.redisUrl, regions, lagMs });
    } catch (e) {
      await primary.close();
      throw e;
    }
  }
  const { memoryReplication } = await import("./memory-replication.ts");
  return memoryReplication({ regions, lagMs });
}
