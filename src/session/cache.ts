/**
 * The in-isolate edge cache: verified sessions keyed by the exact token string.
 *
 * An entry is only ever created after that exact string passed the MAC check and the store
 * lookup, so a hit needs neither the MAC nor a digest: it is one Map lookup. Entries live at
 * most `ttlMs` (the documented worst-case staleness after a revocation elsewhere), the count is
 * bounded by an LRU (memory stays bounded whatever the traffic), and negative entries (revoked,
 * unknown) keep a flood of validly signed dead tokens from becoming a flood of store reads.
 * Isolates are evicted at any time: this cache is best-effort, never the source of truth.
 */
import type { Session } from "./record.js";

/**
 * A bounded LRU on a Map (insertion order = recency). Written here rather than taken from
 * lru-cache: that library is ~6 KB gzipped, a tenth of the worker's 60 KB bundle budget, for the
 * three operations this cache needs.
 */
export class BoundedLru<K, V> {
  private readonly map = new Map<K, V>();
  constructor(
    readonly max: number,
    private readonly onEvict?: (value: V, key: K) => void,
  ) {}
  get size(): number {
    return this.map.size;
  }
  get(key: K): V | undefined {
    const value = this.map.get(key);
    if (value !== undefined) {
      // Refresh recency.
      this.map.delete(key);
      this.map.set(key, value);
    }
    return value;
  }
  set(key: K, value: V): void {
    const old = this.map.get(key);
    if (old !== undefined) {
      this.map.delete(key);
      this.onEvict?.(old, key);
    }
    this.map.set(key, value);
    if (this.map.size > this.max) {
      const oldest = this.map.keys().next().value as K;
      const evicted = this.map.get(oldest)!;
      this.map.delete(oldest);
      this.onEvict?.(evicted, oldest);
    }
  }
  delete(key: K): void {
    const old = this.map.get(key);
    if (old === undefined) return;
    this.map.delete(key);
    this.onEvict?.(old, key);
  }
  clear(): void {
    this.map.clear();
  }
}

export type CacheEntry =
  | { live: true; session: Session; expiresAt: number }
  | { live: false; reason: "revoked" | "expired"; sessionId: string | null; expiresAt: number };

export interface SessionCacheOptions {
  /** Lifetime of a positive entry in ms; 0 turns the cache off. @default 1000 */
  ttlMs: number;
  /** Lifetime of a negative entry in ms. @default ttlMs */
  negativeTtlMs?: number;
  /** Most entries kept (positive and negative together). @default 10000 */
  maxEntries?: number;
  /** Most forged token strings remembered (see `rememberForged`). @default 1000 */
  maxForged?: number;
  now: () => number;
}

export class SessionCache {
  readonly ttlMs: number;
  readonly negativeTtlMs: number;
  private readonly lru: BoundedLru<string, CacheEntry>;
  /**
   * Token strings whose MAC did not verify. A MAC failure is a pure function of the string and
   * this isolate's key ring, so the entry never goes stale and needs no TTL. It lets a client
   * stuck resending one bad token (or a naive flood of one) skip the HMAC. Kept apart from the
   * session entries on purpose: a flood of *distinct* forged tokens churns only this small LRU
   * and can never evict a live session (which would turn it into store reads).
   */
  private readonly forged: BoundedLru<string, true>;
  /** sessionId → tokens cached for it, so a revocation can evict by id. */
  private readonly bySession = new Map<string, string>();
  private readonly now: () => number;
  private evictions = 0;

  constructor(options: SessionCacheOptions) {
    this.ttlMs = options.ttlMs;
    this.negativeTtlMs = options.negativeTtlMs ?? options.ttlMs;
    this.now = options.now;
    this.lru = new BoundedLru<string, CacheEntry>(Math.max(1, options.maxEntries ?? 10_000), (entry, token) => {
      if (entry.live && this.bySession.get(entry.session.id) === token) this.bySession.delete(entry.session.id);
    });
    this.forged = new BoundedLru<string, true>(Math.max(1, options.maxForged ?? 1000));
  }

  /** True when this exact string already failed the MAC check in this isolate. */
  isForged(token: string): boolean {
    return this.forged.get(token) === true;
  }

  rememberForged(token: string): void {
    this.forged.set(token, true);
  }

  /**
   * Bumped by every `evictSession`. A store read that began under another generation may have
   * seen a session that has ended since: its "live" answer must not be cached (see
   * `SessionManager.lookup`).
   */
  get generation(): number {
    return this.evictions;
  }

  get enabled(): boolean {
    return this.ttlMs > 0;
  }

  get size(): number {
    return this.lru.size;
  }

  get(token: string): CacheEntry | undefined {
    const entry = this.lru.get(token);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.lru.delete(token);
      return undefined;
    }
    return entry;
  }

  putLive(token: string, session: Session): void {
    if (!this.enabled) return;
    // Never cache past the session's own expiry.
    const expiresAt = Math.min(this.now() + this.ttlMs, session.idleExpiresAt, session.absoluteExpiresAt);
    this.lru.set(token, { live: true, session, expiresAt });
    this.bySession.set(session.id, token);
  }

  putDead(token: string, reason: "revoked" | "expired", sessionId: string | null): void {
    if (this.negativeTtlMs <= 0) return;
    this.lru.set(token, { live: false, reason, sessionId, expiresAt: this.now() + this.negativeTtlMs });
  }

  /** Evicts a session at once (logout, revocation handled by this isolate). */
  evictSession(sessionId: string): void {
    // Even when no token of this session is cached here: a read of it may be in flight.
    this.evictions++;
    const token = this.bySession.get(sessionId);
    if (token !== undefined) {
      this.bySession.delete(sessionId);
      this.lru.delete(token);
      // Remember it as dead, so this isolate refuses it without asking the store again.
      this.putDead(token, "revoked", sessionId);
    }
  }

  clear(): void {
    this.lru.clear();
    this.bySession.clear();
    this.forged.clear();
  }
}
