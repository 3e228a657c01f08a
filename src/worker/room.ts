/**
 * `RealtimeRoom`: the demo room behind `/ws` (one object per room name). Verified sockets only
 * (the worker verified the ticket and the per-user object admitted the socket before the
 * upgrade got here), held with the hibernation API: no timer per socket, identity in the
 * attachment, the session's expiry and the safety-net re-check on the object's alarm.
 *
 * Protocol (JSON text frames):
 *   → {type:"hello", user, room, presence}   to a socket that joined
 *   → {type:"presence", users}               to everyone else when someone joins or leaves
 *   ← any text                               broadcast to everyone as {type:"message", from, data}
 * A message over the size limit closes the sender with 1009; binary frames with 1003. The text
 * frame "ping" is answered "pong" by the runtime (the object is not woken).
 */
import { DurableObject } from "cloudflare:workers";
import { readyDepsFor, requireDeps } from "./deps-for.js";
import { metrics } from "../metrics/registry.js";
import { wsClosedName } from "../metrics/names.js";
import type { WorkerEnv as Env } from "./env.js";
import { refusalResponse } from "../http/responses.js";
import { acceptVerified, alarmNoLaterThan, closeSessions, identityOf, liveSocketIds, recheckSockets, RecentlyEnded, type VerifiedAttachment } from "../realtime/host.js";
import { CLOSE_MESSAGE_TOO_BIG, CLOSE_SESSION_ENDED, CLOSE_TEXT_ONLY, readIdentity, type SocketHost, type SocketIdentity } from "../realtime/identity.js";
import { releaseSocket } from "../realtime/upgrade.js";
import { recheckReader } from "../realtime/store-read.js";

/** The namespace binding of this class in wrangler.toml. */
export const ROOMS_BINDING = "ROOMS";
/** Reserved frames: answered by the runtime, never broadcast. */
export const PING = "ping";
export const PONG = "pong";

const json = (status: number, body: Record<string, unknown>) => Response.json(body, { status });

export class RealtimeRoom extends DurableObject<Env> implements SocketHost {
  private readonly ended = new RecentlyEnded();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    // "ping" → "pong" without waking the object: keep-alives cost nothing. It also works around a
    // local workerd behaviour (docs/REALTIME.md): a socket that never sent a frame keeps its TCP
    // connection open after a close made from an RPC or alarm, and browsers report the close
    // only after their own timeout (about 2 s in Chromium); the demo client pings once on open.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING, PONG));
  }

  private deps() {
    return requireDeps(this.env);
  }

  override async fetch(request: Request): Promise<Response> {
    const identity = readIdentity(request);
    // Only the worker calls here, with an identity it verified; anything else is refused.
    if (!identity) return json(400, { error: "not_verified" });
    if ((request.headers.get("Upgrade") ?? "").toLowerCase() !== "websocket") return json(426, { error: "upgrade_required" });
    if (this.ended.has(identity.sessionId)) return refusalResponse({ status: 401, reason: "revoked" });
    const room = new URL(request.url).searchParams.get("room") ?? "";
    const deps = await this.deps();
    const pair = new WebSocketPair();
    const [client, server] = [pair[0], pair[1]];
    acceptVerified(this.ctx, server, identity);
    server.send(JSON.stringify({ type: "hello", user: userOf(identity), room, presence: this.presence() }));
    this.broadcast({ type: "presence", users: this.presence() }, server);
    // The alarm: at the session's expiry, and at the latest one safety-net interval from now.
    await alarmNoLaterThan(this.ctx, Math.min(identity.expiresAt + 1, Date.now() + deps.config.ws.recheckIntervalMs));
    return new Response(null, { status: 101, webSocket: client });
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    const a = ws.deserializeAttachment() as VerifiedAttachment | null;
    if (!a?.es) return ws.close(CLOSE_SESSION_ENDED.code, CLOSE_SESSION_ENDED.reason);
    if (typeof message !== "string") return ws.close(CLOSE_TEXT_ONLY.code, CLOSE_TEXT_ONLY.reason);
    const { maxMessageBytes } = (await this.deps()).config.ws;
    // UTF-16 length × 3 bounds the UTF-8 size: encode only when it might be over.
    if (message.length * 3 > maxMessageBytes && new TextEncoder().encode(message).byteLength > maxMessageBytes) {
      return ws.close(CLOSE_MESSAGE_TOO_BIG.code, CLOSE_MESSAGE_TOO_BIG.reason);
    }
    if (!a.active) ws.serializeAttachment({ ...a, active: true } satisfies VerifiedAttachment);
    let data: unknown = message;
    try {
      data = JSON.parse(message);
    } catch {
      // Not JSON: relay the text as it came.
    }
    this.broadcast({ type: "message", from: { id: a.es.userId, email: a.es.email }, data });
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    this.closed(code);
    try {
      ws.close(code === 1005 || code === 1006 ? 1000 : code, reason);
    } catch {
      // Already closed.
    }
    await this.left(ws);
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    this.closed(1006);
    await this.left(ws);
  }

  override async alarm(): Promise<void> {
    const deps = await this.deps();
    const next = await recheckSockets(this.ctx, recheckReader(deps), { intervalMs: deps.config.ws.recheckIntervalMs });
    if (next !== null) await alarmNoLaterThan(this.ctx, next);
  }

  /** RPC from the per-user object: these sessions ended somewhere. */
  async edgeSessionsEnded(sessionIds: string[]): Promise<number> {
    this.ended.add(sessionIds);
    return closeSessions(this.ctx, sessionIds);
  }

  /** RPC from the per-user object (reconciliation at a cap). */
  async edgeSocketsLive(socketIds: string[]): Promise<string[]> {
    return liveSocketIds(this.ctx, socketIds);
  }

  /** Who is here: one entry per user, by email. */
  private presence(except?: WebSocket): { id: string; email: string }[] {
    const users = new Map<string, string>();
    for (const ws of this.ctx.getWebSockets()) {
      if (ws === except || ws.readyState !== WebSocket.OPEN) continue;
      const id = identityOf(ws);
      if (id) users.set(id.userId, id.email);
    }
    return [...users].map(([id, email]) => ({ id, email })).sort((a, b) => a.email.localeCompare(b.email));
  }

  private broadcast(message: unknown, except?: WebSocket): void {
    const text = JSON.stringify(message);
    for (const ws of this.ctx.getWebSockets()) {
      if (ws === except) continue;
      try {
        ws.send(text);
      } catch {
        // Closing: its own close event follows.
      }
    }
  }

  /** Counts a close by its code; this object's isolate rolls its metrics up like the worker's. */
  private closed(code: number): void {
    metrics.count(wsClosedName(code));
    const ready = readyDepsFor(this.env);
    if (ready?.ok && ready.deps.rollup.due()) this.ctx.waitUntil(ready.deps.rollup.flush());
  }

  private async left(ws: WebSocket): Promise<void> {
    const id = identityOf(ws);
    this.broadcast({ type: "presence", users: this.presence(ws) }, ws);
    // Unreported, the row goes anyway: at the session's end, or at the next reconciliation at a cap.
    if (id && this.env.USER_SOCKETS) await releaseSocket(this.env.USER_SOCKETS, id);
  }
}

function userOf(identity: SocketIdentity) {
  return { id: identity.userId, email: identity.email, roles: identity.roles };
}
