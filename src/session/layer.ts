/**
 * `createSessionLayer()`: the session layer from plain options, validated at creation, for a Hono
 * app of your own. Built by the same `assembleCore()` as the worker, with the same defaults
 * (defaults.ts). Mount `sessionAuth(layer)` to verify requests; the layer's front-page calls
 * (`createSession`, `validateSession`, `endSession`, `endUserSessions`: sessions.ts) cover a
 * sign-in of your own.
 */
import { assembleCore, type SessionCore } from "./core.js";
import { sessionApi, type SessionApi } from "./api.js";
import { DEFAULTS, defaultTouchInterval } from "../defaults.js";
import { DEFAULT_POLICY, type SessionPolicy } from "./manager.js";
import type { RedisStore } from "../store/redis.js";
import { parseKeyRing } from "../token/key-ring.js";
import { parseDuration } from "../util/duration.js";
import type { FreshnessOptions } from "./fresh-read.js";

export interface SessionLayerOptions {
  /** Upstash REST URL and token, or a store client of your own. */
  url?: string;
  token?: string;
  store?: RedisStore;
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
  /**
   * Read replicas (Upstash Global): `{ boundMs }` makes each miss prove its replica fresh with the
   * store clock, which something must advance every second (`advanceStoreClock`, clock.ts).
   * @default undefined (one Redis)
   */
  freshness?: FreshnessOptions;
  now?: () => number;
}

export type SessionLayer = SessionCore & SessionApi;

export async function createSessionLayer(o: SessionLayerOptions): Promise<SessionLayer> {
  const ring = parseKeyRing(o.sessionKeys);
  const problems = ring.ok ? [] : [...ring.problems];
  if (!o.store && (!o.url || !o.token)) problems.push("url and token (or store) are required");
  if (problems.length || !ring.ok) throw new Error(`createSessionLayer: ${problems.join("; ")}`);
  const idle = o.policy?.idleTimeoutMs ?? DEFAULT_POLICY.idleTimeoutMs;
  const core = await assembleCore({
    store: o.store ?? { url: o.url!, token: o.token! },
    storeTimeoutMs: o.timeoutMs,
    sessionKeys: ring.entries,
    prefix: o.prefix,
    policy: { ...DEFAULT_POLICY, touchIntervalMs: defaultTouchInterval(idle), ...o.policy },
    cacheTtlMs: o.cacheTtlMs ?? parseDuration(DEFAULTS.cacheTtl)!,
    now: o.now,
    freshness: o.freshness,
  });
  return { ...core, ...sessionApi(core) };
}
