/**
 * WebSockets: `POST /auth/ws-ticket` mints a single-use ticket over the authenticated HTTPS
 * session (ASVS 4.4.4); `GET /ws?room=<name>` joins the demo room, held by a Durable Object
 * (docs/REALTIME.md), closed with 4401 when its session ends, wherever that was decided.
 */
import { Hono, type Context } from "hono";
import type { Authenticated } from "../../credentials/authenticate.js";
import { sessionAuth } from "../../credentials/middleware.js";
import { ticketRoute } from "../../credentials/ticket-route.js";
import { forbidden, jsonError, refusalResponse } from "../../http/responses.js";
import { handOver, realtimeUnavailable } from "../../realtime/gate.js";
import { authorizeUpgrade } from "../../realtime/handshake.js";
import { sessionApi } from "../../session/api.js";
import type { AppEnv, Deps } from "../deps.js";
import type { Session } from "../../session/record.js";
import type { SessionUser } from "../../protocol.js";
import type { RealtimeBindings } from "../env.js";
import { ROOMS_BINDING } from "../room.js";

export const DEFAULT_ROOM = "lobby";
const ROOM_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** The room asked for, checked before the ticket is spent (400 `invalid_room`). */
export function roomName(c: Context): string {
  const room = c.req.query("room") ?? DEFAULT_ROOM;
  if (!ROOM_NAME.test(room)) throw jsonError("invalid_room");
  return room;
}

/**
 * WebSocket upgrades per session (WS_UPGRADE_RATE), counted in the store so every isolate shares
 * the budget: each upgrade costs store reads and object calls, and a loop of open/close cycles
 * from one session would otherwise cost them without bound. 429 `rate_limited` + `Retry-After`.
 */
export async function limitUpgrades(deps: Deps, session: Session): Promise<void> {
  const decision = await deps.rateLimits.hit("wsUpgrade", session.id);
  if (!decision.ok) throw jsonError("rate_limited", { retryAfter: decision.retryAfterSeconds }, { "Retry-After": String(decision.retryAfterSeconds) });
}

export async function upgradeToRoom(c: Context, deps: Deps, grant: Authenticated, room: string): Promise<Response> {
  const { config } = deps;
  const realtime = deps.realtime as RealtimeBindings | null;
  if (!realtime?.rooms) {
    console.error(JSON.stringify({ level: "error", msg: "ROOMS / USER_SOCKETS Durable Object bindings are missing (wrangler.toml)" }));
    return realtimeUnavailable();
  }
  const url = new URL(c.req.url);
  url.searchParams.set("room", room);
  return handOver({
    request: new Request(url, c.req.raw),
    users: realtime.users,
    session: grant.session,
    host: { binding: ROOMS_BINDING, name: room },
    stub: realtime.rooms.get(realtime.rooms.idFromName(room)),
    limits: { perSession: config.ws.maxSocketsPerSession, perUser: config.ws.maxSocketsPerUser },
    protocol: grant.protocol,
  });
}

/**
 * Who may join which room. The demo lets every verified user join every room; a team that
 * builds on the worker decides here (membership in its own store, a role, a room name that
 * embeds the user id…). Called after the credential is verified, before any object is asked;
 * `false` answers 403 `room_forbidden`. A throw is a 500, never an admission.
 */
export type RoomAuthorizer = (user: SessionUser, room: string) => boolean | Promise<boolean>;

export interface WsRoutesOptions {
  /** @default every verified user joins every room (the demo) */
  authorizeRoom?: RoomAuthorizer;
}

export function wsRoutes(deps: Deps, options: WsRoutesOptions = {}) {
  const authorizeRoom = options.authorizeRoom ?? null;
  const { config } = deps;
  const credentials = { ...deps, allowTokenInUrl: config.ws.querySessionToken };
  const handshake = { allowedOrigins: config.ws.allowedOrigins, cookie: deps.cookie };
  return new Hono<AppEnv>()
    .post("/auth/ws-ticket", sessionAuth(deps, { sources: deps.sources, fresh: true, serverTiming: config.serverTiming }), ticketRoute(sessionApi(deps)))
    .get("/ws", async (c) => {
      // The room name is checked before the ticket is spent; the socket lives in the room's object.
      const room = roomName(c);
      const grant = await authorizeUpgrade(c, credentials, handshake);
      if (!grant.ok) return refusalResponse(grant.refusal);
      if (authorizeRoom && (await authorizeRoom(grant.user, room)) !== true) throw forbidden("room_forbidden");
      await limitUpgrades(deps, grant.session);
      return upgradeToRoom(c, deps, grant, room);
    });
}
