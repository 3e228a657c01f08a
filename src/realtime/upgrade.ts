/**
 * The upgrade side for a worker of your own: verify and admit a socket before it reaches your
 * Durable Object, forward it with the subprotocol answered, and report its close.
 */
import { Hono, type Context } from "hono";
import { authenticate, type Authenticated, type CredentialDeps } from "../credentials/authenticate.js";
import { bearerSource, ticketSource } from "../credentials/sources.js";
import { refusalResponse, storeUnavailableResponse } from "../http/responses.js";
import { StoreError } from "../store/redis.js";
import { originAllowed, isUpgrade } from "./handshake.js";
import { admitSocket, realtimeUnavailable, verifiedRequest, type UserSocketsNamespace } from "./gate.js";
import { DEFAULT_SOCKET_LIMITS, type SocketHostRef, type SocketIdentity, type SocketLimits } from "./identity.js";


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

/**
 * The object's 101 as the browser must see it: when the ticket came as the `["session", ticket]`
 * subprotocol pair, the handshake answer has to name `session` or the browser aborts the socket
 * ("Server sent no subprotocol"). Any other response passes through unchanged.
 */
export function withSubprotocol(response: Response, protocol: string | null): Response {
  if (!protocol || response.status !== 101 || !response.webSocket) return response;
  const headers = new Headers(response.headers);
  headers.set("Sec-WebSocket-Protocol", protocol);
  return new Response(null, { status: 101, webSocket: response.webSocket, headers });
}

/**
 * Forwards an admitted upgrade to the object that will hold it and answers with the object's 101
 * (subprotocol echoed). If the object cannot be reached or does not accept, the admission is
 * released and the client gets 503 `realtime_unavailable` with `Retry-After`, never a half-open socket.
 */
export async function forwardVerified(upgrade: Extract<VerifiedUpgrade, { ok: true }>, stub: { fetch(request: Request): Promise<Response> }, users: UserSocketsNamespace): Promise<Response> {
  let res: Response;
  try {
    res = await stub.fetch(upgrade.request);
  } catch (error) {
    console.warn(JSON.stringify({ level: "warn", msg: "socket host unreachable", error: String(error) }));
    await releaseSocket(users, upgrade.identity);
    return realtimeUnavailable();
  }
  if (res.status !== 101 || !res.webSocket) {
    await releaseSocket(users, upgrade.identity);
    return res.status === 101 ? realtimeUnavailable() : res;
  }
  return withSubprotocol(res, upgrade.protocol);
}
