/**
 * `edge-session/realtime`: verified sockets in Durable Objects, ours and yours
 * (docs/REALTIME.md has the recipe and the wrangler.toml fragment; examples/partyserver/ is a
 * tested example with PartyServer that imports only the package).
 *
 * In your worker, before the upgrade reaches your object:
 *
 *   const v = await admitVerifiedUpgrade(request, { layer, users: env.USER_SOCKETS, host: { binding: "Chat", name: room } });
 *   if (!v.ok) return v.response;               // 401/403/426/429/503: your object never sees it
 *   return forwardVerified(v, env.Chat.get(env.Chat.idFromName(room)), env.USER_SOCKETS);
 *
 * Tickets come from `layer.issueTicket(session)` (or the `ticketRoute(layer)` handler of
 * `edge-session/hono`). In your object: `readIdentity(request)` is who connected; accept with
 * `acceptVerified()` (or tag PartyServer connections with `tagsFor(identity)`); implement
 * `SocketHost` with `closeSessions()` and `liveSocketIds()`; report closes with
 * `releaseSocket()`. Push revocations where sessions end:
 * `layer.onSessionsEnded((e) => pushSessionsEnded(env.USER_SOCKETS, e))`.
 */
export { admitVerifiedUpgrade, forwardVerified, withSubprotocol, releaseSocket, type VerifiedUpgrade, type VerifiedUpgradeOptions } from "./upgrade.js";
export { pushSessionsEnded, type UserSocketsNamespace } from "./gate.js";
export { UserSockets, type EndedOutcome } from "./user-sockets.js";
export { acceptVerified, identityOf, closeSessions, closeUser, liveSocketIds, RecentlyEnded, recheckSockets, alarmNoLaterThan, type RecheckReader, type RecheckOptions, type VerifiedAttachment } from "./host.js";
export { recheckReader } from "./store-read.js";
export {
  readIdentity,
  tagsFor,
  CLOSE_SESSION_ENDED,
  CLOSE_STORE_UNAVAILABLE,
  CLOSE_MESSAGE_TOO_BIG,
  CLOSE_TEXT_ONLY,
  DEFAULT_SOCKET_LIMITS,
  DEFAULT_MAX_MESSAGE_BYTES,
  type SocketIdentity,
  type SocketHost,
  type SocketHostRef,
  type SocketLimits,
  type SocketClose,
} from "./identity.js";
