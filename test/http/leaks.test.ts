/**
 * The smaller leaks and abuses from the review: Server-Timing as a "someone else used this
 * token" oracle, the token repeated in a readable response header, unbounded tickets and
 * sockets per user.
 */
import { describe, expect, it } from "vitest";
import { testApp } from "../helpers/app.js";
import { call, PASSWORD, register, worker } from "../helpers/http.js";
import { open, ORIGIN, upgrade, within } from "../helpers/ws.js";

describe("attack: Server-Timing tells a token holder whether someone else used the token", () => {
  it("absent in production unless SERVER_TIMING=on, and wherever SERVER_TIMING=off", async () => {
    for (const env of [{ ENVIRONMENT: "production" }, { SERVER_TIMING: "off" }, { ENVIRONMENT: "development", SERVER_TIMING: "off" }]) {
      const { fetch } = await testApp({ SESSION_CACHE_TTL: "5 s", ...env });
      const u = await register(fetch, undefined, undefined, { "CF-Connecting-IP": "192.0.2.10" });
      for (const path of ["/api/me", "/api/me", "/auth/session"]) {
        expect((await call(path, { token: u.token }, fetch)).headers.get("Server-Timing"), `${JSON.stringify(env)} ${path}`).toBeNull();
      }
    }
  });

  it("present when asked for (SERVER_TIMING=on), and by default outside production", async () => {
    for (const env of [{ SERVER_TIMING: "on" }, { ENVIRONMENT: "production", SERVER_TIMING: "on" }, { ENVIRONMENT: "development" }, { ENVIRONMENT: "test" }]) {
      const { fetch } = await testApp({ SESSION_CACHE_TTL: "5 s", ...env });
      const u = await register(fetch, undefined, undefined, { "CF-Connecting-IP": "192.0.2.11" });
      expect((await call("/api/me", { token: u.token }, fetch)).headers.get("Server-Timing")).toMatch(/desc="miss"/);
      expect((await call("/api/me", { token: u.token }, fetch)).headers.get("Server-Timing")).toMatch(/desc="hit"/);
    }
  });

  it("a nonsense SERVER_TIMING is a configuration error", async () => {
    await expect(testApp({ SERVER_TIMING: "yes" })).rejects.toThrow(/SERVER_TIMING must be on or off/);
  });
});

describe("attack: the token repeated in a response header that CORS exposes", () => {
  it("register, login and password change carry the token in the body only; CORS does not expose Authorization", async () => {
    const headers = { Origin: ORIGIN };
    const u = await register(worker, undefined, undefined, headers);
    const logged = await call("/auth/login", { body: { email: u.email, password: PASSWORD }, headers });
    const changed = await call("/auth/password", { token: logged.json.token, body: { currentPassword: PASSWORD, newPassword: "a new password here" }, headers });
    for (const [what, r] of [["login", logged], ["password", changed]] as const) {
      expect(r.status, what).toBe(200);
      expect(r.json.token, what).toMatch(/^v1\./);
      expect(r.headers.get("Authorization"), what).toBeNull();
      expect(r.headers.get("Access-Control-Expose-Headers") ?? "", what).not.toMatch(/authorization/i);
      expect([...r.headers.values()].join("\n"), what).not.toContain(r.json.token);
    }
    const preflight = await worker(new Request("https://edge.test/auth/login", { method: "OPTIONS", headers: { Origin: ORIGIN, "Access-Control-Request-Method": "POST" } }));
    expect(preflight.headers.get("Access-Control-Expose-Headers") ?? "").not.toMatch(/authorization/i);
  });
});

describe("attack: one session opening unlimited tickets and sockets", () => {
  it("the 4th outstanding ticket is 429 too_many_tickets with Retry-After; a used one frees its place", async () => {
    const { fetch } = await testApp({ WS_MAX_TICKETS_PER_USER: "3" });
    const u = await register(fetch);
    const tickets: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await call("/auth/ws-ticket", { method: "POST", token: u.token }, fetch);
      expect(r.status).toBe(200);
      tickets.push(r.json.ticket);
    }
    const refused = await call("/auth/ws-ticket", { method: "POST", token: u.token }, fetch);
    expect(refused.status).toBe(429);
    expect(refused.json).toMatchObject({ error: "too_many_tickets" });
    expect(Number(refused.headers.get("Retry-After"))).toBeGreaterThanOrEqual(1);
    expect(Number(refused.headers.get("Retry-After"))).toBeLessThanOrEqual(30);
    // The cap is per user: a second session of the same user is refused too.
    const again = await call("/auth/login", { body: { email: u.email, password: PASSWORD } }, fetch);
    expect((await call("/auth/ws-ticket", { method: "POST", token: again.json.token }, fetch)).status).toBe(429);
    // Using one frees its place.
    const res = await upgrade(`/ws?token=${tickets[0]}`, {}, fetch);
    expect(res.status).toBe(101);
    const s = open(res);
    await s.next();
    expect((await call("/auth/ws-ticket", { method: "POST", token: u.token }, fetch)).status).toBe(200);
    s.ws.close(1000, "done");
  });

  it("the 3rd live socket of a user is 429 too_many_sockets (counted by the user's Durable Object); closing one frees its place", async () => {
    const { fetch } = await testApp({ WS_MAX_SOCKETS_PER_USER: "2" });
    const u = await register(fetch);
    const connect = async () => {
      const t = await call("/auth/ws-ticket", { method: "POST", token: u.token }, fetch);
      return upgrade(`/ws?token=${t.json.ticket}`, {}, fetch);
    };
    const first = open(await connect());
    const second = open(await connect());
    await first.next();
    await second.next();
    const third = await connect();
    expect(third.status).toBe(429);
    expect(await third.json()).toMatchObject({ error: "too_many_sockets", reason: "user_socket_limit" });
    first.ws.close(1000, "bye");
    await within(first.closed, 3000, "first socket closed");
    let status = 0;
    for (let i = 0; i < 20 && status !== 101; i++) {
      const r = await connect();
      status = r.status;
      if (status === 101) open(r).ws.close(1000, "done");
      else await new Promise((r) => setTimeout(r, 50));
    }
    expect(status).toBe(101);
    second.ws.close(1000, "done");
  });
});
