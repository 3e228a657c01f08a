/**
 * The front-page session API: four calls over a `SessionManager`, for apps that sign users in
 * by any means of their own (OAuth/OIDC, SSO, magic links, passkeys) and hand the session to
 * edge-session from there.
 *
 *   const { token, session } = await layer.createSession({ id, email, roles: [] });
 *   const r = await layer.validateSession(token);   // { ok: true, session, user } | { ok: false, reason }
 *   await layer.endSession(session.id);              // one session
 *   await layer.endUserSessions(user.id);            // every session of the user
 *
 * Refusals are data; a store outage throws `StoreError`, which `errorHandler` (mounted with
 * `app.onError`) turns into the worker's 503. `createSessionLayer()` returns these calls with
 * the layer; the RPC entrypoint's `createSession` is the same call for trusted workers.
 */
import type { SessionCore } from "./core.js";
import { toUser } from "../credentials/authenticate.js";
import type { InvalidReason, SessionUser } from "../protocol.js";
import type { EndedListener } from "./manager.js";
import { SESSION_ID, type Session } from "./record.js";

/** User ids as the store keys them: what `createSession` accepts. */
export const USER_ID = /^[A-Za-z0-9_-]{1,64}$/;
/** Longest email kept in a session (RFC 5321's path limit). */
const MAX_EMAIL = 254;
/** At most this many roles, each a short name: the record stays small. */
const MAX_ROLES = 32;
const ROLE = /^[A-Za-z0-9_.:-]{1,64}$/;

/** Who the session is for, as your own sign-in established it. */
export interface NewSessionUser {
  /** Your stable user id: 1–64 of `A–Z a–z 0–9 _ -` (e.g. an OIDC `sub` mapped to your id). */
  id: string;
  email: string;
  /** @default [] */
  roles?: string[];
}

export interface NewSessionMeta {
  /** The signing-in request's User-Agent, shown as "Chrome 136 on macOS" in session lists. */
  userAgent?: string | null;
  /** The client IP (`CF-Connecting-IP`). */
  ip?: string | null;
  /** Small JSON data kept with the session (`session.data`), e.g. the ID token for RP-initiated logout. */
  data?: Record<string, unknown>;
}

export type CreateSessionResult =
  | { ok: true; token: string; session: Session; user: SessionUser }
  /** `disabled`: an admin (or `disableUser`) disabled this user id. */
  | { ok: false; reason: "disabled" };

export type ValidateSessionResult = { ok: true; session: Session; user: SessionUser } | { ok: false; reason: "missing" | InvalidReason };

/** A WebSocket ticket: single use, for `expiresIn` seconds (at most 30). */
export type IssueTicketResult = { ok: true; ticket: string; expiresIn: number } | { ok: false; reason: "too_many_tickets"; retryAfterSeconds: number };

export interface SessionApi {
  /** Issues a new session and its token for a user your code has authenticated. */
  createSession(user: NewSessionUser, meta?: NewSessionMeta): Promise<CreateSessionResult>;
  /**
   * Validates a token exactly as `sessionAuth()` does (signature, edge cache, store). Pass
   * `waitUntil` (`c.executionCtx.waitUntil`) so the sliding-expiry write outlives the response.
   */
  validateSession(token: string | null | undefined, options?: { waitUntil?: (p: Promise<unknown>) => void }): Promise<ValidateSessionResult>;
  /** Ends one session by its id (`session.id`). True when it was live. */
  endSession(sessionId: string): Promise<boolean>;
  /** Ends every session of a user. Returns how many were live. */
  endUserSessions(userId: string): Promise<number>;
  /**
   * The kill switch for a user of your own sign-in: ends every session of the user and makes
   * `createSession` refuse them (`disabled`) until `enableUser`, in one atomic step. Any user id.
   */
  disableUser(userId: string): Promise<{ revoked: number }>;
  /** Lifts `disableUser`: `createSession` works for the user again (old sessions stay ended). */
  enableUser(userId: string): Promise<void>;
  /**
   * A single-use WebSocket ticket for this (verified) session, for `?token=` or the
   * `["session", ticket]` subprotocol: the session token itself never goes into a URL.
   * `too_many_tickets` beyond the outstanding-ticket cap per user.
   */
  issueTicket(session: Pick<Session, "id" | "userId">): Promise<IssueTicketResult>;
  /**
   * Subscribes to every end of a session made through this layer (logout, revocation,
   * sign-out-everywhere, the cap): push it to sockets with `pushSessionsEnded`. Returns an
   * unsubscribe function.
   */
  onSessionsEnded(listener: EndedListener): () => void;
}

/** Throws a TypeError naming the bad field: a malformed user is a bug in the caller, not a refusal. */
export function checkNewSessionUser(user: NewSessionUser): { id: string; email: string; roles: string[] } {
  if (typeof user !== "object" || user === null) throw new TypeError("createSession: user must be { id, email, roles? }");
  if (typeof user.id !== "string" || !USER_ID.test(user.id)) throw new TypeError("createSession: user.id must be 1-64 characters of A-Z a-z 0-9 _ -");
  if (typeof user.email !== "string" || user.email.length > MAX_EMAIL) throw new TypeError(`createSession: user.email must be a string of at most ${MAX_EMAIL} characters`);
  const roles = user.roles ?? [];
  if (!Array.isArray(roles) || roles.length > MAX_ROLES || !roles.every((r) => typeof r === "string" && ROLE.test(r))) {
    throw new TypeError(`createSession: user.roles must be at most ${MAX_ROLES} names of 1-64 characters (A-Z a-z 0-9 _ . : -)`);
  }
  return { id: user.id, email: user.email, roles: [...roles] };
}

export function sessionApi(core: Pick<SessionCore, "reader" | "sessions"> & Partial<Pick<SessionCore, "tickets">>): SessionApi {
  const { reader, sessions, tickets } = core;
  return {
    async createSession(user, meta = {}) {
      // The audit trail says "sso" for a session whose data came from an OpenID Connect sign-in.
      const how = meta.data && "oidc" in meta.data ? "sso" : "api";
      const created = await sessions.create({ user: checkNewSessionUser(user), userAgent: meta.userAgent, ip: meta.ip, how, ...(meta.data ? { data: meta.data } : {}) });
      if (!created.ok) return { ok: false, reason: "disabled" };
      return { ok: true, token: created.token, session: created.session, user: toUser(created.session) };
    },
    async validateSession(token, options = {}) {
      if (typeof token !== "string" || token === "") return { ok: false, reason: "missing" };
      const r = reader.cached(token) ?? (await reader.read(token));
      if (!r.ok) return { ok: false, reason: r.reason };
      const write = sessions.touch(r.session);
      if (write) options.waitUntil?.(write);
      return { ok: true, session: r.session, user: toUser(r.session) };
    },
    async endSession(sessionId) {
      if (typeof sessionId !== "string" || !SESSION_ID.test(sessionId)) return false;
      const session = await sessions.get(sessionId);
      return session ? sessions.end(session, { why: "revoked", by: "api" }) : false;
    },
    async endUserSessions(userId) {
      if (typeof userId !== "string" || !USER_ID.test(userId)) return 0;
      return sessions.endAll(userId, undefined, { why: "kill-switch", by: "api" });
    },
    async disableUser(userId) {
      if (typeof userId !== "string" || !USER_ID.test(userId)) throw new TypeError("disableUser: userId must be 1-64 characters of A-Z a-z 0-9 _ -");
      const done = await sessions.disableUser(userId, undefined, "api");
      return { revoked: done.ok ? done.revoked : 0 };
    },
    async enableUser(userId) {
      if (typeof userId !== "string" || !USER_ID.test(userId)) throw new TypeError("enableUser: userId must be 1-64 characters of A-Z a-z 0-9 _ -");
      await sessions.enableUser(userId, undefined, "api");
    },
    async issueTicket(session) {
      if (!tickets) throw new Error("issueTicket: this session API was made without a ticket store");
      const issued = await tickets.issue({ sessionId: session.id, userId: session.userId });
      if (!issued.ok) return { ok: false, reason: "too_many_tickets", retryAfterSeconds: issued.retryAfterSeconds };
      return { ok: true, ticket: issued.ticket, expiresIn: tickets.ttlSeconds };
    },
    onSessionsEnded(listener) {
      return sessions.onEnded(listener);
    },
  };
}
