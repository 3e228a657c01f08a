/**
 * The read path: a presented token → a live session, or why not. One public read, in this
 * order: the edge cache (the exact string verified before: one Map lookup), the memory of forged
 * strings, the MAC (a forged token costs no store command), then one store read shared by
 * concurrent callers (single-flight). The lifecycle (create, touch, end) lives in manager.ts and
 * tells this module when sessions end (`evict`).
 *
 * The cache is per isolate and best-effort (isolates are evicted at any time): never the source
 * of truth. Its one rule — never serve a live answer the store has since contradicted — rests on
 * three things kept together here: entries live at most `cacheTtlMs`, a session ended in this
 * isolate is evicted at once, and a read that was in flight across such an end is not cached.
 */
import { DEFAULTS, followTimeoutFor } from "../defaults.js";
import type { InvalidReason, SessionReason } from "../protocol.js";
import type { KeySpace } from "../store/keys.js";
import type { RedisStore } from "../store/redis.js";
import type { KeyRing, VerifyResult } from "../token/key-ring.js";
import { parseDuration } from "../util/duration.js";
import { BoundedLru } from "../util/lru.js";
import { looksLikeBoundCookie, type DeviceSecrets } from "../device/device-secrets.js";
import { decodeRecord, sessionIdFor, type Session } from "./record.js";
import { readChecked, type FreshnessOptions } from "./fresh-read.js";
import { freshnessMetrics } from "./freshness.js";

/** Where a valid answer came from: the edge cache, a store read, or a forced store read. */
export type LookupSource = "hit" | "miss" | "fresh";

export type ReadResult = { ok: true; session: Session; source: LookupSource } | { ok: false; reason: InvalidReason };

export interface SessionReaderOptions {
  store: RedisStore;
  keyRing: KeyRing;
  keys: KeySpace;
  /** Edge cache lifetime in ms (worst-case staleness after a revocation elsewhere); 0 = off. @default 1000 */
  cacheTtlMs?: number;
  /** Most cached tokens per isolate, live and dead together. @default 10000 */
  cacheMaxEntries?: number;
  /** Most forged strings remembered per isolate. @default 1000 */
  forgedMaxEntries?: number;
  /**
   * How long a request waits for another request's read of the same token before reading the
   * store itself. @default followTimeoutFor(1000), 1100 ms
   */
  followTimeoutMs?: number;
  /** The clock (ms since epoch). @default Date.now */
  now?: () => number;
  /** Reads DBSC bound cookies (`b1.…`) too; without it they are malformed tokens. @default none */
  device?: DeviceSecrets;
  /**
   * Read replicas (Upstash Global): prove each miss's data fresh with the store clock, or read it
   * again at the primary (fresh-read.ts). Unset: the store is one Redis and every read is current.
   * @default undefined
   */
  freshness?: FreshnessOptions;
}

type CacheEntry =
  // `hit`: the answer itself, made once per entry (a hit allocates nothing).
  | { live: true; session: Session; expiresAt: number; hit: ReadResult }
  | { live: false; reason: SessionReason; expiresAt: number };

/** What a single-flight leader leaves for its followers: its answer or its failure. */
type FlightOutcome = { result: ReadResult } | { error: unknown };

/**
 * One store read in progress for one token; `outcome` is set when it ends.
 *
 * Followers poll this object on their own timers rather than awaiting anything the leader owns.
 * In workerd a request must not depend on another request's promises: awaiting the leader's
 * read leaves the follower with no pending event of its own (cancelled as hung), and a promise
 * the leader resolves runs the follower's continuation in the leader's context ("Cannot perform
 * I/O on behalf of a different request"). Plain data crosses requests safely, so the leader only
 * writes `outcome`. If the leader never finishes (its request was cancelled, the read hangs), a
 * follower gives up after `followTimeoutMs` and reads the store itself: slower, never stuck.
 */
interface Flight {
  outcome?: FlightOutcome;
  /** The eviction generation when the read began: a request arriving after a revocation does not follow it. */
  generation: number;
}

/**
 * Most flights tracked at once. A leader whose request is cancelled never removes its flight;
 * past this bound the oldest is dropped. Harmless for a live one: its followers hold the object
 * itself, only new requests stop joining it.
 */
const MAX_FLIGHTS = 1000;

/** Follower poll delays in ms: quick at first (a store read takes a few ms), then steady. */
const FOLLOW_POLL_MS = [1, 1, 2, 2, 4, 4, 8];

export class SessionReader {
  private readonly store: RedisStore;
  private readonly keyRing: KeyRing;
  private readonly keys: KeySpace;
  private readonly device: DeviceSecrets | undefined;
  private readonly now: () => number;
  private readonly ttlMs: number;
  private readonly followTimeoutMs: number;
  private readonly entries: BoundedLru<string, CacheEntry>;
  /** sessionId → the token cached for it, so an end can evict by id. */
  private readonly bySession = new Map<string, string>();
  /**
   * Token strings whose MAC did not verify. A MAC failure is a pure function of the string and
   * this isolate's key ring, so the entry never goes stale and needs no TTL. Kept apart from the
   * session entries on purpose: a flood of distinct forged tokens churns only this small LRU and
   * can never evict a live session (which would turn it into store reads).
   */
  private readonly forged: BoundedLru<string, true>;
  private readonly inflight = new Map<string, Flight>();
  private readonly freshness: FreshnessOptions | undefined;
  /** Tokens this isolate has granted from the store: their first refusal is a revocation lag sample. */
  private readonly granted: BoundedLru<string, true>;
  /** Bumped by every eviction: a read that began under another generation must not cache "live". */
  private generation = 0;

  constructor(o: SessionReaderOptions) {
    this.store = o.store;
    this.keyRing = o.keyRing;
    this.keys = o.keys;
    this.device = o.device;
    this.now = o.now ?? Date.now;
    this.ttlMs = o.cacheTtlMs ?? parseDuration(DEFAULTS.cacheTtl)!;
    this.followTimeoutMs = o.followTimeoutMs ?? followTimeoutFor(DEFAULTS.storeTimeoutMs);
    this.entries = new BoundedLru<string, CacheEntry>(Math.max(1, o.cacheMaxEntries ?? DEFAULTS.cacheMaxEntries), (entry, token) => {
      if (entry.live && this.bySession.get(entry.session.id) === token) this.bySession.delete(entry.session.id);
    });
    this.forged = new BoundedLru<string, true>(Math.max(1, o.forgedMaxEntries ?? DEFAULTS.forgedMaxEntries));
    this.freshness = o.freshness;
    this.granted = new BoundedLru<string, true>(Math.max(1, o.cacheMaxEntries ?? DEFAULTS.cacheMaxEntries));
  }

  /**
   * A presented token → its live session or the reason it is refused. `fresh` skips the cache and
   * never shares a read: for routes that must see the store as it is now. Throws `StoreError`
   * when the store cannot answer (never a grant).
   */
  async read(token: string, fresh = false): Promise<ReadResult> {
    return (fresh ? undefined : this.cached(token)) ?? (this.forged.get(token) ? { ok: false, reason: "bad_signature" } : fresh ? this.lookup(token, "fresh") : this.sharedLookup(token));
  }

  /** The cache's answer alone, synchronously: undefined when the store must be asked. */
  cached(token: string): ReadResult | undefined {
    const entry = this.entries.get(token);
    if (entry === undefined) return undefined;
    const now = this.now();
    if (entry.expiresAt <= now) {
      this.entries.delete(token);
      return undefined;
    }
    if (!entry.live) return { ok: false, reason: entry.reason };
    const { session } = entry;
    return now >= session.idleExpiresAt || now >= session.expiresAt ? { ok: false, reason: "expired" } : entry.hit;
  }

  /** The MAC check alone, no store call (a token refused for how it was presented, not what it names). */
  verifySignature(token: string): Promise<VerifyResult> {
    return this.keyRing.verify(token);
  }

  /**
   * Sessions ended in this isolate: evicted at once, and remembered as dead for the cache TTL.
   * `device_bound`: not ended, but its long-lived token stopped counting (a DBSC binding).
   */
  evict(sessionIds: readonly string[], reason: SessionReason = "revoked"): void {
    for (const id of sessionIds) {
      // Even when no token of this session is cached here: a read of it may be in flight.
      this.generation++;
      const token = this.bySession.get(id);
      if (token === undefined) continue;
      this.bySession.delete(id);
      this.entries.delete(token);
      this.putDead(token, reason);
    }
  }

  /** Expiry is checked in code too: the store TTL alone is not trusted (ASVS 7.3.2). */
  expired(session: Session): boolean {
    const now = this.now();
    return now >= session.idleExpiresAt || now >= session.expiresAt;
  }

  /** Live and dead tokens cached now (for tests of the bound). */
  get cachedTokens(): number {
    return this.entries.size;
  }

  /**
   * A cache miss: the first request for a token reads the store (the leader); requests for the
   * same token that arrive meanwhile follow its answer instead of reading again.
   */
  private async sharedLookup(token: string): Promise<ReadResult> {
    const flight = this.inflight.get(token);
    if (flight && flight.generation === this.generation) {
      const outcome = await this.follow(flight);
      if (outcome && "result" in outcome) return outcome.result;
      if (outcome) throw outcome.error;
      // The leader did not finish in time: forget its flight, so later misses do not wait on it
      // too, and read for ourselves.
      if (this.inflight.get(token) === flight) this.inflight.delete(token);
      return this.lookup(token, "miss");
    }
    const own: Flight = { generation: this.generation };
    if (this.inflight.size >= MAX_FLIGHTS) this.inflight.delete(this.inflight.keys().next().value!);
    this.inflight.set(token, own);
    try {
      const result = await this.lookup(token, "miss");
      own.outcome = { result };
      return result;
    } catch (error) {
      own.outcome = { error };
      throw error;
    } finally {
      if (this.inflight.get(token) === own) this.inflight.delete(token);
    }
  }

  /** Polls, on this request's own timers, for the leader's outcome; undefined after `followTimeoutMs`. */
  private async follow(flight: Flight): Promise<FlightOutcome | undefined> {
    let waited = 0;
    for (let i = 0; !flight.outcome && waited < this.followTimeoutMs; i++) {
      const ms = Math.min(FOLLOW_POLL_MS[Math.min(i, FOLLOW_POLL_MS.length - 1)]!, this.followTimeoutMs - waited);
      await new Promise((resolve) => setTimeout(resolve, ms));
      waited += ms;
    }
    return flight.outcome;
  }

  private async lookup(token: string, source: LookupSource): Promise<ReadResult> {
    const generation = this.generation;
    // A DBSC bound cookie names its session and its own short life; a token names a session by hash.
    const boundCookie = this.device !== undefined && looksLikeBoundCookie(token);
    let sessionId: string;
    let credentialExpiresAt = Infinity;
    const verified = boundCookie ? await this.device!.checkBoundCookie(token) : await this.keyRing.verify(token);
    if (!verified.ok) {
      if (verified.reason === "bad_signature") this.forged.set(token, true);
      return verified;
    }
    if ("sessionId" in verified) {
      sessionId = verified.sessionId;
      credentialExpiresAt = verified.expiresAt;
    } else sessionId = await sessionIdFor(verified.id);
    let session: Session | null;
    if (this.freshness) {
      const read = await readChecked({ store: this.store, keys: this.keys, sessionId, now: this.now, atPrimary: source === "fresh", ...this.freshness });
      session = decodeRecord(sessionId, read.record);
      if (!session && read.revokedAt !== null && this.granted.get(token)) {
        this.granted.delete(token);
        (this.freshness.metrics ?? freshnessMetrics).revocationToRefusal(this.now() - read.revokedAt);
      }
    } else session = decodeRecord(sessionId, await this.store.get(this.keys.session(sessionId)));
    if (!session) {
      this.putDead(token, "revoked");
      return { ok: false, reason: "revoked" };
    }
    if (this.expired(session)) {
      this.putDead(token, "expired");
      return { ok: false, reason: "expired" };
    }
    // Decided here, on the store read, and cached with the answer: a hit pays nothing for it. A
    // DBSC-bound session counts only through its bound cookie (its long-lived token, copied
    // before the binding, is refused), and a bound cookie only for a DBSC-bound session.
    if ((session.bound?.kind === "dbsc") !== boundCookie) {
      const reason = boundCookie ? "revoked" : "device_bound";
      this.putDead(token, reason);
      return { ok: false, reason };
    }
    // A session ended in this isolate while this read was in flight must not be cached as live
    // (the store may have answered before the end, the answer arriving after it).
    if (this.generation === generation) this.putLive(token, session, credentialExpiresAt);
    if (this.freshness) this.granted.set(token, true);
    return { ok: true, session, source };
  }

  private putLive(token: string, session: Session, credentialExpiresAt: number): void {
    if (this.ttlMs <= 0) return;
    // Never cache past the session's own expiry, nor past a bound cookie's.
    const expiresAt = Math.min(this.now() + this.ttlMs, session.idleExpiresAt, session.expiresAt, credentialExpiresAt);
    this.entries.set(token, { live: true, session, expiresAt, hit: { ok: true, session, source: "hit" } });
    this.bySession.set(session.id, token);
  }

  /** Dead entries keep a flood of validly signed dead tokens from becoming a flood of store reads. */
  private putDead(token: string, reason: SessionReason): void {
    if (this.ttlMs <= 0) return;
    this.entries.set(token, { live: false, reason, expiresAt: this.now() + this.ttlMs });
  }
}
