import { describe, expect, it } from "vitest";
import { testApp } from "../helpers/app.js";
import { call, register, worker } from "../helpers/http.js";
import { open, ORIGIN, ticketFor, upgrade, within } from "../helpers/ws.js";

describe("ws tickets", () => {
  it("POST /auth/ws-ticket → a single-use ticket valid ≤ 30 s", async () => {
    const a = await register();
    const r = await call("/auth/ws-ticket", { method: "POST", token: a.token });
    expect(r.status).toBe(200);
    expect(r.json.ticket).toMatch(/^wt1\.[A-Za-z0-9_-]{43}$/);
    expect(r.json.expiresIn).toBeLessThanOrEqual(30);
    expect(r.json.expiresIn).toBeGreaterThan(0);
    expect(r.json.ticket).not.toContain(a.token);
  });

  it("needs a session: 401 without one", async () => {
    expect((await call("/auth/ws-ticket", { method: "POST" })).status).toBe(401);
  });
});

describe("GET /ws", () => {
  it("upgrades with a ticket in the query: hello, then the room relays what was sent (to everyone, the sender included)", async () => {
    const a = await register();
    const room = `ws-${crypto.randomUUID()}`;
    const res = await upgrade(`/ws?room=${room}&token=${await ticketFor(a.token)}`);
    expect(res.status).toBe(101);
    const s = open(res);
    expect(await s.next()).toEqual({ type: "hello", user: a.user, room, presence: [{ id: a.user.id }] });
    const from = { id: a.user.id };
    s.ws.send(JSON.stringify({ n: 1 }));
    expect(await s.next()).toEqual({ type: "message", from, data: { n: 1 } });
    s.ws.send("plain text");
    expect(await s.next()).toEqual({ type: "message", from, data: "plain text" });
    s.ws.close(1000, "done");
  });

  it("accepts the ticket as a subprotocol pair and echoes only the protocol name", async () => {
    const a = await register();
    const ticket = await ticketFor(a.token);
    const res = await upgrade("/ws", { "Sec-WebSocket-Protocol": `session, ${ticket}` });
    expect(res.status).toBe(101);
    expect(res.headers.get("Sec-WebSocket-Protocol")).toBe("session");
    const s = open(res);
    expect((await s.next()).type).toBe("hello");
    s.ws.close();
  });

  describe("Security", () => {
    it("a ticket works once", async () => {
      const a = await register();
      const ticket = await ticketFor(a.token);
      expect((await upgrade(`/ws?token=${ticket}`)).status).toBe(101);
      const again = await upgrade(`/ws?token=${ticket}`);
      expect(again.status).toBe(401);
      expect(await again.json()).toEqual({ error: "unauthorized", reason: "invalid_ticket" });
    });

    it("concurrent uses of one ticket: exactly one wins", async () => {
      const a = await register();
      const ticket = await ticketFor(a.token);
      const results = await Promise.all(Array.from({ length: 8 }, () => upgrade(`/ws?token=${ticket}`)));
      expect(results.filter((r) => r.status === 101)).toHaveLength(1);
      expect(results.filter((r) => r.status === 401)).toHaveLength(7);
    });

    it("an expired ticket is refused", async () => {
      const app = await testApp({ WS_TICKET_TTL: "1 s" });
      const a = await register(app.fetch);
      const ticket = await ticketFor(a.token, app.fetch);
      await new Promise((r) => setTimeout(r, 1200));
      const res = await upgrade(`/ws?token=${ticket}`, {}, app.fetch);
      expect(res.status).toBe(401);
    });

    it("a ticket whose session ended is refused", async () => {
      const a = await register();
      const ticket = await ticketFor(a.token);
      await call("/auth/logout", { method: "POST", token: a.token });
      const res = await upgrade(`/ws?token=${ticket}`);
      expect(res.status).toBe(401);
    });

    it("a ticket presented with another user's Bearer header is foreign", async () => {
      const a = await register();
      const b = await register();
      const res = await upgrade(`/ws?token=${await ticketFor(a.token)}`, { Authorization: `Bearer ${b.token}` });
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ error: "unauthorized", reason: "foreign_ticket" });
    });

    it("a made-up ticket is refused", async () => {
      const res = await upgrade(`/ws?token=wt1.${"A".repeat(43)}`);
      expect(res.status).toBe(401);
    });

    it("the session token in the query → 401 ticket_required (default)", async () => {
      const a = await register();
      const res = await upgrade(`/ws?token=${a.token}`);
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ error: "unauthorized", reason: "ticket_required" });
    });

    it("WS_QUERY_SESSION_TOKEN=allow accepts the session token in the query", async () => {
      const app = await testApp({ WS_QUERY_SESSION_TOKEN: "allow" });
      const a = await register(app.fetch);
      const res = await upgrade(`/ws?token=${a.token}`, {}, app.fetch);
      expect(res.status).toBe(101);
      open(res).ws.close();
    });

    it("a foreign or missing Origin → 403", async () => {
      const a = await register();
      const foreign = await upgrade(`/ws?token=${await ticketFor(a.token)}`, { Origin: "https://evil.example" });
      expect(foreign.status).toBe(403);
      const none = await worker(new Request(`https://edge.test/ws?token=${await ticketFor(a.token)}`, { headers: { Upgrade: "websocket" } }));
      expect(none.status).toBe(403);
    });

    it("a non-upgrade request → 426", async () => {
      const r = await call("/ws");
      expect(r.status).toBe(426);
      expect(r.headers.get("Upgrade")).toBe("websocket");
    });

    it("no credential → 401 missing", async () => {
      const res = await upgrade("/ws");
      expect(res.status).toBe(401);
    });
  });
});

describe("non-browser clients: no Origin, Authorization: Bearer", () => {
  const noOrigin = (path: string, headers: Record<string, string>) => worker(new Request(`https://edge.test${path}`, { headers: { Upgrade: "websocket", ...headers } }));

  it("a handshake with no Origin and a valid Bearer header upgrades (with or without its own ticket)", async () => {
    const a = await register();
    const bare = await noOrigin("/ws", { Authorization: `Bearer ${a.token}` });
    expect(bare.status).toBe(101);
    const s = open(bare);
    expect(await s.next()).toMatchObject({ type: "hello", user: a.user });
    s.ws.close();
    const ticket = await ticketFor(a.token);
    const paired = await noOrigin("/ws", { Authorization: `Bearer ${a.token}`, "Sec-WebSocket-Protocol": `session, ${ticket}` });
    expect(paired.status).toBe(101);
    expect(paired.headers.get("Sec-WebSocket-Protocol")).toBe("session");
    open(paired).ws.close();
  });

  it("the Bearer token is verified like any other: a revoked one is 401 revoked", async () => {
    const a = await register();
    await call("/auth/logout", { method: "POST", token: a.token });
    const res = await noOrigin("/ws", { Authorization: `Bearer ${a.token}` });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { reason: string }).reason).toBe("revoked");
  });
});

describe("attack: cross-site WebSocket hijacking through the non-browser path", () => {
  // A page can make the browser open a socket (Origin: the page's) with a ticket it stole or
  // minted, but can neither drop Origin nor add a Bearer header: none of these may upgrade.
  it("a foreign Origin is refused even with a valid Bearer header and ticket", async () => {
    const a = await register();
    const res = await upgrade(`/ws?token=${await ticketFor(a.token)}`, { Origin: "https://evil.example", Authorization: `Bearer ${a.token}` });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { reason: string }).reason).toBe("origin_not_allowed");
  });

  it("no Origin with only a ticket (no Bearer header) is refused", async () => {
    const a = await register();
    const ticket = await ticketFor(a.token);
    const res = await worker(new Request(`https://edge.test/ws`, { headers: { Upgrade: "websocket", "Sec-WebSocket-Protocol": `session, ${ticket}` } }));
    expect(res.status).toBe(403);
  });

  it("no Origin with an ambient-style credential (Authorization: Basic) is refused", async () => {
    const res = await worker(new Request(`https://edge.test/ws`, { headers: { Upgrade: "websocket", Authorization: "Basic dXNlcjpwYXNz" } }));
    expect(res.status).toBe(403);
  });

  it("an opaque Origin (\"null\": sandboxed frames, file: pages) is not a missing one", async () => {
    // (An empty Origin cannot be built with the Request API here: test/node/ws-node-client.test.ts sends one raw.)
    const a = await register();
    const res = await worker(new Request(`https://edge.test/ws`, { headers: { Upgrade: "websocket", Origin: "null", Authorization: `Bearer ${a.token}` } }));
    expect(res.status).toBe(403);
  });

  it("no Origin, a Bearer header and another session's ticket: 401 foreign_ticket", async () => {
    const a = await register();
    const b = await register();
    const res = await worker(new Request(`https://edge.test/ws`, { headers: { Upgrade: "websocket", Authorization: `Bearer ${a.token}`, "Sec-WebSocket-Protocol": `session, ${await ticketFor(b.token)}` } }));
    expect(res.status).toBe(401);
    expect(((await res.json()) as { reason: string }).reason).toBe("foreign_ticket");
  });
});

describe("live sockets end with their session", () => {
  it("logout closes the socket with 4401 session_ended at once", async () => {
    const a = await register();
    const s = open(await upgrade(`/ws?token=${await ticketFor(a.token)}`));
    await s.next();
    await call("/auth/logout", { method: "POST", token: a.token });
    expect(await within(s.closed, 2000, "close after logout")).toEqual({ code: 4401, reason: "session_ended" });
  });

  it("revocation from another device closes it", async () => {
    const a = await register();
    const other = await call("/auth/login", { body: { email: a.email, password: a.password } });
    const s = open(await upgrade(`/ws?token=${await ticketFor(a.token)}`));
    await s.next();
    await call("/auth/sessions/revoke-others", { method: "POST", token: other.json.token });
    expect((await within(s.closed, 2000, "close after revoke-others")).code).toBe(4401);
  });

  it("a logout handled by another app instance (no shared memory) is pushed to the socket at once", async () => {
    // The socket was accepted through `app`; the logout goes through the worker itself. Only the
    // push through the user's Durable Object connects them (the per-isolate re-check is gone).
    const app = await testApp();
    const a = await register(app.fetch);
    const s = open(await upgrade(`/ws?token=${await ticketFor(a.token, app.fetch)}`, {}, app.fetch));
    await s.next();
    await call("/auth/logout", { method: "POST", token: a.token });
    expect(await within(s.closed, 1000, "close after a logout elsewhere")).toEqual({ code: 4401, reason: "session_ended" });
  });

  it("closes at the session's expiry", async () => {
    // The room's alarm, set at the session's expiry (no timer anywhere).
    const app = await testApp({ SESSION_IDLE_TIMEOUT: "2 s", SESSION_ABSOLUTE_TIMEOUT: "2 s" });
    const a = await register(app.fetch);
    const s = open(await upgrade(`/ws?token=${await ticketFor(a.token, app.fetch)}`, {}, app.fetch));
    await s.next();
    const started = Date.now();
    expect(await within(s.closed, 4000, "close at expiry")).toEqual({ code: 4401, reason: "session_ended" });
    expect(Date.now() - started).toBeLessThan(3000);
  });
});
