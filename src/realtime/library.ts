/**
 * Verified sockets in your own Durable Objects (docs/REALTIME.md has the whole recipe and the
 * wrangler.toml fragment; examples/partyserver/ is a tested example with PartyServer).
 *
 * In the worker, before the upgrade reaches your object:
 *
 *   const v = await admitVerifiedUpgrade(request, { layer, users: env.USER_SOCKETS, host: { binding: "Chat", name: room } });
 *   if (!v.ok) return v.response;              // 401/403/426/429/503: your object never sees it
 *   return env.Chat.get(env.Chat.idFromName(room)).fetch(v.request);  // or return v.request from onBeforeConnect
 *
 * In your object: `readIdentity(request)` is who connected; accept with `acceptVerified()` (or tag
 * PartyServer connections with `tagsFor(identity)`), and implement the two RPC methods of
 * `SocketHost` with `closeSessions()` and `liveSocketIds()`. Report closes with
 * `releaseSocket()`. Subscribe the push where sessions end: `sessions.onEnded(e => pushSessionsEnded(env.USER_SOCKETS, e))`.
 */
import { Hono, type Context } from "hono";
import { authenticate, type Authenticated, type CredentialDeps } from "../credentials/authenticate.js";
import { bearerSource, ticketSource } from "../credentials/sources.js";
import { refusalResponse, storeUnavailableResponse } from "../http/responses.js";
import { StoreError } from "../store/redis.js";
import { originAllowed, isUpgrade } from "../ws/handshake.js";
import { admitSocket, verifiedRequest, type UserSocketsNamespace } from "./gate.js";
import { DEFAULT_SOCKET_LIMITS, type SocketHostRef, type SocketIdentity, type SocketLimits } from "./identity.js";

export * from "./identity.js";
export { acceptVerified, identityOf, closeSessions, closeUser, liveSocketIds, RecentlyEnded, recheckSockets, alarmNoLaterThan, type RecheckReader, type RecheckOptions, type VerifiedAttachment } from "./host.js";
export { admitSocket, handOver, pushSessionsEnded, realtimeUnavailable, verifiedRequest, identityFor, type UserSocketsNamespace, type Admitted, type AdmitOptions, type HandOverOptions } from "./gate.js";
export { recheckReader } from "./store-read.js";
export { UserSockets, type AdmitInput, type EndedOutcome } from "./user-sockets.js";

export interface VerifiedUpgradeOptions {
  /** The session layer (`createSessionLayer()`, or the worker's deps): reader, sessions, tickets. */
  layer: CredentialDeps;
  /** The `UserSockets` namespace (its class exported from your worker, bound in wrangler.toml). */
  users: UserSocketsNamespace;
  /** The object that will hold the socket: its binding's name and its object name. */
  host: SocketHostRef;
  /** @default DEFAULT_SOCKET_LIMITS (5 per session, 25 per user) */
  limits?: Partial<SocketLimits>;
  /** Origins allowed besides the request's own. @default none */
  allowedOrigins?: readonly string[];
}

export type VerifiedUpgrade =
  | { ok: true; request: Request; identity: SocketIdentity; session: Authenticated["session"]; protocol: string | null }
  | { ok: false; response: Response };

/**
 * The `/ws` rules for any upgrade route (426, Origin allowlist, a single-use ticket in `?token=` or
 * the `["session", ticket]` subprotocol, or a Bearer header), then the admission by the user's
 * object (caps, recently ended sessions). Returns the request to forward to your object, with
 * the identity header set and the credential removed, or the response to answer instead.
 * When the ticket came as a subprotocol, your 101 must echo `protocol` ("session").
 */
export async function admitVerifiedUpgrade(request: Request, o: VerifiedUpgradeOptions): Promise<VerifiedUpgrade> {
  // The credential path reads a Hono context; outside a Hono app, a one-route app makes one (its
  // exported API is the same across every hono 4.x this package supports, unlike Context's
  // constructor). Its outcome and any error come back through these two variables.
  let outcome: VerifiedUpgrade | undefined;
  let failure: unknown;
  await new Hono()
    .all("*", async (c) => {
      try {
        outcome = await admitInContext(c, request, o);
      } catch (error) {
        failure = error;
      }
      return c.body(null);
    })
    .fetch(request);
  if (failure !== undefined) throw failure;
  return outcome!;
}

async function admitInContext(c: Context, request: Request, o: VerifiedUpgradeOptions): Promise<VerifiedUpgrade> {
  if (!isUpgrade(c)) return { ok: false, response: refusalResponse({ status: 426 }) };
  if (!originAllowed(c, o.allowedOrigins ?? [])) return { ok: false, response: refusalResponse({ status: 403, reason: "origin_not_allowed" }) };
  let auth;
  try {
    auth = await authenticate(c, o.layer, { sources: [bearerSource, ticketSource], fresh: true });
  } catch (error) {
    if (error instanceof StoreError) return { ok: false, response: storeUnavailableResponse() };
    throw error;
  }
  if (!auth.ok) return { ok: false, response: refusalResponse(auth.refusal) };
  const admitted = await admitSocket({ users: o.users, session: auth.session, host: o.host, limits: { ...DEFAULT_SOCKET_LIMITS, ...o.limits } });
  if (!admitted.ok) return admitted;
  return { ok: true, request: verifiedRequest(request, admitted.identity), identity: admitted.identity, session: auth.session, protocol: auth.protocol };
}

/** Reports a closed socket to the user's object (its place under the caps is free again). Never throws. */
export async function releaseSocket(users: UserSocketsNamespace, identity: Pick<SocketIdentity, "userId" | "socketId">): Promise<void> {
  try {
    await users.get(users.idFromName(identity.userId)).release([identity.socketId]);
  } catch (error) {
    console.warn(JSON.stringify({ level: "warn", msg: "socket release not recorded", error: String(error) }));
  }
}
