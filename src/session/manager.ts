/**
 * The session lifecycle: issue, validate (signature first, then cache, then store), slide,
 * list and end. Expected outcomes are data (`{ ok: false, reason }`); only infrastructure
 * failures throw (`StoreUnavailableError`), and the HTTP edge turns those into 503.
 */
import type { KeyRing } from "../token/key-ring.js";
import { SessionCache } from "./cache.js";
import type { KeySpace } from "./keys.js";
import { describeDevice } from "./device.js";
import { decodeRecord, encodeRecord, sessionIdFor, type Session } from "./record.js";
import { CREATE_SESSION, END_SESSION, END_USER_SESSIONS, LIST_SESSIONS } from "./scripts.js";
import type { SessionStoreClient } from "./store.js";

export type InvalidReason = "malformed" | "bad_signature" | "unknown_key" | "expired" | "revoked";

/** Where a valid answer came from: the edge cache, a store read, or a forced store read. */
export type LookupSource = "hit" | "miss" | "fresh";

export type ValidateResult =
  | { ok: true; session: Session; source: LookupSource; token: string }
  | { ok: false; reason: InvalidReason };

export interface SessionPolicy {
  /** Inactivity timeout (ASVS 7.3.1). @default 30 minutes */
  idleTimeoutMs: number;
  /** Absolute lifetime, enforced in code as well as by the store TTL (ASVS 7.3.2). @default 12 hours */
  absoluteTimeoutMs: number;
  /** Concurrent sessions per user; the oldest is ended beyond this (ASVS 7.1.2). @default 20 */
  maxSessionsPerUser: number;
  /** Least time between two sliding-expiry writes. @default max(idle / 10, 60 s) */
  touchIntervalMs: number;
}

export interface SessionManagerOptions {
  store: SessionStoreClient;
  keyRing: KeyRing;
  keys: KeySpace;
  policy: SessionPolicy;
  /** Edge cache lifetime in ms (worst-case staleness after a revocation elsewhere); 0 = off. @default 1000 */
  cacheTtlMs?: number;
  /** Most cached tokens per isolate. @default 10000 */
  cacheMaxEntries?: number;
  /**
   * How long a request waits for another request's read of the same token before reading the
   * store itself (single-flight; see `Flight`). A little over the store timeout: past that, the
   * leader's read has failed or its request is gone. @default followTimeoutFor(1000), 1100 ms
   */
  followTimeoutMs?: number;
  /** The clock (ms since epoch). Tests pass a controllable one. @default Date.now */
  now?: () => number;
}

export interface NewSessionInput {
  user: { id: string; email: string; roles: string[] };
  userAgent?: string | null;
  ip?: string | null;
  data?: Record<string, unknown>;
  /** The account's credential version read with the password; a concurrent change makes the login fail. */
  credentialVersion?: string;
  /** End every other session of the user in the same atomic step (password change). */
  endOthers?: boolean;
}

export type CreateResult =
  | { ok: true; token: string; session: Session; ended: string[] }
  | { ok: false; reason: "disabled" | "stale" };

export interface ValidateOptions {
  /** Skip the edge cache and read the store (account and session-management routes). */
  fresh?: boolean;
  /** Schedules the sliding-expiry write off the response path. */
  waitUntil?: (promise: Promise<unknown>) => void;
}

/** Listeners told when sessions end here, e.g. to close this isolate's sockets at once. */
export type EndedListener = (sessionIds: string[]) => void;

export const DEFAULT_POLICY: SessionPolicy = {
  idleTimeoutMs: 30 * 60_000,
  absoluteTimeoutMs: 12 * 3_600_000,
  maxSessionsPerUser: 20,
  touchIntervalMs: 3 * 60_000,
};

/**
 * How long single-flight followers wait for a leader: a little over the store's own budget per
 * operation, so a failed read reaches them as that failure (a 503 at once) rather than as a
 * second attempt of their own.
 */
export function followTimeoutFor(storeTimeoutMs: number): number {
  return storeTimeoutMs + 100;
}

export function defaultTouchInterval(idleTimeoutMs: number): number {
  return Math.max(Math.floor(idleTimeoutMs / 10), 60_000);
}

/** What a single-flight leader leaves for its followers: its answer or its failure. */
type FlightOutcome = { result: ValidateResult } | { error: unknown };

/**
 * One store read in progress for one token; `outcome` is set when it ends.
 *
 * Followers poll this object on their own timers rather than awaiting anything the leader owns.
 * In workerd a request must not depend on another request's promises: awaiting the leader's
 * read leaves the follower with no pending event of its own (cancelled as hung, a 500), and a
 * promise the leader resolves runs the follower's continuation in the leader's context (a 500,
 * "Cannot perform I/O on behalf of a different request"). The first was reproduced by
 * bench/repro-single-flight.ts, both by the benchmark's `burst` scenario (`npm run bench`). Plain data crosses requests safely (the
 * edge cache relies on it too), so the leader only writes `outcome`; each follower wakes on its
 * own timer, reads it, and carries on in its own context. If the leader never finishes (its
 * request was cancelled, the read hangs), the follower gives up after `followTimeoutMs` and
 * reads the store itself: slower, never stuck.
 */
interface Flight {
  outcome?: FlightOutcome;
  /** The cache's eviction generation when the read began: a request arriving after a revocation does not follow it. */
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

export class SessionManager {
  readonly policy: SessionPolicy;
  readonly cache: SessionCache;
  readonly keyRing: KeyRing;
  private readonly store: SessionStoreClient;
  private readonly keys: KeySpace;
  private readonly now: () => number;
  /** Single-flight: concurrent misses for one token share one store read (see `Flight`). */
  private readonly inflight = new Map<string, Flight>();
  private readonly followTimeoutMs: number;
  /** Sessions whose sliding write is already scheduled in this isolate. */
  private readonly touching = new Set<string>();
  private readonly endedListeners = new Set<EndedListener>();

  constructor(options: SessionManagerOptions) {
    this.store = options.store;
    this.keyRing = options.keyRing;
    this.keys = options.keys;
    this.policy = options.policy;
    this.now = options.now ?? Date.now;
    this.followTimeoutMs = options.followTimeoutMs ?? followTimeoutFor(1000);
    this.cache = new SessionCache({ ttlMs: options.cacheTtlMs ?? 1000, maxEntries: options.cacheMaxEntries, now: this.now });
  }

  onEnded(listener: EndedListener): () => void {
    this.endedListeners.add(listener);
    return () => this.endedListeners.delete(listener);
  }

  /** Issues a new session and token (ASVS 7.2.4: a new token at every authentication). */
  async create(input: NewSessionInput): Promise<CreateResult> {
    const { token, id } = await this.keyRing.issue();
    const sessionId = await sessionIdFor(id);
    const now = this.now();
    const session: Session = {
      id: sessionId,
      userId: input.user.id,
      email: input.user.email,
      roles: input.user.roles,
      createdAt: now,
      lastSeenAt: now,
      idleExpiresAt: Math.min(now + this.policy.idleTimeoutMs, now + this.policy.absoluteTimeoutMs),
      absoluteExpiresAt: now + this.policy.absoluteTimeoutMs,
      device: describeDevice(input.userAgent),
      ip: (input.ip ?? "").slice(0, 45),
      ...(input.data ? { data: input.data } : {}),
    };
    const reply = await this.store.run<(number | string)[]>(
      CREATE_SESSION,
      [this.keys.session(sessionId), this.keys.userIndex(session.userId), this.keys.account(session.userId)],
      [
        sessionId,
        encodeRecord(session),
        this.ttlFor(session, now),
        now,
        this.policy.maxSessionsPerUser,
        this.keys.sessionPrefix,
        this.policy.absoluteTimeoutMs,
        input.credentialVersion ?? "",
        input.endOthers ? "1" : "0",
      ],
    );
    if (Number(reply[0]) !== 1) return { ok: false, reason: reply[1] === "disabled" ? "disabled" : "stale" };
    const ended = reply.slice(1).map(String);
    this.ended(ended);
    return { ok: true, token, session, ended };
  }

  /**
   * Validates a presented token: the edge cache (an exact string verified before), then strings
   * known to be forged, then shape and MAC (a forged token costs no store command), then one
   * store read shared by concurrent callers.
   */
  async validate(token: string, options: ValidateOptions = {}): Promise<ValidateResult> {
    if (!options.fresh) {
      const cached = this.cache.get(token);
      if (cached) {
        if (!cached.live) return { ok: false, reason: cached.reason };
        const check = this.checkExpiry(cached.session);
        if (check) return check;
        this.maybeTouch(cached.session, options.waitUntil);
        return { ok: true, session: cached.session, source: "hit", token };
      }
    }
    if (this.cache.isForged(token)) return { ok: false, reason: "bad_signature" };
    const result = options.fresh ? await this.lookup(token, "fresh") : await this.sharedLookup(token);
    if (result.ok) this.maybeTouch(result.session, options.waitUntil);
    return result;
  }

  /**
   * A cache miss: the first request for a token reads the store (the leader); requests for the
   * same token that arrive meanwhile wait for its answer instead of reading again. Fresh reads
   * (account routes) never share: they exist to see the store as it is now.
   */
  private async sharedLookup(token: string): Promise<ValidateResult> {
    const flight = this.inflight.get(token);
    // A flight that began before a revocation handled here may carry a stale "live": join only
    // flights that began under the current generation, else read (and lead) anew.
    if (flight && flight.generation === this.cache.generation) {
      const outcome = await this.follow(flight);
      if (outcome && "result" in outcome) return outcome.result;
      if (outcome) throw outcome.error;
      // The leader did not finish in time: its request was cancelled (its `finally` will never
      // run) or its read is stuck. Forget its flight, so later misses do not wait on it too,
      // and read for ourselves.
      if (this.inflight.get(token) === flight) this.inflight.delete(token);
      return this.lookup(token, "miss");
    }
    const own: Flight = { generation: this.cache.generation };
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

  private async lookup(token: string, source: LookupSource): Promise<ValidateResult> {
    // A session ended in this isolate while this read was in flight must not be cached as live
    // afterwards (the store may have answered before the end, the answer arriving after it).
    const generation = this.cache.generation;
    const verified = await this.keyRing.verify(token);
    if (!verified.ok) {
      if (verified.reason === "bad_signature") this.cache.rememberForged(token);
      return verified;
    }
    const sessionId = await sessionIdFor(verified.id);
    const session = decodeRecord(sessionId, await this.store.get(this.keys.session(sessionId)));
    if (!session) {
      this.cache.putDead(token, "revoked", sessionId);
      return { ok: false, reason: "revoked" };
    }
    const check = this.checkExpiry(session);
    if (check) {
      this.cache.putDead(token, "expired", sessionId);
      return check;
    }
    if (this.cache.generation === generation) this.cache.putLive(token, session);
    return { ok: true, session, source, token };
  }

  /** Expiry is checked in code too: the store TTL alone is not trusted (ASVS 7.3.2). */
  private checkExpiry(session: Session): { ok: false; reason: "expired" } | null {
    const now = this.now();
    return now >= session.idleExpiresAt || now >= session.absoluteExpiresAt ? { ok: false, reason: "expired" } : null;
  }

  private ttlFor(session: Session, now: number): number {
    return Math.max(1, Math.min(session.idleExpiresAt, session.absoluteExpiresAt) - now);
  }

  /**
   * Sliding idle expiry: at most one write per touch interval, never past the absolute
   * lifetime, off the response path. `SET … XX` never resurrects a session ended meanwhile.
   */
  private maybeTouch(session: Session, waitUntil?: (p: Promise<unknown>) => void): void {
    const now = this.now();
    if (now - session.lastSeenAt < this.policy.touchIntervalMs || this.touching.has(session.id)) return;
    const next: Session = {
      ...session,
      lastSeenAt: now,
      idleExpiresAt: Math.min(now + this.policy.idleTimeoutMs, session.absoluteExpiresAt),
    };
    // Update cached copies at once so this isolate does not schedule the same write again.
    session.lastSeenAt = next.lastSeenAt;
    session.idleExpiresAt = next.idleExpiresAt;
    this.touching.add(session.id);
    const write = this.store
      .set(this.keys.session(session.id), encodeRecord(next), { px: this.ttlFor(next, now), xx: true })
      .catch(() => false) // A failed slide only shortens the idle window; never fail the request.
      .finally(() => this.touching.delete(session.id));
    if (waitUntil) waitUntil(write);
  }

  /** Slides a session's idle window for activity seen outside HTTP (a live WebSocket). */
  async keepAlive(session: Session): Promise<void> {
    let write: Promise<unknown> | undefined;
    this.maybeTouch(session, (p) => (write = p));
    await write;
  }

  /** Reads one session by its public id (no token): for listing and ownership checks. */
  async get(sessionId: string): Promise<Session | null> {
    const session = decodeRecord(sessionId, await this.store.get(this.keys.session(sessionId)));
    return session && !this.checkExpiry(session) ? session : null;
  }

  /** The user's live sessions, oldest first (ASVS 7.5.2). */
  async list(userId: string): Promise<Session[]> {
    const flat = await this.store.run<string[]>(LIST_SESSIONS, [this.keys.userIndex(userId)], [this.keys.sessionPrefix]);
    const out: Session[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const s = decodeRecord(String(flat[i]), String(flat[i + 1]));
      if (s && !this.checkExpiry(s)) out.push(s);
    }
    return out;
  }

  /** Ends one session (logout, revoke one). Returns true when it was live. */
  async end(session: Pick<Session, "id" | "userId">): Promise<boolean> {
    const n = await this.store.run<number>(END_SESSION, [this.keys.session(session.id), this.keys.userIndex(session.userId)], [session.id]);
    this.ended([session.id]);
    return Number(n) === 1;
  }

  /** Ends every session of a user. Returns how many were live. */
  async endAll(userId: string): Promise<number>;
  /**
   * Ends every other session of a user, keeping `keep` — only if `keep` is still live, checked
   * atomically in the store. Returns how many were live, or null (nothing ended) when `keep` has
   * ended meanwhile.
   */
  async endAll(userId: string, keep?: string): Promise<number | null>;
  async endAll(userId: string, keep?: string): Promise<number | null> {
    const [status, ...ended] = (await this.store.run<(number | string)[]>(END_USER_SESSIONS, [this.keys.userIndex(userId)], [this.keys.sessionPrefix, keep ?? ""])) ?? [];
    if (Number(status) !== 1) return null;
    const ids = ended.map(String);
    this.ended(ids);
    return ids.length;
  }

  private ended(ids: string[]): void {
    if (!ids.length) return;
    for (const id of ids) this.cache.evictSession(id);
    for (const listener of this.endedListeners) listener(ids);
  }
}
