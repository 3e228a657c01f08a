/**
 * `GET /ws?room=<name>`: after the handshake rules (ws/handshake.ts) grant the upgrade, the
 * socket is admitted by the user's object and handed to the room's object (gate.ts).
 */
import type { Context } from "hono";
import type { Authenticated } from "../credentials/authenticate.js";
import type { Deps } from "../deps.js";
import type { RealtimeBindings } from "./bindings.js";
import { jsonError } from "../http/responses.js";
import { handOver, realtimeUnavailable } from "./gate.js";
import { ROOMS_BINDING } from "./room.js";

export const DEFAULT_ROOM = "lobby";
const ROOM_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** The room asked for, checked before the ticket is spent (400 `invalid_room`). */
export function roomName(c: Context): string {
  const room = c.req.query("room") ?? DEFAULT_ROOM;
  if (!ROOM_NAME.test(room)) throw jsonError("invalid_room");
  return room;
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
