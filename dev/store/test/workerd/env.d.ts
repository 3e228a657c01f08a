// The bindings this folder's tests read. The repository's vitest config (workers project)
// sets them from the global setup, which starts the store for the run.
declare global {
  namespace Cloudflare {
    interface Env {
      UPSTASH_REDIS_REST_URL: string;
      UPSTASH_REDIS_REST_TOKEN: string;
      STORE_CONTROL_URL: string;
      STORE_BACKEND: string;
    }
  }
}
export {};
