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
 *   → {type:"dropped", reason:"room_busy"}      to a sender whose message the room's budget dropped
 * Presence entries and `from` are `{id}` — `{id, email}` only with WS_ROOM_EMAILS=on: a room
 * anyone may join must not hand out its members' addresses. A message over the size limit
 * closes the sender with 1009; binary frames with 1003; more messages than the socket's budget
 * (WS_MESSAGE_RATE) with 1008. The room's fan-out (bytes × sockets reached) has a budget of its
 * own (WS_ROOM_BYTE_RATE). Both budgets are token buckets in object memory, refilled from the
 * clock when a message comes: no timer, so the object still hibernates. The text frame "ping"
 * is answered "pong" by the runtime (the object is not woken).
 */
import { DurableObject } from "cloudflare:workers";
import { readyDepsFor, requireDeps } from "./deps-for.js";
import { metrics } from "../metrics/registry.js";
import { wsClosedName } from "../metrics/names.js";
import type { WorkerEnv as Env } from "./env.js";
import { refusalResponse } from "../http/responses.js";
import { acceptVerified, alarmNoLaterThan, closeSessions, identityOf, liveSocketIds, recheckSockets, RecentlyEnded, type VerifiedAttachment } from "../realtime/host.js";
import { TokenBucket } from "../realtime/token-bucket.js";
import { CLOSE_MESSAGE_TOO_BIG, CLOSE_RATE_LIMITED, CLOSE_SESSION_ENDED, CLOSE_TEXT_ONLY, readIdentity, type SocketHost, type SocketIdentity } from "../realtime/identity.js";
import { releaseSocket } from "../realtime/upgrade.js";
import { recheckReader } from "../realtime/store-read.js";
import { freshnessMetrics } from "../session/freshness.js";

/** The namespace binding of this class in wrangler.toml. */
export const ROOMS_BINDING = "ROOMS";
/** Reserved frames: answered by the runtime, never broadcast. */
export const PING = "ping";
export const PONG = "pong";

const json = (status: number, body: Record<string, unknown>) => Response.json(body, { status });

export class RealtimeRoom extends DurableObject<Env> implements SocketHost {
  private readonly ended = new RecentlyEnded();
  /** Per socket id: its message budget. Memory only (see the protocol note above). */
  private readonly budgets = new Map<string, TokenBucket>();
  private roomBytes: TokenBucket | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    // "ping" → "pong" without waking the object: keep-alives cost nothing. A client that sent one
    // is also spared a local workerd bug (docs/SILENT-CLIENTS.md): a socket that never sent a
    // frame keeps its connection after a close made from an RPC or alarm until the object is
    // evicted; the demo client pings once on open.
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
    const emails = deps.config.ws.roomEmails;
    server.send(JSON.stringify({ type: "hello", user: userOf(identity), room, presence: this.presence(emails) }));
    this.broadcast({ type: "presence", users: this.presence(emails) }, server);
    // The alarm: at the session's expiry, and at the latest one safety-net interval from now.
    await alarmNoLaterThan(this.ctx, Math.min(identity.expiresAt + 1, Date.now() + deps.config.ws.recheckIntervalMs));
    return new Response(null, { status: 101, webSocket: client });
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    const a = ws.deserializeAttachment() as VerifiedAttachment | null;
    if (!a?.es) return ws.close(CLOSE_SESSION_ENDED.code, CLOSE_SESSION_ENDED.reason);
    if (typeof message !== "string") return ws.close(CLOSE_TEXT_ONLY.code, CLOSE_TEXT_ONLY.reason);
    const { maxMessageBytes, messageRate, roomByteRate, roomEmails } = (await this.deps()).config.ws;
    // UTF-16 length × 3 bounds the UTF-8 size: encode only when it might be over.
    if (message.length * 3 > maxMessageBytes && new TextEncoder().encode(message).byteLength > maxMessageBytes) {
      return ws.close(CLOSE_MESSAGE_TOO_BIG.code, CLOSE_MESSAGE_TOO_BIG.reason);
    }
    const now = Date.now();
    let budget = this.budgets.get(a.es.socketId);
    if (!budget) this.budgets.set(a.es.socketId, (budget = new TokenBucket(messageRate.limit, messageRate.windowMs, now)));
    if (!budget.take(1, now)) {
      this.budgets.delete(a.es.socketId);
      return ws.close(CLOSE_RATE_LIMITED.code, CLOSE_RATE_LIMITED.reason);
    }
    if (!a.active) ws.serializeAttachment({ ...a, active: true } satisfies VerifiedAttachment);
    let data: unknown = message;
    try {
      data = JSON.parse(message);
    } catch {
      // Not JSON: relay the text as it came.
    }
    const text = JSON.stringify({ type: "message", from: userRef(a.es.userId, a.es.email, roomEmails), data });
    // What the fan-out costs: its size once per socket it reaches.
    const sockets = this.ctx.getWebSockets();
    this.roomBytes ??= new TokenBucket(roomByteRate.limit, roomByteRate.windowMs, now);
    if (!this.roomBytes.take(utf8Length(text) * sockets.length, now)) {
      ws.send(JSON.stringify({ type: "dropped", reason: "room_busy" }));
      return;
    }
    for (const peer of sockets) sendQuietly(peer, text);
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
  async edgeSessionsEnded(sessionIds: string[], endedAt?: number): Promise<number> {
    this.ended.add(sessionIds);
    const closed = closeSessions(this.ctx, sessionIds);
    if (closed > 0 && endedAt !== undefined) {
      freshnessMetrics.revocationToClose(Date.now() - endedAt);
      this.rollUpWhenDue();
    }
    return closed;
  }

  /** RPC from the per-user object (reconciliation at a cap). */
  async edgeSocketsLive(socketIds: string[]): Promise<string[]> {
    return liveSocketIds(this.ctx, socketIds);
  }

  /** Who is here: one entry per user, ids (and emails only when configured), in a stable order. */
  private presence(emails: boolean, except?: WebSocket): { id: string; email?: string }[] {
    const users = new Map<string, string>();
    for (const ws of this.ctx.getWebSockets()) {
      if (ws === except || ws.readyState !== WebSocket.OPEN) continue;
      const id = identityOf(ws);
      if (id) users.set(id.userId, id.email);
    }
    return [...users].sort(([a], [b]) => a.localeCompare(b)).map(([id, email]) => userRef(id, email, emails));
  }

  private broadcast(message: unknown, except?: WebSocket): void {
    const text = JSON.stringify(message);
    for (const ws of this.ctx.getWebSockets()) if (ws !== except) sendQuietly(ws, text);
  }

  /** Counts a close by its code. */
  private closed(code: number): void {
    metrics.count(wsClosedName(code));
    this.rollUpWhenDue();
  }

  /** This object's isolate rolls its metrics up like the worker's (a close, a revocation's lag). */
  private rollUpWhenDue(): void {
    const ready = readyDepsFor(this.env);
    if (ready?.ok && ready.deps.rollup.due()) this.ctx.waitUntil(ready.deps.rollup.flush());
  }

  private async left(ws: WebSocket): Promise<void> {
    const id = identityOf(ws);
    if (id) this.budgets.delete(id.socketId);
    const emails = (await this.deps()).config.ws.roomEmails;
    this.broadcast({ type: "presence", users: this.presence(emails, ws) }, ws);
    // Unreported, the row goes anyway: at the session's end, or at the next reconciliation at a cap.
    if (id && this.env.USER_SOCKETS) await releaseSocket(this.env.USER_SOCKETS, id);
  }
}

/** How the room names a user to others: the id, and the email only when configured. */
function userRef(id: string, email: string, withEmail: boolean): { id: string; email?: string } {
  return withEmail ? { id, email } : { id };
}

function sendQuietly(ws: WebSocket, text: string): void {
  try {
    ws.send(text);
  } catch {
    // Closing: its own close event follows.
  }
}

/** UTF-8 size of a string, without encoding it when it is ASCII-sized either way. */
function utf8Length(text: string): number {
  let n = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0x7f) n += c > 0x7ff && (c < 0xd800 || c > 0xdfff) ? 2 : 1;
  }
  return n;
}

function userOf(identity: SocketIdentity) {
  return { id: identity.userId, email: identity.email, roles: identity.roles };
}
