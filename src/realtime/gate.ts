/**
 * The worker side of a verified socket. After the handshake rules passed (ticket, Origin), the
 * upgrade is admitted by the user's `UserSockets` object (caps, recently ended sessions) and
 * forwarded to the object that will hold it, with the identity in a header the worker sets.
 * Nothing here runs for a refused handshake: a forged, expired, used or foreign ticket never
 * costs a Durable Object request.
 *
 * Revocation push: `pushSessionsEnded` tells the user's object, which tells the holders.
 */
import { refusalResponse, STORE_RETRY_AFTER_SECONDS } from "../http/responses.js";
import type { Session } from "../session/record.js";
import { encodeBase64url, randomBytes } from "../util/base64url.js";
import { encodeIdentity, IDENTITY_HEADER, type AdmitRefusal, type SocketHostRef, type SocketIdentity, type SocketLimits } from "./identity.js";
import type { EndedOutcome, UserSockets } from "./user-sockets.js";
import { metrics } from "../metrics/registry.js";
import { M } from "../metrics/names.js";

/** Seconds a client should wait after a 503 from an unreachable object. */
export const REALTIME_RETRY_AFTER_SECONDS = STORE_RETRY_AFTER_SECONDS;

export type UserSocketsNamespace = DurableObjectNamespace<UserSockets>;

export function realtimeUnavailable(): Response {
  return Response.json(
    { error: "realtime_unavailable" },
    { status: 503, headers: { "Retry-After": String(REALTIME_RETRY_AFTER_SECONDS), "Cache-Control": "no-store" } },
  );
}

/** 401 `revoked` for a session that ended between the ticket check and the admission; 429 for a cap. */
export function refusal(reason: AdmitRefusal): Response {
  if (reason === "session_ended") return refusalResponse({ status: 401, reason: "revoked" });
  return Response.json({ error: "too_many_sockets", reason }, { status: 429, headers: { "Cache-Control": "no-store" } });
}

export function identityFor(session: Session, socketId = encodeBase64url(randomBytes(16))): SocketIdentity {
  return {
    socketId,
    sessionId: session.id,
    userId: session.userId,
    email: session.email,
    roles: session.roles,
    expiresAt: Math.min(session.idleExpiresAt, session.expiresAt),
    absoluteExpiresAt: session.expiresAt,
  };
}

export interface AdmitOptions {
  users: UserSocketsNamespace;
  session: Session;
  host: SocketHostRef;
  limits: SocketLimits;
}

export type Admitted = { ok: true; identity: SocketIdentity; release: () => Promise<void> } | { ok: false; response: Response };

/** Admits one socket for `session` at `host`: the identity to forward, or the refusal to answer. */
export async function admitSocket(o: AdmitOptions): Promise<Admitted> {
  const identity = identityFor(o.session);
  const stub = () => o.users.get(o.users.idFromName(identity.userId));
  let verdict;
  try {
    verdict = await stub().admit({ socketId: identity.socketId, sessionId: identity.sessionId, host: o.host, absoluteExpiresAt: identity.absoluteExpiresAt, limits: o.limits });
  } catch (error) {
    console.warn(JSON.stringify({ level: "warn", msg: "socket admission unavailable", error: String(error) }));
    return { ok: false, response: realtimeUnavailable() };
  }
  if (!verdict.ok) return { ok: false, response: refusal(verdict.reason) };
  const release = async () => {
    try {
      await stub().release([identity.socketId]);
    } catch {
      // The row is dropped at the next reconciliation or at the session's end.
    }
  };
  return { ok: true, identity, release };
}

/**
 * The request the holding object receives: the client's upgrade headers, the identity header
 * set here (a client's copy is dropped), no credential (the ticket is spent; the subprotocol
 * pair that carried it is answered by the worker).
 */
export function verifiedRequest(request: Request, identity: SocketIdentity): Request {
  const url = new URL(request.url);
  url.searchParams.delete("token");
  const headers = new Headers(request.headers);
  headers.delete(IDENTITY_HEADER);
  headers.delete("Authorization");
  headers.delete("Sec-WebSocket-Protocol");
  headers.delete("Cookie");
  headers.set(IDENTITY_HEADER, encodeIdentity(identity));
  return new Request(url, { method: "GET", headers });
}

export interface HandOverOptions extends AdmitOptions {
  request: Request;
  /** The object to hand the socket to. */
  stub: { fetch(request: Request): Promise<Response> };
  /** The subprotocol to echo (`"session"` when the ticket came as a subprotocol). */
  protocol: string | null;
}

/**
 * Admit, forward, answer: the holder's 101 with the subprotocol echoed; 503 + Retry-After when
 * an object cannot be reached (never a half-open socket); the refusal otherwise.
 */
export async function handOver(o: HandOverOptions): Promise<Response> {
  const admitted = await admitSocket(o);
  if (!admitted.ok) return admitted.response;
  let res: Response;
  try {
    res = await o.stub.fetch(verifiedRequest(o.request, admitted.identity));
  } catch (error) {
    console.warn(JSON.stringify({ level: "warn", msg: "socket host unreachable", binding: o.host.binding, error: String(error) }));
    await admitted.release();
    return realtimeUnavailable();
  }
  if (res.status !== 101 || !res.webSocket) {
    await admitted.release();
    return res.status === 101 ? realtimeUnavailable() : res;
  }
  metrics.count(M.wsOpened);
  return new Response(null, { status: 101, webSocket: res.webSocket, headers: o.protocol ? { "Sec-WebSocket-Protocol": o.protocol } : {} });
}

/**
 * Tells the user's object that these sessions ended; it closes their sockets wherever they
 * are. Never throws (a revocation must not fail because a push did): a lost push is caught by
 * the holders' safety-net re-check.
 */
export async function pushSessionsEnded(users: UserSocketsNamespace, event: { userId: string; sessionIds: string[]; at?: number }): Promise<EndedOutcome | null> {
  if (!event.sessionIds.length) return null;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      // The revocation-to-close lag is recorded where each socket closes, from `at` (freshness.ts).
      return await users.get(users.idFromName(event.userId)).sessionsEnded(event.sessionIds, event.at);
    } catch (error) {
      if (attempt === 1) console.error(JSON.stringify({ level: "error", msg: "revocation push failed", error: String(error) }));
    }
  }
  return null;
}
