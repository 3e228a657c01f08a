/**
 * A worker of your own that serves the session RPC to other workers: the library's entrypoint,
 * re-exported. It reads UPSTASH_REDIS_REST_URL, UPSTASH_REDIS_REST_TOKEN and SESSION_KEYS (and
 * STORE_PREFIX, SESSION_CACHE_TTL) from its bindings; callers bind it as
 * `services = [{ binding = "SESSIONS", service = "<this worker>", entrypoint = "SessionVerifier" }]`.
 */
export { SessionVerifier } from "edge-session/rpc";

export default {
  fetch: () => new Response(null, { status: 404 }),
} satisfies ExportedHandler;
