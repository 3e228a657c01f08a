/**
 * Upstash's read-your-writes across several clients of one store. `@upstash/redis` keeps the
 * `upstash-sync-token` of the last answer per client and sends it with the next request, so a
 * read after a write waits for the replica to have that write. This store uses more than one
 * client (one that retries, one that sends once, one that reads replicas without waiting):
 * carried over here, the token behaves as one client's would — the last answer's, whichever
 * client got it. JavaScript runs one callback at a time, so hand-over needs no lock.
 */
import type { Redis } from "@upstash/redis/cloudflare";

export class SharedSyncToken<K extends string> {
  private token = "";

  constructor(readonly redis: Record<K, Redis>) {}

  /** Runs `op` on client `name` with the latest token, and keeps the token its answer brought. */
  async use<T>(name: K, op: (redis: Redis) => Promise<T>): Promise<T> {
    const redis = this.redis[name];
    redis.readYourWritesSyncToken = this.token;
    try {
      return await op(redis);
    } finally {
      // A client without read-your-writes neither sends nor keeps a token.
      const got = redis.readYourWritesSyncToken;
      if (got) this.token = got;
    }
  }
}
