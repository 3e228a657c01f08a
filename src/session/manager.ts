/**
 * The session lifecycle: issue, slide, list and end. Reading a presented token is the read
 * path's job (reader.ts); this module tells it when sessions end here, and tells its listeners
 * too (e.g. to close live sockets). Expected outcomes are data (`{ ok: false, reason }`); only
 * infrastructure failures throw (`StoreError`), and the HTTP edge turns those into 503.
 */
import { DEFAULTS, defaultTouchInterval } from "../defaults.js";
import { parseDuration } from "../util/duration.js";
import type { KeySpace } from "../store/keys.js";
import type { RedisStore } from "../store/redis.js";
import { SLIDE_RECORD, SWAP_RECORD } from "../store/device-scripts.js";
import { CREATE_SESSION, DISABLE_ACCOUNT, ENABLE_ACCOUNT, END_SESSION, END_USER_SESSIONS, LIST_SESSIONS, MARK_TTL_MS } from "../store/scripts.js";
import { encodeBase64url, randomBytes } from "../util/base64url.js";
import type { KeyRing } from "../token/key-ring.js";
import { BoundedLru } from "../util/lru.js";
import { describeDevice } from "./device.js";
import { READ_AT_PRIMARY } from "./clock.js";
import { auditArgs, auditKeys, networkOf, type AuditContext, type AuditSettings, type CreatedHow } from "./audit.js";
import type { SessionReader } from "./reader.js";
import { decodeRecord, encodeRecord, sessionIdFor, type DeviceBinding, type Session } from "./record.js";

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

const idle = parseDuration(DEFAULTS.idleTimeout)!;
export const DEFAULT_POLICY: SessionPolicy = {
  idleTimeoutMs: idle,
  absoluteTimeoutMs: parseDuration(DEFAULTS.absoluteTimeout)!,
  maxSessionsPerUser: DEFAULTS.maxSessionsPerUser,
  touchIntervalMs: defaultTouchInterval(idle),
};

export interface SessionManagerOptions {
  store: RedisStore;
  keyRing: KeyRing;
  keys: KeySpace;
  policy: SessionPolicy;
  /** Told of every session ended here, so its cached answers go at once. */
  reader: SessionReader;
  /** The clock (ms since epoch). Tests pass a controllable one. @default Date.now */
  now?: () => number;
  /**
   * Read sessions by id at the primary (read replicas: a replica may lack a session just created
   * or still hold one just ended). @default false
   */
  readAtPrimary?: boolean;
  /** The audit trail: events appended by the same scripts that make the changes. @default null (off) */
  audit?: AuditSettings | null;
}

export interface NewSessionInput {
  /** For the audit trail. @default "login" ("password-change" when `passwordChange` is set) */
  how?: CreatedHow;
  user: { id: string; email: string; roles: string[] };
  userAgent?: string | null;
  ip?: string | null;
  data?: Record<string, unknown>;
  /** The account's credential version read with the password; a concurrent change makes the login fail. */
  credentialVersion?: string;
  /** End every other session of the user in the same atomic step (password change). */
  endOthers?: boolean;
  /**
   * A password change: the new hash and credential version, written in the same atomic step
   * as the session (`credentialVersion` is the version the current password was read at).
   */
  passwordChange?: { hash: string; version: string };
  /** Bind the session from birth (a DPoP key's thumbprint, proven at login). @default unbound */
  bound?: DeviceBinding;
}

export type CreateResult =
  | { ok: true; token: string; session: Session; ended: string[] }
  | { ok: false; reason: "disabled" | "stale" };

/** What listeners hear when sessions end here: whose, and which. */
export interface EndedEvent {
  userId: string;
  sessionIds: string[];
  /** When they ended, by this isolate's clock (ms since epoch). */
  at: number;
}

/**
 * Told when sessions end here (logout, revocation, cap, password change, kill switch). The call
 * that ended them awaits whatever a listener returns (so `(e) => pushSessionsEnded(ns, e)` is
 * finished before the revoking response goes out); a listener's failure is logged and never
 * undoes or fails the revocation. The returned value itself is ignored.
 */
export type EndedListener = (event: EndedEvent) => unknown;

export class SessionManager {
  readonly policy: SessionPolicy;
  private readonly store: RedisStore;
  private readonly keyRing: KeyRing;
  private readonly keys: KeySpace;
  private readonly reader: SessionReader;
  private readonly now: () => number;
  /** sessionId → the lastSeenAt of the newest slide scheduled in this isolate (so it is not scheduled twice). */
  private readonly slid = new BoundedLru<string, number>(DEFAULTS.cacheMaxEntries);
  private readonly endedListeners = new Set<EndedListener>();
  private readonly readAtPrimary: boolean;
  private readonly audit: AuditSettings | null;

  constructor(options: SessionManagerOptions) {
    this.store = options.store;
    this.keyRing = options.keyRing;
    this.keys = options.keys;
    this.policy = options.policy;
    this.reader = options.reader;
    this.now = options.now ?? Date.now;
    this.readAtPrimary = options.readAtPrimary ?? false;
    this.audit = options.audit ?? null;
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
      expiresAt: now + this.policy.absoluteTimeoutMs,
      device: describeDevice(input.userAgent),
      ip: (input.ip ?? "").slice(0, 45),
      ...(input.data ? { data: input.data } : {}),
      ...(input.bound ? { bound: input.bound } : {}),
    };
    const reply = await this.store.run<(number | string)[]>(
      CREATE_SESSION,
      [this.keys.session(sessionId), this.keys.userIndex(session.userId), this.keys.account(session.userId), this.opKey(), ...auditKeys(this.audit, session.userId)],
      [
        sessionId,
        encodeRecord(session),
        ttlFor(session, now),
        now,
        this.policy.maxSessionsPerUser,
        this.keys.sessionPrefix,
        this.policy.absoluteTimeoutMs,
        input.credentialVersion ?? "",
        input.endOthers ? "1" : "0",
        input.passwordChange?.hash ?? "",
        input.passwordChange?.version ?? "",
        this.keys.markPrefix,
        MARK_TTL_MS,
        ...(this.audit ? [...auditArgs(this.audit, now), session.userId, input.how ?? (input.passwordChange ? "password-change" : "login"), session.device, networkOf(session.ip)] : []),
      ],
    );
    if (Number(reply[0]) !== 1) return { ok: false, reason: String(reply[1]) === "disabled" ? "disabled" : "stale" };
    const ended = reply.slice(1).map(String);
    await this.ended(session.userId, ended);
    return { ok: true, token, session, ended };
  }

  /**
   * Sliding idle expiry: the store write for activity seen now, or null when none is due (at most
   * one per touch interval per isolate, never past the absolute lifetime). The caller decides
   * when it runs (`waitUntil` off the response path, or awaited). `SET … XX` never resurrects a
   * session ended meanwhile, and a failed slide resolves false: it only shortens the idle window.
   */
  touch(session: Session): Promise<boolean> | null {
    const now = this.now();
    const interval = this.policy.touchIntervalMs;
    // The common case first (no slide due per the record), before touching the LRU.
    if (now - session.lastSeenAt < interval) return null;
    const slid = this.slid.get(session.id);
    if (slid !== undefined && now - slid < interval) return null;
    this.slid.set(session.id, now);
    const next: Session = { ...session, lastSeenAt: now, idleExpiresAt: Math.min(now + this.policy.idleTimeoutMs, session.expiresAt) };
    // A guarded SET … PX XX: a copy read before a DBSC binding never overwrites the bound record.
    return this.store
      .run<number>(SLIDE_RECORD, [this.keys.session(session.id)], [encodeRecord(next), ttlFor(next, now)])
      .then((n) => Number(n) === 1)
      .catch(() => false);
  }

  /**
   * Binds a live, unbound session to a device key once (DBSC registration): a compare-and-set on
   * the record as read, retried when a slide changed it meanwhile. The long-lived token's cached
   * answers go at once (it no longer counts: reader.ts).
   */
  async bind(sessionId: string, binding: DeviceBinding): Promise<{ ok: true; session: Session } | { ok: false; reason: "revoked" | "already_bound" | "busy" }> {
    const key = this.keys.session(sessionId);
    for (let attempt = 0; attempt < 3; attempt++) {
      const raw = await this.store.get(key);
      const session = decodeRecord(sessionId, raw);
      if (!raw || !session || this.reader.expired(session)) return { ok: false, reason: "revoked" };
      if (session.bound) return { ok: false, reason: "already_bound" };
      const next: Session = { ...session, bound: binding };
      if (Number(await this.store.run<number>(SWAP_RECORD, [key], [raw, encodeRecord(next)])) === 1) {
        this.reader.evict([sessionId], "device_bound");
        return { ok: true, session: next };
      }
    }
    return { ok: false, reason: "busy" };
  }

  /** Reads one session by its public id (no token): for listing and ownership checks. */
  async get(sessionId: string): Promise<Session | null> {
    const key = this.keys.session(sessionId);
    const raw = this.readAtPrimary ? ((await this.store.run<[string, string]>(READ_AT_PRIMARY, [key, this.keys.markPrefix + sessionId], []))?.[0] || null) : await this.store.get(key);
    const session = decodeRecord(sessionId, raw);
    return session && !this.reader.expired(session) ? session : null;
  }

  /** The user's live sessions, oldest first (ASVS 7.5.2). */
  async list(userId: string): Promise<Session[]> {
    const flat = await this.store.run<string[]>(
      LIST_SESSIONS,
      [this.keys.userIndex(userId), ...auditKeys(this.audit, userId)],
      [this.keys.sessionPrefix, ...(this.audit ? [...auditArgs(this.audit, this.now()), userId] : [])],
    );
    const out: Session[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const s = decodeRecord(String(flat[i]), String(flat[i + 1]));
      if (s && !this.reader.expired(s)) out.push(s);
    }
    return out;
  }

  /** Ends one session (logout, revoke one). Returns true when it was live. `ctx`: for the audit trail. @default logout by its user */
  async end(session: Pick<Session, "id" | "userId">, ctx: AuditContext = {}): Promise<boolean> {
    const n = await this.store.run<number>(
      END_SESSION,
      [this.keys.session(session.id), this.keys.userIndex(session.userId), ...auditKeys(this.audit, session.userId)],
      [session.id, this.keys.markPrefix, MARK_TTL_MS, ...this.auditTail(session.userId, ctx.why ?? "logout", ctx.by ?? session.userId)],
    );
    await this.ended(session.userId, [session.id]);
    return Number(n) === 1;
  }

  /** Ends every session of a user. Returns how many were live. */
  async endAll(userId: string, keep?: undefined, ctx?: AuditContext): Promise<number>;
  /**
   * Ends every other session of a user, keeping `keep` — only if `keep` is still live, checked
   * atomically in the store. Returns how many were live, or null (nothing ended) when `keep` has
   * ended meanwhile.
   */
  async endAll(userId: string, keep?: string, ctx?: AuditContext): Promise<number | null>;
  async endAll(userId: string, keep?: string, ctx: AuditContext = {}): Promise<number | null> {
    const [status, ...ended] =
      (await this.store.run<(number | string)[]>(
        END_USER_SESSIONS,
        [this.keys.userIndex(userId), this.opKey(), ...auditKeys(this.audit, userId)],
        [this.keys.sessionPrefix, keep ?? "", this.keys.markPrefix, MARK_TTL_MS, ...this.auditTail(userId, ctx.why ?? (keep ? "revoke-others" : "kill-switch"), ctx.by ?? userId)],
      )) ?? [];
    if (Number(status) !== 1) return null;
    const ids = ended.map(String);
    await this.ended(userId, ids);
    return ids.length;
  }

  /**
   * Disables a user — any user id, with a password account or not — and ends all their sessions
   * atomically (DISABLE_ACCOUNT); `create` refuses them from then on. With `actingSessionId`, only
   * while that session is live. Returns how many sessions were live.
   */
  async disableUser(userId: string, actingSessionId?: string, by = "system"): Promise<{ ok: true; revoked: number } | { ok: false; reason: "revoked" }> {
    const reply = await this.store.run<(number | string)[]>(
      DISABLE_ACCOUNT,
      [this.keys.account(userId), this.keys.userIndex(userId), actingSessionId ? this.keys.session(actingSessionId) : "", this.opKey(), ...auditKeys(this.audit, userId)],
      [this.keys.sessionPrefix, this.keys.markPrefix, MARK_TTL_MS, ...(this.audit ? [...auditArgs(this.audit, this.now()), userId, by] : [])],
    );
    if (Number(reply[0]) !== 1) return { ok: false, reason: "revoked" };
    const ids = reply.slice(1).map(String);
    await this.ended(userId, ids);
    return { ok: true, revoked: ids.length };
  }

  /** Lifts a disable (ENABLE_ACCOUNT). With `actingSessionId`, only while that session is live. `by`: for the audit trail. */
  async enableUser(userId: string, actingSessionId?: string, by = "system"): Promise<{ ok: true } | { ok: false; reason: "revoked" }> {
    const done = await this.store.run<number>(
      ENABLE_ACCOUNT,
      [this.keys.account(userId), actingSessionId ? this.keys.session(actingSessionId) : "", ...auditKeys(this.audit, userId)],
      this.audit ? [...auditArgs(this.audit, this.now()), userId, by] : [],
    );
    return Number(done) === 1 ? { ok: true } : { ok: false, reason: "revoked" };
  }

  /** A fresh operation key: a retried script run answers what the first run did (scripts.ts replayable()). */
  private opKey(): string {
    return this.keys.op(encodeBase64url(randomBytes(16)));
  }

  /** The audit arguments of END_SESSION / END_USER_SESSIONS: MINID, lifetime, user, why, by. */
  private auditTail(userId: string, why: string, by: string): (string | number)[] {
    return this.audit ? [...auditArgs(this.audit, this.now()), userId, why, by] : [];
  }

  private async ended(userId: string, sessionIds: string[]): Promise<void> {
    if (!sessionIds.length) return;
    this.reader.evict(sessionIds);
    if (!this.endedListeners.size) return;
    const event: EndedEvent = { userId, sessionIds, at: this.now() };
    const outcomes = await Promise.allSettled([...this.endedListeners].map(async (listener) => listener(event)));
    for (const o of outcomes) {
      if (o.status === "rejected") console.error(JSON.stringify({ level: "error", msg: "session-ended listener failed", error: String(o.reason) }));
    }
  }
}

function ttlFor(session: Session, now: number): number {
  return Math.max(1, Math.min(session.idleExpiresAt, session.expiresAt) - now);
}
