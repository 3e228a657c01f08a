/**
 * `createSessionLayer()`: the least a Hono app needs to verify sessions — a store client, a key
 * ring and a session manager — from plain options, validated at creation.
 */
import { keySpace } from "./session/keys.js";
import { DEFAULT_POLICY, defaultTouchInterval, followTimeoutFor, SessionManager, type SessionPolicy } from "./session/manager.js";
import { createUpstashStore, type SessionStoreClient } from "./session/store.js";
import { createKeyRing, parseKeyRing } from "./token/key-ring.js";

export interface SessionLayerOptions {
  /** Upstash REST URL and token, or a store client of your own. */
  url?: string;
  token?: string;
  store?: SessionStoreClient;
  /** `kid:key[,kid:key…]` — the same value the issuing worker uses. */
  sessionKeys: string;
  /** Key prefix in the store. @default "es:" */
  prefix?: string;
  /** Session policy; anything omitted takes the documented default (30 min idle, 12 h absolute, 20 per user). */
  policy?: Partial<SessionPolicy>;
  /** Edge cache lifetime in ms; 0 turns it off. @default 1000 */
  cacheTtlMs?: number;
  /** Store timeout per operation including retries. @default 1000 */
  timeoutMs?: number;
  now?: () => number;
}

export async function createSessionLayer(o: SessionLayerOptions) {
  const ring = parseKeyRing(o.sessionKeys);
  const problems = ring.ok ? [] : [...ring.problems];
  if (!o.store && (!o.url || !o.token)) problems.push("url and token (or store) are required");
  if (problems.length) throw new Error(`createSessionLayer: ${problems.join("; ")}`);
  const store = o.store ?? createUpstashStore({ url: o.url!, token: o.token!, timeoutMs: o.timeoutMs });
  const idle = o.policy?.idleTimeoutMs ?? DEFAULT_POLICY.idleTimeoutMs;
  const policy: SessionPolicy = { ...DEFAULT_POLICY, touchIntervalMs: defaultTouchInterval(idle), ...o.policy };
  const keys = keySpace(o.prefix ?? "es:");
  const sessions = new SessionManager({ store, keyRing: await createKeyRing(ring.ok ? ring.entries : []), keys, policy, cacheTtlMs: o.cacheTtlMs, followTimeoutMs: followTimeoutFor(o.timeoutMs ?? 1000), now: o.now });
  return { store, keys, sessions };
}
