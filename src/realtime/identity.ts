/**
 * What a verified socket carries from the edge worker into a Durable Object, and the codes both
 * sides agree on. Plain data and pure functions only: imported by the worker, by our objects
 * and by teams' own objects (see library.ts).
 */
import { DEFAULTS } from "../defaults.js";
import { SOCKET_CLOSE, type SocketCloseReason, type TooManySocketsReason } from "../protocol.js";

/**
 * The request header the edge worker sets on an upgrade it has verified and admitted. Objects
 * are reachable only through their namespace binding (never from the Internet), and the worker
 * builds the forwarded request itself, dropping any client-supplied copy of this header.
 */
export const IDENTITY_HEADER = "X-Edge-Session-Socket";

/** Who is on the socket. Small on purpose: it lives in the socket's attachment (ids, not records). */
export interface SocketIdentity {
  /** One per socket, minted by the worker; the per-user object's admission row. */
  socketId: string;
  sessionId: string;
  userId: string;
  email: string;
  roles: string[];
  /** When the session would end if nothing slid it (ms since epoch): the object's alarm re-reads it then. */
  expiresAt: number;
  /** The session's absolute end: no slide goes past it. */
  absoluteExpiresAt: number;
}

/** A Durable Object that holds verified sockets, as the per-user object addresses it. */
export interface SocketHostRef {
  /** The namespace binding's name in the worker's env (e.g. "ROOMS"). */
  binding: string;
  /** The object's name (`idFromName`). */
  name: string;
}

/** A close as code and reason, both from the vocabulary (protocol.ts `SOCKET_CLOSE`). */
export interface SocketClose {
  code: number;
  reason: SocketCloseReason;
}
const close = (reason: SocketCloseReason): SocketClose => ({ code: SOCKET_CLOSE[reason], reason });
export const CLOSE_SESSION_ENDED = close("session_ended");
export const CLOSE_STORE_UNAVAILABLE = close("session_store_unavailable");
export const CLOSE_MESSAGE_TOO_BIG = close("message_too_big");
export const CLOSE_TEXT_ONLY = close("text_only");
export const CLOSE_RATE_LIMITED = close("rate_limited");

/** Socket tags (`ctx.acceptWebSocket(ws, tags)`): prefixed so they never meet a team's own tags. */
export const sessionTag = (sessionId: string) => `es:s:${sessionId}`;
export const userTag = (userId: string) => `es:u:${userId}`;
export const socketTag = (socketId: string) => `es:k:${socketId}`;

export function tagsFor(identity: SocketIdentity): string[] {
  return [sessionTag(identity.sessionId), userTag(identity.userId), socketTag(identity.socketId)];
}

export function encodeIdentity(identity: SocketIdentity): string {
  // Header values are bytes: an email may hold any character.
  return encodeURIComponent(JSON.stringify(identity));
}

const isStr = (v: unknown): v is string => typeof v === "string" && v.length > 0 && v.length <= 256;

/** The identity the worker attached to this request, or null (not forwarded by the worker). */
export function readIdentity(request: Request): SocketIdentity | null {
  const raw = request.headers.get(IDENTITY_HEADER);
  if (!raw) return null;
  let v: Partial<SocketIdentity>;
  try {
    v = JSON.parse(decodeURIComponent(raw)) as Partial<SocketIdentity>;
  } catch {
    return null;
  }
  if (!v || !isStr(v.socketId) || !isStr(v.sessionId) || !isStr(v.userId) || typeof v.email !== "string") return null;
  if (!Array.isArray(v.roles) || !v.roles.every((r) => typeof r === "string")) return null;
  if (!Number.isFinite(v.expiresAt) || !Number.isFinite(v.absoluteExpiresAt)) return null;
  return {
    socketId: v.socketId,
    sessionId: v.sessionId,
    userId: v.userId,
    email: v.email,
    roles: v.roles,
    expiresAt: v.expiresAt!,
    absoluteExpiresAt: v.absoluteExpiresAt!,
  };
}

/** Why the per-user object refused a socket. */
export type AdmitRefusal = "session_ended" | TooManySocketsReason;
export type AdmitResult = { ok: true } | { ok: false; reason: AdmitRefusal };

/** Socket caps, checked by the per-user object at admission. */
export interface SocketLimits {
  /** Live sockets per session. @default 5 */
  perSession: number;
  /** Live sockets per user, across sessions and objects. @default 25 */
  perUser: number;
}

export const DEFAULT_SOCKET_LIMITS: SocketLimits = { perSession: DEFAULTS.wsMaxSocketsPerSession, perUser: DEFAULTS.wsMaxSocketsPerUser };
/** Largest message a room accepts; bigger ones close the socket with 1009. @default 64 KiB */
export const DEFAULT_MAX_MESSAGE_BYTES = DEFAULTS.wsMaxMessageBytes;

/** RPC methods the per-user object calls on every object that holds verified sockets. */
export interface SocketHost {
  /** Closes the sockets of these sessions with 4401; returns how many it closed. */
  /** `endedAt`: when the revocation happened (ms since epoch), for the revocation-to-close figure. */
  edgeSessionsEnded(sessionIds: string[], endedAt?: number): Promise<number> | number;
  /** Which of these socket ids are still connected here (the per-user object's reconciliation). */
  edgeSocketsLive(socketIds: string[]): Promise<string[]> | string[];
}
