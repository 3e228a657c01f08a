/**
 * The real-time layer inside workerd: `/ws` hands verified upgrades to the `RealtimeRoom`
 * Durable Object (hibernation API), `UserSockets` admits them and routes revocations. Real
 * objects from wrangler.toml's bindings, the real store. The cross-isolate case (another worker
 * handles the revocation) is test/node/realtime-cross-isolate.test.ts.
 */
import { env, listDurableObjectIds, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { WorkerEnv as Env } from "../../src/worker/env.js";
import { sessionTag, socketTag, userTag, type SocketIdentity } from "../../src/realtime/identity.js";
import { RealtimeRoom } from "../../src/worker/room.js";
import { UserSockets } from "../../src/realtime/user-sockets.js";
import type { UpstashStore } from "../../src/store/redis.js";
import { testApp } from "../helpers/app.js";
import { call, login, PASSWORD, register, uniqueEmail, worker, type Fetch } from "../helpers/http.js";
import { open, ticketFor, upgrade, within, type OpenSocket } from "../helpers/ws.js";

const e = env as unknown as Required<Pick<Env, "ROOMS" | "USER_SOCKETS">>;
let room = 0;
/** A room of its own per test: presence and broadcasts never mix between tests. */
const newRoom = () => `t${Date.now().toString(36)}${(room++).toString(36)}`;

async function join(token: string, roomName: string, fetcher: Fetch = worker): Promise<OpenSocket> {
  const res = await upgrade(`/ws?room=${roomName}&token=${await ticketFor(token, fetcher)}`, {}, fetcher);
  if (res.status !== 101) throw new Error(`upgrade: ${res.status} ${await res.text()}`);
  return open(res);
}

/** Next message of a type, skipping others (presence updates arrive as people come and go). */
async function nextOf(s: OpenSocket, type: string, timeoutMs = 3000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = await s.next(Math.max(1, deadline - Date.now()));
    if (m.type === type) return m;
  }
}

const roomStub = (name: string) => e.ROOMS.get(e.ROOMS.idFromName(name));
const userStub = (userId: string) => e.USER_SOCKETS.get(e.USER_SOCKETS.idFromName(userId));

describe("the demo room", () => {
  it("hello with the user, the room and who is present; messages broadcast to everyone; presence follows joins and leaves", async () => {
    const r = newRoom();
    const a = await register();
    const b = await register();
    const sa = await join(a.token, r);
    const helloA = await sa.next();
    expect(helloA).toEqual({ type: "hello", user: a.user, room: r, presence: [{ id: a.user.id }] });

    const sb = await join(b.token, r);
    const helloB = await sb.next();
    expect(helloB.presence.map((p: { id: string }) => p.id).sort()).toEqual([a.user.id, b.user.id].sort());
    const seenByA = await nextOf(sa, "presence");
    expect(seenByA.users.map((p: { id: string }) => p.id).sort()).toEqual([a.user.id, b.user.id].sort());

    sb.ws.send(JSON.stringify({ text: "hi" }));
    expect(await nextOf(sa, "message")).toEqual({ type: "message", from: { id: b.user.id }, data: { text: "hi" } });
    expect(await nextOf(sb, "message")).toEqual({ type: "message", from: { id: b.user.id }, data: { text: "hi" } });
    sa.ws.send("plain text");
    expect((await nextOf(sb, "message")).data).toBe("plain text");

    sb.ws.close(1000, "bye");
    const after = await nextOf(sa, "presence");
    expect(after.users).toEqual([{ id: a.user.id }]);
    sa.ws.close();
  });

  it('"ping" is answered "pong" by the runtime and never broadcast', async () => {
    const r = newRoom();
    const a = await register();
    const [s1, s2] = [await join(a.token, r), await join(a.token, r)];
    await s1.next();
    await s2.next();
    const pong = new Promise<string>((resolve) => s1.ws.addEventListener("message", (e) => e.data === "pong" && resolve(e.data as string)));
    s1.ws.send("ping");
    expect(await within(pong, 2000, "pong")).toBe("pong");
    await expect(nextOf(s2, "message", 300)).rejects.toThrow(/no message/);
    s1.ws.close();
    s2.ws.close();
  });

  it("another room hears nothing", async () => {
    const [r1, r2] = [newRoom(), newRoom()];
    const a = await register();
    const s1 = await join(a.token, r1);
    const s2 = await join(a.token, r2);
    await s1.next();
    await s2.next();
    s1.ws.send("only r1");
    expect((await nextOf(s1, "message")).data).toBe("only r1");
    await expect(s2.next(300)).rejects.toThrow(/no message/);
    s1.ws.close();
    s2.ws.close();
  });

  it("an invalid room name → 400 invalid_room, and the ticket is not spent", async () => {
    const a = await register();
    const ticket = await ticketFor(a.token);
    const bad = await upgrade(`/ws?room=${encodeURIComponent("../x")}&token=${ticket}`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: "invalid_room" });
    expect((await upgrade(`/ws?token=${ticket}`)).status).toBe(101);
  });
});

describe("hibernation: identity in the attachment, tags, no timers", () => {
  it("the room accepted the socket with the hibernation API, tagged by session, user and socket, identity attached", async () => {
    const r = newRoom();
    const a = await register();
    const s = await join(a.token, r);
    await s.next();
    const session = (await call("/auth/session", { token: a.token })).json.session;
    const seen = await runInDurableObject(roomStub(r), (_instance: RealtimeRoom, state) => {
      const sockets = state.getWebSockets();
      const identity = (sockets[0]!.deserializeAttachment() as { es: SocketIdentity }).es;
      return {
        count: sockets.length,
        bySession: state.getWebSockets(sessionTag(session.id)).length,
        byUser: state.getWebSockets(userTag(a.user.id)).length,
        bySocket: state.getWebSockets(socketTag(identity.socketId)).length,
        tags: state.getTags(sockets[0]!),
        identity,
      };
    });
    expect(seen.count).toBe(1);
    expect(seen.bySession).toBe(1);
    expect(seen.byUser).toBe(1);
    expect(seen.bySocket).toBe(1);
    expect(seen.tags).toEqual([sessionTag(session.id), userTag(a.user.id), socketTag(seen.identity.socketId)]);
    expect(seen.identity).toMatchObject({ sessionId: session.id, userId: a.user.id, email: a.email, roles: [] });
    expect(seen.identity.expiresAt).toBe(Math.min(Date.parse(session.idleExpiresAt), Date.parse(session.expiresAt)));
    expect(seen.identity.absoluteExpiresAt).toBe(Date.parse(session.expiresAt));
    // The session's expiry is on the object's alarm (no timer).
    const alarm = await runInDurableObject(roomStub(r), (_i: RealtimeRoom, state) => state.storage.getAlarm());
    expect(alarm).not.toBeNull();
    expect(alarm!).toBeLessThanOrEqual(seen.identity.expiresAt + 1);
    // The user's object knows where the socket is.
    const rows = await userStub(a.user.id).sockets();
    expect(rows).toEqual([{ socketId: seen.identity.socketId, sessionId: session.id, host: { binding: "ROOMS", name: r } }]);
    s.ws.close();
  });

  describe("timers per idle socket", () => {
    const real = { setTimeout: globalThis.setTimeout, setInterval: globalThis.setInterval, clearTimeout: globalThis.clearTimeout, clearInterval: globalThis.clearInterval };
    afterEach(() => Object.assign(globalThis, real));

    it("10 sockets joined and idle leave 0 timers pending (setTimeout/setInterval tracked across the isolate)", async () => {
      const r = newRoom();
      const users = await Promise.all(Array.from({ length: 5 }, () => register()));
      const pending = new Set<unknown>();
      let calls = 0;
      // Tracks every timer made from here on, in this isolate (the objects run in it: checked below).
      globalThis.setTimeout = ((fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => {
        calls++;
        const id: unknown = real.setTimeout(() => {
          pending.delete(id);
          fn(...args);
        }, ms);
        pending.add(id);
        return id;
      }) as typeof setTimeout;
      globalThis.setInterval = ((fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => {
        calls++;
        const id: unknown = real.setInterval(fn, ms, ...args);
        pending.add(id);
        return id;
      }) as typeof setInterval;
      globalThis.clearTimeout = ((id: unknown) => (pending.delete(id), real.clearTimeout(id as number))) as typeof clearTimeout;
      globalThis.clearInterval = ((id: unknown) => (pending.delete(id), real.clearInterval(id as number))) as typeof clearInterval;

      // The tracker sees timers made by the object's code: one made inside the room counts.
      const probe = await runInDurableObject(roomStub(r), () => {
        const before = calls;
        clearTimeout(setTimeout(() => {}, 1));
        return calls - before;
      });
      expect(probe).toBe(1);

      const sockets: OpenSocket[] = [];
      for (const u of users) for (let i = 0; i < 2; i++) sockets.push(await join(u.token, r));
      for (const s of sockets) await s.next(); // hello (each socket's wait timer is cleared on arrival)
      calls = 0;
      await new Promise((res) => real.setTimeout(res, 500)); // idle
      expect([...pending]).toEqual([]);
      expect(calls).toBe(0);
      for (const s of sockets) s.ws.close();
    });
  });
});

describe("Bad input, bounded", () => {
  describe("attack: tickets that must never reach a Durable Object", () => {
    afterEach(() => vi.restoreAllMocks());

    it("forged, expired, used and foreign tickets, a foreign Origin and no credential: 0 object requests (a good ticket: 1 admission, 1 room request)", async () => {
      const fetches = vi.spyOn(RealtimeRoom.prototype, "fetch");
      const admits = vi.spyOn(UserSockets.prototype, "admit");
      const app = await testApp({ WS_TICKET_TTL: "1 s" });
      const a = await register(app.fetch);
      const b = await register(app.fetch);
      const r = newRoom();

      // Positive control: the spies see the objects' requests.
      const used = await ticketFor(a.token, app.fetch);
      const good = await upgrade(`/ws?room=${r}&token=${used}`, {}, app.fetch);
      expect(good.status).toBe(101);
      open(good).ws.close();
      expect([admits.mock.calls.length, fetches.mock.calls.length]).toEqual([1, 1]);
      admits.mockClear();
      fetches.mockClear();

      const expired = await ticketFor(a.token, app.fetch);
      await new Promise((res) => setTimeout(res, 1200));
      const attempts: [string, Response][] = [
        ["forged", await upgrade(`/ws?room=${r}&token=wt1.${"A".repeat(43)}`, {}, app.fetch)],
        ["malformed", await upgrade(`/ws?room=${r}&token=wt1.short`, {}, app.fetch)],
        ["expired", await upgrade(`/ws?room=${r}&token=${expired}`, {}, app.fetch)],
        ["used", await upgrade(`/ws?room=${r}&token=${used}`, {}, app.fetch)],
        ["foreign", await upgrade(`/ws?room=${r}&token=${await ticketFor(a.token, app.fetch)}`, { Authorization: `Bearer ${b.token}` }, app.fetch)],
        ["origin", await upgrade(`/ws?room=${r}&token=${await ticketFor(a.token, app.fetch)}`, { Origin: "https://evil.example" }, app.fetch)],
        ["none", await upgrade(`/ws?room=${r}`, {}, app.fetch)],
        ["session token", await upgrade(`/ws?room=${r}&token=${a.token}`, {}, app.fetch)],
      ];
      expect(attempts.map(([what, res]) => [what, res.status, res.webSocket === null])).toEqual([
        ["forged", 401, true],
        ["malformed", 401, true],
        ["expired", 401, true],
        ["used", 401, true],
        ["foreign", 401, true],
        ["origin", 403, true],
        ["none", 401, true],
        ["session token", 401, true],
      ]);
      expect({ admissions: admits.mock.calls.length, roomRequests: fetches.mock.calls.length }).toEqual({ admissions: 0, roomRequests: 0 });
      // Nor was an object of the room's name ever created.
      const ids = await listDurableObjectIds(e.ROOMS);
      expect(ids.some((id) => id.equals(e.ROOMS.idFromName(`never-${r}`)))).toBe(false);
    });
  });

  it("a message over the limit closes the socket with 1009", async () => {
    const a = await register();
    const s = await join(a.token, newRoom());
    await s.next();
    s.ws.send("x".repeat(64 * 1024)); // at the limit: fine
    expect((await nextOf(s, "message")).data).toHaveLength(64 * 1024);
    s.ws.send("é".repeat(32 * 1024 + 1)); // 64 KiB + 2 bytes of UTF-8
    expect(await within(s.closed, 3000, "close after a big message")).toEqual({ code: 1009, reason: "message_too_big" });
  });

  it("binary frames close with 1003", async () => {
    const a = await register();
    const s = await join(a.token, newRoom());
    await s.next();
    s.ws.send(new Uint8Array([1, 2, 3]));
    expect((await within(s.closed, 3000, "close after binary")).code).toBe(1003);
  });

  describe("socket caps (WS_MAX_SOCKETS_PER_SESSION, WS_MAX_SOCKETS_PER_USER)", () => {
    it("per session and per user: 429 too_many_sockets with the cap's name; a closed socket frees its place", async () => {
      const app = await testApp({ WS_MAX_SOCKETS_PER_SESSION: "2", WS_MAX_SOCKETS_PER_USER: "3" });
      const a = await register(app.fetch);
      const r = newRoom();
      const s1 = await join(a.token, r, app.fetch);
      const s2 = await join(a.token, r, app.fetch);
      const third = await upgrade(`/ws?room=${r}&token=${await ticketFor(a.token, app.fetch)}`, {}, app.fetch);
      expect(third.status).toBe(429);
      expect(third.webSocket).toBeNull();
      expect(await third.json()).toEqual({ error: "too_many_sockets", reason: "session_socket_limit" });

      const other = await login(app.fetch, a.email);
      const s3 = await join(other.token, newRoom(), app.fetch);
      const fourth = await upgrade(`/ws?room=${r}&token=${await ticketFor(other.token, app.fetch)}`, {}, app.fetch);
      expect(fourth.status).toBe(429);
      expect(await fourth.json()).toEqual({ error: "too_many_sockets", reason: "user_socket_limit" });

      s1.ws.close(1000);
      await within(s1.closed, 3000, "s1 closed");
      // The room reports the close to the user's object; then there is room again.
      await expect.poll(async () => (await userStub(a.user.id).sockets()).length, { timeout: 3000 }).toBe(2);
      const again = await join(other.token, r, app.fetch);
      for (const s of [s2, s3, again]) s.ws.close();
    });

    it("a row left behind by a socket that vanished without a close is reconciled at the cap", async () => {
      const app = await testApp({ WS_MAX_SOCKETS_PER_SESSION: "1" });
      const a = await register(app.fetch);
      const session = (await call("/auth/session", { token: a.token }, app.fetch)).json.session;
      const r = newRoom();
      // A row whose socket does not exist in its room (an object reset by a deploy, say).
      const ghost = await userStub(a.user.id).admit({
        socketId: "ghost-socket",
        sessionId: session.id,
        host: { binding: "ROOMS", name: r },
        absoluteExpiresAt: Date.now() + 3_600_000,
        limits: { perSession: 1, perUser: 25 },
      });
      expect(ghost).toEqual({ ok: true });
      const s = await join(a.token, r, app.fetch);
      expect((await s.next()).type).toBe("hello");
      expect((await userStub(a.user.id).sockets()).map((x) => x.socketId)).not.toContain("ghost-socket");
      s.ws.close();
    });
  });

  it("a config out of range is refused at start", async () => {
    await expect(testApp({ WS_MAX_SOCKETS_PER_SESSION: "0" })).rejects.toThrow(/WS_MAX_SOCKETS_PER_SESSION/);
    await expect(testApp({ WS_MAX_MESSAGE_BYTES: "lots" })).rejects.toThrow(/WS_MAX_MESSAGE_BYTES/);
  });

  describe("an object that cannot be reached: 503 with Retry-After, never a half-open socket", () => {
    it("the room's object fails (its namespace answers with an object that has no fetch)", async () => {
      // USER_SOCKETS objects have no fetch handler: a real object, a real failure to serve.
      const app = await testApp({ ROOMS: e.USER_SOCKETS as unknown as Env["ROOMS"] });
      const a = await register(app.fetch);
      const res = await upgrade(`/ws?token=${await ticketFor(a.token, app.fetch)}`, {}, app.fetch);
      expect(res.status).toBe(503);
      expect(res.webSocket).toBeNull();
      expect(res.headers.get("Retry-After")).toMatch(/^[1-9]\d*$/);
      expect(await res.json()).toEqual({ error: "realtime_unavailable" });
      // The admission was given back.
      expect(await userStub(a.user.id).sockets()).toEqual([]);
    });

    it("the user's object fails (no admit method there)", async () => {
      const app = await testApp({ USER_SOCKETS: e.ROOMS as unknown as Env["USER_SOCKETS"] });
      const a = await register(app.fetch);
      const res = await upgrade(`/ws?token=${await ticketFor(a.token, app.fetch)}`, {}, app.fetch);
      expect(res.status).toBe(503);
      expect(res.webSocket).toBeNull();
      expect(res.headers.get("Retry-After")).toMatch(/^[1-9]\d*$/);
    });
  });
});

describe("revocation push: every path that ends sessions closes the sockets with 4401 at once", () => {
  let adminToken: string;
  beforeAll(async () => {
    const { deps } = await testApp();
    const email = uniqueEmail("admin");
    await deps.accounts.create({ email, passwordHash: await deps.passwords.hash(PASSWORD), roles: ["admin"] });
    adminToken = (await login(worker, email)).token;
  });

  /** Opens a socket for `token`, runs `end`, and expects 4401 session_ended within 1 s of its answer. */
  async function expectPushed(token: string, end: () => Promise<{ status: number }>, expected = 200) {
    const s = await join(token, newRoom());
    await s.next();
    const r = await end();
    expect(r.status).toBe(expected);
    const since = Date.now();
    expect(await within(s.closed, 1000, "4401 after the revocation")).toEqual({ code: 4401, reason: "session_ended" });
    return Date.now() - since;
  }

  it("logout", async () => {
    const a = await register();
    await expectPushed(a.token, () => call("/auth/logout", { method: "POST", token: a.token }), 204);
  });

  it("DELETE /auth/sessions/:id from another device", async () => {
    const a = await register();
    const other = await login(worker, a.email);
    const id = (await call("/auth/session", { token: a.token })).json.session.id;
    await expectPushed(a.token, () => call(`/auth/sessions/${id}`, { method: "DELETE", token: other.token }), 204);
  });

  it("revoke-others", async () => {
    const a = await register();
    const other = await login(worker, a.email);
    await expectPushed(a.token, () => call("/auth/sessions/revoke-others", { method: "POST", token: other.token }));
  });

  it("password change (every session ends)", async () => {
    const a = await register();
    await expectPushed(a.token, () => call("/auth/password", { body: { currentPassword: PASSWORD, newPassword: "another horse battery staple" }, token: a.token }));
  });

  it("the per-user cap ending the oldest session", async () => {
    const app = await testApp({ SESSION_MAX_PER_USER: "1" });
    const a = await register(app.fetch);
    // The push goes through the user's object, whichever app instance holds the socket.
    await expectPushed(a.token, () => call("/auth/login", { body: { email: a.email, password: PASSWORD } }, app.fetch));
  });

  it("admin kill switch", async () => {
    const a = await register();
    await expectPushed(a.token, () => call(`/admin/users/${a.user.id}/sessions`, { method: "DELETE", token: adminToken }));
  });

  it("admin disable", async () => {
    const a = await register();
    await expectPushed(a.token, () => call(`/admin/users/${a.user.id}/disable`, { method: "POST", token: adminToken }));
  });

  it("every socket of the user in every room, and only that session's", async () => {
    const a = await register();
    const other = await login(worker, a.email);
    const [r1, r2] = [newRoom(), newRoom()];
    const mine = [await join(a.token, r1), await join(a.token, r2)];
    const kept = await join(other.token, r1);
    for (const s of [...mine, kept]) await s.next();
    expect((await call("/auth/logout", { method: "POST", token: a.token })).status).toBe(204);
    for (const s of mine) expect((await within(s.closed, 1000, "4401")).code).toBe(4401);
    // The other session's socket stays, and sees the presence of its room update.
    kept.ws.send("still here");
    expect((await nextOf(kept, "message")).data).toBe("still here");
    kept.ws.close();
  });
});

describe("the object's alarm: expiry and the safety-net re-check", () => {
  it("closes at the session's expiry", async () => {
    const app = await testApp({ SESSION_IDLE_TIMEOUT: "2 s", SESSION_ABSOLUTE_TIMEOUT: "2 s" });
    const a = await register(app.fetch);
    const s = await join(a.token, newRoom(), app.fetch);
    await s.next();
    const started = Date.now();
    expect(await within(s.closed, 4000, "close at expiry")).toEqual({ code: 4401, reason: "session_ended" });
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it("a session ended without a push (deleted in the store behind our back) is caught by the re-check", async () => {
    const app = await testApp();
    const a = await register(app.fetch);
    const r = newRoom();
    const s = await join(a.token, r, app.fetch);
    await s.next();
    const session = (await call("/auth/session", { token: a.token }, app.fetch)).json.session;
    // A direct DEL through the store's own client: no manager, so no push.
    await (app.deps.store as UpstashStore).redis.del(app.deps.keys.session(session.id));
    // The alarm due at the safety-net interval, run now.
    expect(await runDurableObjectAlarm(roomStub(r))).toBe(true);
    expect(await within(s.closed, 2000, "close by the re-check")).toEqual({ code: 4401, reason: "session_ended" });
  });

  it("a live session survives the re-check", async () => {
    const a = await register();
    const r = newRoom();
    const s = await join(a.token, r);
    await s.next();
    s.ws.send("activity");
    await nextOf(s, "message");
    expect(await runDurableObjectAlarm(roomStub(r))).toBe(true);
    s.ws.send("still open");
    expect((await nextOf(s, "message")).data).toBe("still open");
    // The next alarm is set again (at the latest one safety-net interval away).
    const alarm = await runInDurableObject(roomStub(r), (_i: RealtimeRoom, state) => state.storage.getAlarm());
    expect(alarm).not.toBeNull();
    s.ws.close();
  });
});
