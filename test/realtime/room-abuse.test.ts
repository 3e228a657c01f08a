/**
 * The demo room under abuse, at the deployed defaults: a per-socket message budget
 * (WS_MESSAGE_RATE, a token bucket: close 1008 `rate_limited` when spent), a per-room budget of
 * bytes fanned out (WS_ROOM_BYTE_RATE: a message that would overspend it is dropped and the
 * sender told `room_busy`), presence and messages without emails (WS_ROOM_EMAILS=off), and the
 * room-authorisation hook of `createApp` for teams. Budgets live in object memory (no timer per
 * socket: the hibernation property holds).
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/worker/app.js";
import { testApp } from "../helpers/app.js";
import { register, worker, type Fetch } from "../helpers/http.js";
import { open, ticketFor, upgrade, within, type OpenSocket } from "../helpers/ws.js";

let n = 0;
const newRoom = () => `abuse${Date.now().toString(36)}${(n++).toString(36)}`;

async function join(token: string, room: string, fetcher: Fetch = worker): Promise<OpenSocket> {
  const res = await upgrade(`/ws?room=${room}&token=${await ticketFor(token, fetcher)}`, {}, fetcher);
  if (res.status !== 101) throw new Error(`upgrade: ${res.status} ${await res.text()}`);
  return open(res);
}

/** Collects every frame of a type that arrives within `ms`. */
async function drain(s: OpenSocket, ms: number): Promise<any[]> {
  const out: any[] = [];
  const until = Date.now() + ms;
  for (;;) {
    const left = until - Date.now();
    if (left <= 0) return out;
    try {
      out.push(await s.next(left));
    } catch {
      return out;
    }
  }
}

describe("attack: message flood from one socket", () => {
  it("beyond the socket's budget (20 at once) the socket is closed 1008 rate_limited", async () => {
    const a = await register();
    const s = await join(a.token, newRoom());
    await s.next();
    for (let i = 0; i < 40; i++) {
      try {
        s.ws.send(`flood ${i}`);
      } catch {
        break; // closed under us
      }
    }
    expect(await within(s.closed, 5_000, "close after a flood")).toEqual({ code: 1008, reason: "rate_limited" });
  });

  it("a user within the budget is never closed", async () => {
    const a = await register();
    const s = await join(a.token, newRoom());
    await s.next();
    for (let i = 0; i < 10; i++) s.ws.send(`calm ${i}`);
    const frames = await drain(s, 1_000);
    expect(frames.filter((m) => m.type === "message")).toHaveLength(10);
  });
});

describe("attack: fan-out amplification (many sockets × large frames)", () => {
  it("a room's fan-out is bounded: large messages to 5 sockets stop at the room's byte budget, the sender told room_busy", async () => {
    const a = await register();
    const r = newRoom();
    const sender = await join(a.token, r);
    await sender.next();
    const listeners = [];
    for (let i = 0; i < 4; i++) listeners.push(await join((await register()).token, r));
    const big = "x".repeat(60 * 1024);
    // 19 frames of 60 KiB to 5 sockets: 5.6 MiB of fan-out against a 4 MiB budget.
    for (let i = 0; i < 19; i++) sender.ws.send(big);
    const seenBySender = await drain(sender, 2_000);
    const delivered = (await drain(listeners[0]!, 500)).filter((m) => m.type === "message").length;
    expect(seenBySender.filter((m) => m.type === "dropped" && m.reason === "room_busy").length).toBeGreaterThan(0);
    // 4 MiB / (5 × 60 KiB) ≈ 13.6 messages may go out in a burst.
    expect(delivered).toBeLessThanOrEqual(14);
    expect(delivered).toBeGreaterThanOrEqual(10);
    expect(sender.ws.readyState).toBe(WebSocket.OPEN);
  });
});

describe("attack: reading everyone's email from a room's presence", () => {
  it("presence and messages carry user ids, not emails (the joining user's own hello keeps theirs)", async () => {
    const r = newRoom();
    const a = await register();
    const b = await register();
    const sa = await join(a.token, r);
    expect(await sa.next()).toEqual({ type: "hello", user: a.user, room: r, presence: [{ id: a.user.id }] });
    const sb = await join(b.token, r);
    const hello = await sb.next();
    expect(JSON.stringify(hello.presence)).not.toContain(a.email);
    sa.ws.send("hi");
    const frames = await drain(sb, 1_000);
    const message = frames.find((m) => m.type === "message");
    expect(message).toEqual({ type: "message", from: { id: a.user.id }, data: "hi" });
    expect(JSON.stringify(frames)).not.toContain(a.email);
  });
});

describe("room authorisation hook (createApp's authorizeRoom)", () => {
  it("refuses a room the hook refuses with 403 room_forbidden, before any object is asked; admits the others", async () => {
    const { deps, env } = await testApp();
    const app = createApp(deps, { authorizeRoom: (user, room) => room === `team-${user.id.slice(0, 8)}` });
    const fetch: Fetch = async (req) => {
      const ctx = createExecutionContext();
      const res = await app.fetch(req, env, ctx);
      await waitOnExecutionContext(ctx);
      return res;
    };
    const a = await register(fetch);
    const refused = await upgrade(`/ws?room=someone-elses&token=${await ticketFor(a.token, fetch)}`, {}, fetch);
    expect(refused.status).toBe(403);
    expect(await refused.json()).toEqual({ error: "forbidden", reason: "room_forbidden" });
    const own = await upgrade(`/ws?room=team-${a.user.id.slice(0, 8).replace(/[^A-Za-z0-9_-]/g, "")}&token=${await ticketFor(a.token, fetch)}`, {}, fetch);
    expect(own.status).toBe(101);
    open(own).ws.close();
  });
});
