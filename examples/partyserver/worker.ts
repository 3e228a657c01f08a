/**
 * A team's own real-time object on PartyServer, behind edge-session: the worker is the
 * edge-session app (accounts, sessions, tickets, the revocation push) plus a PartyServer party,
 * `Chat`, at `/parties/chat/<room>`.
 *
 * - The upgrade is verified in `onBeforeConnect` with the `/ws` rules (ticket, Origin) and
 *   admitted by the user's `UserSockets` object; a refused one never reaches `Chat`.
 * - The identity reaches `onConnect` in a header only the worker sets (`readIdentity`), and the
 *   connection is tagged by session, user and socket (`tagsFor`).
 * - A revocation anywhere (logout, revoke, kill switch, RPC …) reaches `UserSockets`, which calls
 *   `Chat.edgeSessionsEnded()`: the connection closes with 4401 `session_ended`.
 *
 * wrangler.toml: docs/REALTIME.md ("Your own Durable Objects"). Tested by
 * test/node/partyserver-example.test.ts.
 */
import { routePartykitRequest, Server, type Connection, type ConnectionContext, type WSMessage } from "partyserver";
import { appFor, builtFor } from "../../src/app-for.js";
import type { Env } from "../../src/config.js";
import { admitVerifiedUpgrade, closeSessions, liveSocketIds, readIdentity, releaseSocket, tagsFor, type SocketHost, type SocketIdentity, type UserSocketsNamespace } from "../../src/lib.js";

export { UserSockets, SessionVerifier } from "./exports.js";

// Cloudflare.Env: what PartyServer requires of an env (declared by `wrangler types`, empty otherwise).
type ChatEnv = Cloudflare.Env & Env & { Chat: DurableObjectNamespace<Chat>; USER_SOCKETS: UserSocketsNamespace };
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

export default {
  async fetch(request, env, ctx) {
    const built = builtFor(env) ?? (await appFor(env));
    if (!built.ok) return built.response();
    const { deps } = built;
    const party = await routePartykitRequest(request, env, {
      onBeforeConnect: async (req, lobby) => {
        const v = await admitVerifiedUpgrade(req, {
          layer: { ...deps, allowTokenInUrl: false },
          users: env.USER_SOCKETS,
          host: { binding: lobby.className, name: lobby.name },
          limits: { perSession: deps.config.ws.maxSocketsPerSession, perUser: deps.config.ws.maxSocketsPerUser },
          allowedOrigins: deps.config.ws.allowedOrigins,
        });
        return v.ok ? v.request : v.response;
      },
    });
    return party ?? built.app.fetch(request, env, ctx);
  },
} satisfies ExportedHandler<ChatEnv>;
