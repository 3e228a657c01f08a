/**
 * The object side of a verified socket, for any Durable Object that holds them (our room, or a
 * team's own object; see library.ts): accept with the hibernation API and tags, close by
 * session or user, answer the per-user object's reconciliation, and re-check sessions from the
 * object's alarm. No timers anywhere: an idle socket costs nothing until something happens.
 */
import type { Session } from "../session/record.js";
import { StoreError } from "../store/redis.js";
import {
  CLOSE_SESSION_ENDED,
  CLOSE_STORE_UNAVAILABLE,
  sessionTag,
  socketTag,
  tagsFor,
  userTag,
  type SocketIdentity,
} from "./identity.js";

/** What our helpers keep in a socket's attachment (teams using partyserver keep it in the connection state). */
export interface VerifiedAttachment {
  es: SocketIdentity;
  /** Set on the first message after a re-check: the alarm slides the session's idle window. */
  active?: true;
}

/** Accepts `ws` in this object, hibernatable, tagged for session, user and socket, identity attached. */
export function acceptVerified(ctx: DurableObjectState, ws: WebSocket, identity: SocketIdentity): void {
  ctx.acceptWebSocket(ws, tagsFor(identity));
  ws.serializeAttachment({ es: identity } satisfies VerifiedAttachment);
}

/** The identity our helpers attached to this socket, or null. */
export function identityOf(ws: WebSocket): SocketIdentity | null {
  const a = ws.deserializeAttachment() as VerifiedAttachment | null;
  return a && typeof a === "object" && a.es ? a.es : null;
}

function closeAll(sockets: WebSocket[], close: { code: number; reason: string }): number {
  let n = 0;
  for (const ws of sockets) {
    try {
      ws.close(close.code, close.reason);
      n++;
    } catch {
      // Already closing.
    }
  }
  return n;
}

/** Closes every socket of these sessions with 4401 `session_ended`; returns how many. */
export function closeSessions(ctx: DurableObjectState, sessionIds: string[], close: { code: number; reason: string } = CLOSE_SESSION_ENDED): number {
  let n = 0;
  for (const id of sessionIds) n += closeAll(ctx.getWebSockets(sessionTag(id)), close);
  return n;
}

/** Closes every socket of this user with 4401 `session_ended`; returns how many. */
export function closeUser(ctx: DurableObjectState, userId: string, close: { code: number; reason: string } = CLOSE_SESSION_ENDED): number {
  return closeAll(ctx.getWebSockets(userTag(userId)), close);
}

/** Which of these socket ids are still connected to this object. */
export function liveSocketIds(ctx: DurableObjectState, socketIds: string[]): string[] {
  return socketIds.filter((id) => ctx.getWebSockets(socketTag(id)).some((ws) => ws.readyState === WebSocket.OPEN));
}

/**
 * Sessions ended while a forwarded upgrade for them may still be on its way here (admitted by
 * the per-user object a moment before the revocation). Memory only and short-lived: the object
 * is busy (not hibernating, not evicted) during that window.
 */
export class RecentlyEnded {
  private readonly ended = new Map<string, number>();
  constructor(private readonly keepMs = 60_000) {}
  add(sessionIds: string[], now = Date.now()): void {
    for (const [id, at] of this.ended) if (now - at > this.keepMs) this.ended.delete(id);
    for (const id of sessionIds) this.ended.set(id, now);
  }
  has(sessionId: string, now = Date.now()): boolean {
    const at = this.ended.get(sessionId);
    return at !== undefined && now - at <= this.keepMs;
  }
}

/** Reads sessions for the re-check: one store command for all of them (see store-read.ts). */
export interface RecheckReader {
  readSessions(sessionIds: string[]): Promise<Map<string, Session | null>>;
  /** Slides the idle window after socket traffic (at most one write per touch interval). */
  keepAlive(session: Session): Promise<unknown>;
  now(): number;
  /** The session policy's idle timeout (a slide moves the idle expiry to now + this). */
  idleTimeoutMs: number;
}

export interface RecheckOptions {
  /** Safety-net interval: the latest the next re-check may come. */
  intervalMs: number;
  /** How to find a socket's identity (default: our attachment). */
  identity?: (ws: WebSocket) => SocketIdentity | null;
  /** Stores an updated identity (default: our attachment). */
  update?: (ws: WebSocket, identity: SocketIdentity) => void;
  /** Whether the socket saw traffic since the last re-check (default: our attachment's flag). */
  wasActive?: (ws: WebSocket) => boolean;
}

/**
 * The alarm's work: one store read for every session held here. Ended or expired → 4401; the
 * store unreachable → 4503 (a store error is never a grant: the client comes back with a new
 * ticket, which the worker refuses with 503 until the store answers). Returns when the next
 * alarm is due (null: no sockets left).
 */
export async function recheckSockets(ctx: DurableObjectState, reader: RecheckReader, o: RecheckOptions): Promise<number | null> {
  const identity = o.identity ?? identityOf;
  const update = o.update ?? ((ws, es) => ws.serializeAttachment({ es } satisfies VerifiedAttachment));
  const wasActive = o.wasActive ?? ((ws) => Boolean((ws.deserializeAttachment() as VerifiedAttachment | null)?.active));
  const sockets = ctx.getWebSockets().flatMap((ws) => {
    const id = identity(ws);
    return id && ws.readyState === WebSocket.OPEN ? [{ ws, id }] : [];
  });
  if (!sockets.length) return null;
  const ids = [...new Set(sockets.map((s) => s.id.sessionId))];
  let sessions: Map<string, Session | null>;
  try {
    sessions = await reader.readSessions(ids);
  } catch (error) {
    if (!(error instanceof StoreError)) console.error(JSON.stringify({ level: "error", msg: "socket re-check failed", error: String(error) }));
    for (const s of sockets) closeAll([s.ws], CLOSE_STORE_UNAVAILABLE);
    return null;
  }
  const now = reader.now();
  const slid = new Set<string>();
  let next = now + o.intervalMs;
  for (const { ws, id } of sockets) {
    const session = sessions.get(id.sessionId) ?? null;
    if (!session || session.userId !== id.userId) {
      closeAll([ws], CLOSE_SESSION_ENDED);
      continue;
    }
    if (wasActive(ws) && !slid.has(session.id)) {
      slid.add(session.id);
      // A failed slide only shortens the idle window (the next re-check reads the truth).
      if (await reader.keepAlive(session)) {
        session.idleExpiresAt = Math.min(now + reader.idleTimeoutMs, session.expiresAt);
      }
    }
    const expiresAt = Math.min(session.idleExpiresAt, session.expiresAt);
    update(ws, { ...id, expiresAt, absoluteExpiresAt: session.expiresAt });
    next = Math.min(next, expiresAt + 1);
  }
  return next;
}

/** Sets the object's alarm to `at` unless one is already due earlier. */
export async function alarmNoLaterThan(ctx: DurableObjectState, at: number): Promise<void> {
  const current = await ctx.storage.getAlarm();
  if (current === null || current > at) await ctx.storage.setAlarm(at);
}
