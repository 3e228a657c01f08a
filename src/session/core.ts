/**
 * The one construction path for the session layer: store client, key space, key ring, read
 * path, lifecycle and tickets, from plain settings. The worker's build (build.ts, from `env`)
 * and the library's `createSessionLayer()` (layer.ts, from options) both come through here, so
 * the two can never assemble the same objects differently.
 */
import { DEFAULTS, followTimeoutFor } from "../defaults.js";
import { SessionManager, type SessionPolicy } from "./manager.js";
import { SessionReader } from "./reader.js";
import { TicketStore } from "./tickets.js";
import { parseDuration } from "../util/duration.js";
import { keySpace, opsKeySpace, type KeySpace, type OpsKeySpace } from "../store/keys.js";
import type { AuditSettings } from "./audit.js";
import { createUpstashStore, type RedisStore } from "../store/redis.js";
import { createKeyRing, type KeyRing } from "../token/key-ring.js";
import { DeviceSecrets } from "../device/device-secrets.js";
import { DpopVerifier } from "../device/dpop.js";
import type { FreshnessOptions } from "./fresh-read.js";

export interface CoreSettings {
  /** Upstash REST URL and token, or a store client already made. */
  store: { url: string; token: string } | RedisStore;
  /** The store's budget per operation; single-flight followers wait a little longer. @default 1000 */
  storeTimeoutMs?: number;
  /** Key entries; the first signs. */
  sessionKeys: readonly { kid: string; key: Uint8Array }[];
  /** @default "es:" */
  prefix?: string;
  policy: SessionPolicy;
  /** @default 1000 */
  cacheTtlMs?: number;
  /** @default 30000 (DEFAULTS.wsTicketTtl) */
  ticketTtlMs?: number;
  /** Outstanding tickets per user. @default 10 (DEFAULTS.wsMaxTicketsPerUser) */
  maxTicketsPerUser?: number;
  /** @default Date.now */
  now?: () => number;
  /**
   * Read replicas (Upstash Global): the freshness bound and its hooks (fresh-read.ts). Unset: one
   * Redis, every read current. @default undefined
   */
  freshness?: FreshnessOptions;
  /** Keep an audit trail of session events for this long (ms); null = none. @default null */
  auditRetentionMs?: number | null;
}

/** What every surface (routes, middleware, gateway, RPC, library users) works with. */
export interface SessionCore {
  store: RedisStore;
  keys: KeySpace;
  keyRing: KeyRing;
  /** Operators' keys: metrics rollups and audit streams. */
  opsKeys: OpsKeySpace;
  /** The audit trail's settings, or null when it is off. */
  audit: AuditSettings | null;
  reader: SessionReader;
  sessions: SessionManager;
  tickets: TicketStore;
  /** Device binding (issue 24): the DBSC bound cookies and challenges, and this isolate's DPoP checks. */
  device: DeviceSecrets;
  dpop: DpopVerifier;
  now: () => number;
}

export async function assembleCore(s: CoreSettings): Promise<SessionCore> {
  const now = s.now ?? Date.now;
  const timeoutMs = s.storeTimeoutMs ?? DEFAULTS.storeTimeoutMs;
  const store = "get" in s.store ? s.store : createUpstashStore({ url: s.store.url, token: s.store.token, timeoutMs });
  const keys = keySpace(s.prefix ?? DEFAULTS.storePrefix);
  const opsKeys = opsKeySpace(s.prefix ?? DEFAULTS.storePrefix);
  const audit = s.auditRetentionMs ? { retentionMs: s.auditRetentionMs, keys: opsKeys } : null;
  const keyRing = await createKeyRing([...s.sessionKeys]);
  const device = await DeviceSecrets.create(s.sessionKeys, now);
  const reader = new SessionReader({ store, keyRing, keys, cacheTtlMs: s.cacheTtlMs, followTimeoutMs: followTimeoutFor(timeoutMs), now, device, freshness: s.freshness });
  const sessions = new SessionManager({ store, keyRing, keys, policy: s.policy, reader, now, readAtPrimary: s.freshness !== undefined, audit });
  const tickets = new TicketStore(store, keys, s.ticketTtlMs ?? parseDuration(DEFAULTS.wsTicketTtl)!, s.maxTicketsPerUser ?? DEFAULTS.wsMaxTicketsPerUser, now);
  // The proof's iat is checked against the same clock as everything else.
  const dpop = new DpopVerifier();
  return { store, keys, keyRing, opsKeys, audit, reader, sessions, tickets, device, dpop, now };
}
