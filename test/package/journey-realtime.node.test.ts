/**
 * The newcomer's own Durable Object room (fixtures/newcomer/room.ts), in workerd (Miniflare),
 * with the installed package: a ticket from `ticketRoute`, a real `ws` client offering the
 * `["session", ticket]` subprotocol pair (the 101 must name `session`), the identity reaching the
 * room, and a session ended through the layer (`layer.onSessionsEnded` → `pushSessionsEnded` →
 * `UserSockets` → the room's `closeSessions`) closing its sockets with 4401 `session_ended`.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { freshProject, HONO_VERSIONS } from "./fresh-project.ts";
import { signIn, startNewcomer, type Newcomer } from "./newcomer-runtime.ts";

/** A revocation reaches a socket well within this (wide: a shared 2-core machine). */
const CLOSE_WITHIN_MS = 5_000;

interface Opened {
  ws: WebSocket;
  first: unknown;
  messages: unknown[];
  /** The close frame's arrival: nothing more is delivered on the socket from then on. */
  closeFrame: Promise<{ code: number; reason: string }>;
  /** `close`: the connection itself is gone. */
  closed: Promise<{ code: number; reason: string }>;
}

/** Opens /rooms/<room>: resolves once open with the first frame; rejects with the refusal's status and body. */
function openRoom(n: Newcomer, room: string, protocols: string[] | undefined, headers: Record<string, string> = { Origin: n.base }): Promise<Opened> {
  const ws = new WebSocket(`${n.base.replace(/^http/, "ws")}/rooms/${room}`, protocols, { headers });
  const messages: unknown[] = [];
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() })));
  // `ws` has no public event for the close frame itself; its receiver emits "conclude".
  const closeFrame = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.once("open", () => (ws as unknown as { _receiver: NodeJS.EventEmitter })._receiver.once("conclude", (code: number, reason: Buffer) => resolve({ code, reason: reason.toString() })));
    void closed.then(resolve);
  });
  return new Promise((resolve, reject) => {
    ws.on("message", (data) => {
      messages.push(JSON.parse(data.toString()));
      if (messages.length === 1) resolve({ ws, first: messages[0], messages, closeFrame, closed });
    });
    ws.once("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => reject(Object.assign(new Error(`refused ${res.statusCode}`), { status: res.statusCode, body })));
    });
    ws.once("error", reject);
  });
}

const refusal = (p: Promise<Opened>) =>
  p.then(
    (s) => (s.ws.close(), { status: 101, body: "" }),
    (e: { status?: number; body?: string }) => ({ status: e.status, body: e.body }),
  );

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms)))]).finally(() => clearTimeout(timer));
}

describe.each(HONO_VERSIONS)("the newcomer's room with hono %s", (hono) => {
  let n: Newcomer;
  beforeAll(async () => {
    n = await startNewcomer(freshProject(hono));
  }, 600_000);
  afterAll(async () => {
    await n?.close();
  });

  async function user(who: string) {
    const r = await signIn(n, `${who}-${randomBytes(4).toString("hex")}@example.test`);
    return { token: r.body.token as string, user: r.body.user as { id: string; email: string; roles: string[] } };
  }
  async function ticket(token: string): Promise<string> {
    const r = await n.call("app", "/ws-ticket", { method: "POST", token });
    expect(r.status, r.text).toBe(200);
    expect(r.headers.get("Cache-Control")).toBe("no-store");
    return r.body.ticket as string;
  }

  it("opens with the [\"session\", ticket] pair: the 101 names `session`, the room knows who it is, messages carry it", async () => {
    const u = await user("ada");
    const s = await openRoom(n, "lobby", ["session", await ticket(u.token)]);
    expect(s.ws.protocol).toBe("session");
    expect(s.first).toEqual({ type: "welcome", user: u.user });
    s.ws.send("hi");
    await expect.poll(() => s.messages.at(-1)).toEqual({ type: "message", from: u.user.email, text: "hi" });
    s.ws.close();
  });

  it("a ticket from the cookie works too (with the CSRF proofs on POST /ws-ticket)", async () => {
    const r = await signIn(n, `cookie-${randomBytes(4).toString("hex")}@example.test`, "cookie");
    const Cookie = /(__Host-session=[^;]*)/.exec(r.headers.get("Set-Cookie") ?? "")![1]!;
    const t = await n.call("app", "/ws-ticket", { method: "POST", headers: { Cookie, Origin: n.base, "X-CSRF-Protection": "1" } });
    expect(t.status).toBe(200);
    const s = await openRoom(n, "lobby", ["session", t.body.ticket as string]);
    expect(s.first).toMatchObject({ type: "welcome", user: r.body.user });
    s.ws.close();
  });

  it("refuses before the room: no credential (401 missing), a spent ticket (401 invalid_ticket), no upgrade (426)", async () => {
    const u = await user("refused");
    expect(await refusal(openRoom(n, "lobby", undefined))).toEqual({ status: 401, body: JSON.stringify({ error: "unauthorized", reason: "missing" }) });
    const spent = await ticket(u.token);
    (await openRoom(n, "lobby", ["session", spent])).ws.close();
    expect(await refusal(openRoom(n, "lobby", ["session", spent]))).toEqual({ status: 401, body: JSON.stringify({ error: "unauthorized", reason: "invalid_ticket" }) });
    const plain = await n.call("app", "/rooms/lobby", { headers: { Origin: n.base } });
    expect(plain.status).toBe(426);
  });

  it("a sign-out through the layer closes that session's sockets with 4401 session_ended, in every room, listening or talking; others stay", async () => {
    const u = await user("leaver");
    const other = await user("stayer");
    const talking = await openRoom(n, "room-a", ["session", await ticket(u.token)]);
    const listening = await openRoom(n, "room-b", ["session", await ticket(u.token)]);
    const kept = await openRoom(n, "room-a", ["session", await ticket(other.token)]);
    talking.ws.send("before");
    await expect.poll(() => talking.messages.length).toBe(2);

    expect((await n.call("app", "/sign-out", { method: "POST", token: u.token })).status).toBe(204);
    for (const s of [talking, listening]) expect(await within(s.closeFrame, CLOSE_WITHIN_MS, "4401 frame after sign-out")).toEqual({ code: 4401, reason: "session_ended" });
    // The connection of a socket that sent a frame goes at once. One that never did stays open
    // in local workerd after its close frame (docs/REALTIME.md): only its frame is awaited.
    expect(await within(talking.closed, CLOSE_WITHIN_MS, "close after sign-out")).toEqual({ code: 4401, reason: "session_ended" });

    kept.ws.send("still here");
    await expect.poll(() => kept.messages.some((m) => (m as { text?: string }).text === "still here")).toBe(true);
    kept.ws.close();
    expect((await n.call("app", "/ws-ticket", { method: "POST", token: u.token })).status).toBe(401);
    listening.ws.terminate();
  });

  it("sign-out-everywhere closes the sockets of every session of the user", async () => {
    const who = `everywhere-${randomBytes(4).toString("hex")}@example.test`;
    const [a, b] = [(await signIn(n, who)).body.token as string, (await signIn(n, who)).body.token as string];
    const sockets = [await openRoom(n, "room-c", ["session", await ticket(a)]), await openRoom(n, "room-d", ["session", await ticket(b)])];
    expect((await n.call("app", "/sign-out-everywhere", { method: "POST", token: a })).body).toEqual({ ended: 2 });
    for (const s of sockets) expect(await within(s.closeFrame, CLOSE_WITHIN_MS, "4401 frame after sign-out-everywhere")).toEqual({ code: 4401, reason: "session_ended" });
    for (const s of sockets) s.ws.terminate();
  });
});
