/**
 * `edge-session/rpc`: a `SessionVerifier` entrypoint for a worker of your own, so other workers
 * verify, create and revoke its sessions over a service binding. It needs what verification
 * needs and nothing else: the store and the keys.
 *
 *   // your worker's entry (wrangler.toml binds nothing extra; the caller binds this entrypoint)
 *   export { SessionVerifier } from "edge-session/rpc";
 *
 *   // the calling worker's wrangler.toml
 *   services = [{ binding = "SESSIONS", service = "<your worker>", entrypoint = "SessionVerifier" }]
 *
 *   const r = await env.SESSIONS.verify(token);
 *   if (!r.ok) return new Response(r.reason, { status: r.reason === "store_unavailable" ? 503 : 401 });
 *
 * Failure reasons (`VerifyResponse`, `CreateSessionResponse`): the token's (`missing`,
 * `malformed`, `unknown_key`, `bad_signature`, `expired`, `revoked`), `invalid_user` and
 * `disabled` for `createSession`, `store_unavailable` (a store error: never a grant), and
 * `misconfigured` (a binding is missing or bad; the log names it once per isolate).
 */
import { DEFAULTS } from "../defaults.js";
import { createSessionLayer, type SessionLayer } from "../session/layer.js";
import { parseKeyRing } from "../token/key-ring.js";
import { parseDuration } from "../util/duration.js";
import { SessionVerifierBase, VerifierMisconfigured } from "./entrypoint.js";

export type { CreateSessionResponse, RpcSession, VerifyResponse } from "./types.js";
export type { RpcCreateRefusalReason, RpcRefusalReason } from "../protocol.js";
export { SessionVerifierBase, type VerifierLayer } from "./entrypoint.js";

/** The bindings `SessionVerifier` reads. */
export interface VerifierEnv {
  UPSTASH_REDIS_REST_URL: string;
  UPSTASH_REDIS_REST_TOKEN: string;
  /** `kid:key[,kid:key…]`: the same value the issuing worker uses. */
  SESSION_KEYS: string;
  /** @default "es:" */
  STORE_PREFIX?: string;
  /** The edge cache's lifetime, e.g. `1 s`; `0` turns it off. @default "1 s" */
  SESSION_CACHE_TTL?: string;
}

const layers = new WeakMap<object, Promise<SessionLayer>>();

/** What is missing or bad in these bindings (empty when none). */
export function verifierProblems(env: Partial<VerifierEnv>): string[] {
  const problems: string[] = [];
  if (!env.UPSTASH_REDIS_REST_URL) problems.push("UPSTASH_REDIS_REST_URL is required");
  if (!env.UPSTASH_REDIS_REST_TOKEN) problems.push("UPSTASH_REDIS_REST_TOKEN is required");
  const ring = parseKeyRing(env.SESSION_KEYS ?? "");
  if (!ring.ok) problems.push(...ring.problems);
  if (env.SESSION_CACHE_TTL !== undefined && parseDuration(env.SESSION_CACHE_TTL) === null) problems.push("SESSION_CACHE_TTL must be a duration like `1 s`");
  return problems;
}

function layerFromEnv(env: VerifierEnv): Promise<SessionLayer> {
  let layer = layers.get(env);
  if (!layer) {
    const problems = verifierProblems(env);
    if (problems.length) {
      console.error(JSON.stringify({ level: "error", msg: "config", entrypoint: "SessionVerifier", problems }));
      layer = Promise.reject(new VerifierMisconfigured(problems.join("; ")));
      layer.catch(() => {});
    } else {
      layer = createSessionLayer({
        url: env.UPSTASH_REDIS_REST_URL,
        token: env.UPSTASH_REDIS_REST_TOKEN,
        sessionKeys: env.SESSION_KEYS,
        prefix: env.STORE_PREFIX || DEFAULTS.storePrefix,
        cacheTtlMs: parseDuration(env.SESSION_CACHE_TTL ?? DEFAULTS.cacheTtl)!,
      });
      layer.catch(() => layers.delete(env));
    }
    layers.set(env, layer);
  }
  return layer;
}

/** The RPC entrypoint over the store and keys in `env` (`VerifierEnv`). */
export class SessionVerifier extends SessionVerifierBase<VerifierEnv> {
  static override layerFor = layerFromEnv;
}
