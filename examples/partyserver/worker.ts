/**
 * A team's own real-time object on PartyServer, behind edge-session, using only the package's
 * exports: the worker is a library app (its own sign-in ending in `createSession`, tickets from
 * `ticketRoute`) plus a PartyServer party, `Chat`, at `/parties/chat/<room>`.
 *
 * - The upgrade is verified in `onBeforeConnect` with the `/ws` rules (ticket in `?token=` or the
 *   `["session", ticket]` subprotocol, Origin) and admitted by the user's `UserSockets` object; a
 *   refused one never reaches `Chat`. The 101 names the `session` subprotocol when the browser
 *   offered it (`withSubprotocol`), or the browser would drop the socket.
 * - The identity reaches `onConnect` in a header only the worker sets (`readIdentity`), and the
 *   connection is tagged by session, user and socket (`tagsFor`).
 * - A session ended anywhere through the layer (sign-out, sign-out-everywhere, RPC …) is pushed to
 *   `UserSockets`, which calls `Chat.edgeSessionsEnded()`: the connection closes with 4401.
 *
 * wrangler.toml: docs/REALTIME.md ("Your own Durable Objects"). Tested by
 * test/realtime/partyserver-example.node.test.ts, bundled from the package's own entry points.
 */
import { Hono } from "hono";
import { routePartykitRequest, Server, type Connection, type ConnectionContext, type WSMessage } from "partyserver";
import { createSessionLayer, type SessionLayer } from "edge-session";
import { errorHandler, sessionAuth, ticketRoute, type SessionVariables } from "edge-session/hono";
import {
  admitVerifiedUpgrade,
  closeSessions,
  liveSocketIds,
  pushSessionsEnded,
  readIdentity,
  releaseSocket,
  tagsFor,
  withSubprotocol,
  type SocketHost,
  type SocketIdentity,
  type UserSocketsNamespace,
  type VerifiedUpgrade,
} from "edge-session/realtime";

export { UserSockets } from "edge-session/realtime";

// Cloudflare.Env: what PartyServer requires of an env (declared by `wrangler types`, empty otherwise).
export type ChatEnv = Cloudflare.Env & {
  UPSTASH_REDIS_REST_URL: string;
  UPSTASH_REDIS_REST_TOKEN: string;
  SESSION_KEYS: string;
  STORE_PREFIX?: string;
  /** The SPA origins allowed to open sockets besides this worker's own. */
  ALLOWED_ORIGINS?: string;
  Chat: DurableObjectNamespace<Chat>;
  USER_SOCKETS: UserSocketsNamespace;
};
type ChatState = { identity: SocketIdentity };

export class Chat extends Server<ChatEnv> implements SocketHost {
  static override options = { hibernate: true };

  override getConnectionTags(_connection: Connection, ctx: ConnectionContext): string[] {
    const identity = readIdentity(ctx.request);
    return identity ? tagsFor(identity) : [];
  }

  override onConnect(connection: Connection<ChatState>, ctx: ConnectionContext): void {
    const identity = readIdentity(ctx.request);
    // Only the worker reaches this object, always with an identity; anything else is closed.
    if (!identity) return connection.close(4401, "session_ended");
    connection.setState({ identity });
    connection.send(JSON.stringify({ type: "welcome", room: this.name, user: { id: identity.userId, email: identity.email } }));
  }

  override onMessage(connection: Connection<ChatState>, message: WSMessage): void {
    const from = connection.state?.identity.email ?? "?";
    this.broadcast(JSON.stringify({ type: "message", from, text: String(message) }));
  }

  override async onClose(connection: Connection<ChatState>): Promise<void> {
    const identity = connection.state?.identity;
    if (identity) await releaseSocket(this.env.USER_SOCKETS, identity);
  }

  /** RPC from `UserSockets`: these sessions ended somewhere. */
  async edgeSessionsEnded(sessionIds: string[]): Promise<number> {
    return closeSessions(this.ctx, sessionIds);
  }

  /** RPC from `UserSockets` (reconciliation at a cap). */
  async edgeSocketsLive(socketIds: string[]): Promise<string[]> {
    return liveSocketIds(this.ctx, socketIds);
  }
}

async function createApp(env: ChatEnv): Promise<{ layer: SessionLayer; app: Hono<{ Bindings: ChatEnv; Variables: SessionVariables }> }> {
  const layer = await createSessionLayer({ url: env.UPSTASH_REDIS_REST_URL, token: env.UPSTASH_REDIS_REST_TOKEN, sessionKeys: env.SESSION_KEYS, prefix: env.STORE_PREFIX });
  // Every session this layer ends reaches the sockets held for it, wherever they are.
  layer.onSessionsEnded((event) => pushSessionsEnded(env.USER_SOCKETS, event));
  const app = new Hono<{ Bindings: ChatEnv; Variables: SessionVariables }>();
  app.onError(errorHandler);
  // Your sign-in goes here (examples/library-worker.ts has a fuller one); it ends in createSession().
  app.post("/sign-in", async (c) => {
    const body = await c.req.json<{ id?: unknown; email?: unknown }>().catch(() => ({}) as { id?: unknown; email?: unknown });
    if (typeof body.id !== "string" || typeof body.email !== "string") return c.json({ error: "invalid_request" }, 400);
    const created = await layer.createSession({ id: body.id, email: body.email });
    if (!created.ok) return c.json({ error: "forbidden", reason: created.reason }, 403);
    return c.json({ token: created.token, user: created.user });
  });
  app.post("/ws-ticket", sessionAuth(layer, { fresh: true }), ticketRoute(layer));
  app.post("/sign-out", sessionAuth(layer), async (c) => {
    await layer.endSession(c.var.session.id);
    return c.body(null, 204);
  });
  return { layer, app };
}

let built: ReturnType<typeof createApp> | undefined;

export default {
  async fetch(request, env, ctx) {
    const { layer, app } = await (built ??= createApp(env));
    let upgrade: VerifiedUpgrade | undefined;
    const party = await routePartykitRequest(request, env, {
      onBeforeConnect: async (req, lobby) => {
        upgrade = await admitVerifiedUpgrade(req, {
          layer,
          users: env.USER_SOCKETS,
          host: { binding: lobby.className, name: lobby.name },
          allowedOrigins: (env.ALLOWED_ORIGINS ?? "").split(",").filter(Boolean),
        });
        return upgrade.ok ? upgrade.request : upgrade.response;
      },
    });
    if (party) return upgrade?.ok ? withSubprotocol(party, upgrade.protocol) : party;
    return app.fetch(request, env, ctx);
  },
} satisfies ExportedHandler<ChatEnv>;
