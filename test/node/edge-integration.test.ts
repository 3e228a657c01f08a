/**
 * Gateway mode and the service-binding RPC, end to end: the bundled worker runs in workerd
 * (Miniflare) on a real loopback port, in front of a real Node origin, with a second worker
 * bound to its `SessionVerifier` entrypoint, against the local store.
 */
import { randomBytes } from "node:crypto";
import http from "node:http";
import { Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { verifyAssertion } from "../../examples/verify-assertion.mjs";
import { startStore, type StoreServer } from "@edge-session/local-store";
import { bundleWorker, COMPATIBILITY_DATE } from "./helpers/bundle.ts";
import { startOrigin, STREAM_GAP_MS, type Origin } from "./helpers/origin.ts";

const ASSERTION_KEY = randomBytes(32).toString("base64url");
const APP_ORIGIN = "https://app.example";
const PASSWORD = "correct horse battery staple";

let store: StoreServer;
let origin: Origin;
let mf: Miniflare;
let base: string;

beforeAll(async () => {
  store = await startStore({ port: 0, redisUrl: process.env.REDIS_URL || undefined });
  origin = await startOrigin();
  const scriptPath = bundleWorker();
  mf = new Miniflare({
    host: "127.0.0.1",
    port: 0,
    cf: false,
    workers: [
      {
        name: "edge-session",
        modules: true,
        scriptPath,
        compatibilityDate: COMPATIBILITY_DATE,
        bindings: {
          ENVIRONMENT: "test",
          SIGNUP: "open",
          SESSION_KEYS: `k1:${randomBytes(32).toString("base64url")}`,
          PASSWORD_PEPPER: randomBytes(32).toString("base64url"),
          UPSTASH_REDIS_REST_URL: store.url,
          UPSTASH_REDIS_REST_TOKEN: store.token,
          STORE_PREFIX: `test:${randomBytes(4).toString("hex")}:`,
          ORIGIN_URL: origin.url,
          GATEWAY_ASSERTION_KEY: ASSERTION_KEY,
          CORS_ORIGINS: APP_ORIGIN,
          WS_RECHECK_INTERVAL: "500 ms",
          RATE_LIMIT_LOGIN_IP: "100000 / 1 h",
          RATE_LIMIT_REGISTER_IP: "100000 / 1 h",
        },
      },
      {
        name: "consumer",
        modules: true,
        compatibilityDate: COMPATIBILITY_DATE,
        script: `
          export default {
            async fetch(request, env) {
              const { op, arg } = await request.json();
              return Response.json(await env.VERIFIER[op](arg));
            },
          };`,
        serviceBindings: { VERIFIER: { name: "edge-session", entrypoint: "SessionVerifier" } },
      },
    ],
  });
  base = (await mf.ready).toString().replace(/\/$/, "");
}, 120_000);

afterAll(async () => {
  await mf?.dispose();
  await origin?.close();
  await store?.close();
});

async function register() {
  const email = `gw-${randomBytes(6).toString("hex")}@example.test`;
  const res = await fetch(`${base}/auth/register`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ email, password: PASSWORD }) });
  expect(res.status).toBe(201);
  return (await res.json()) as { token: string; user: { id: string; email: string; roles: string[] } };
}

const hits = (path: string) => origin.seen.filter((r) => r.path === path).length;

describe("gateway", () => {
  it("proxies a verified request with identity headers the origin can verify", async () => {
    const a = await register();
    const res = await fetch(`${base}/app/data?x=1&y=two`, { headers: { Authorization: `Bearer ${a.token}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-origin")).toBe("yes");
    const seen = (await res.json()) as { path: string; query: string; headers: Record<string, string> };
    expect(seen.path).toBe("/app/data");
    expect(seen.query).toBe("?x=1&y=two");
    expect(seen.headers["x-session-user"]).toBe(a.user.id);
    expect(seen.headers["x-session-roles"]).toBe("");
    expect(seen.headers["x-session-id"]).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(seen.headers.authorization).toBeUndefined();
    expect(JSON.stringify(seen)).not.toContain(a.token);
    expect(verifyAssertion(seen.headers, "GET", "/app/data", ASSERTION_KEY)).toEqual({ user: a.user.id, roles: [], sessionId: seen.headers["x-session-id"] });
    // The assertion is bound to the key, the route and a short lifetime.
    expect(verifyAssertion(seen.headers, "GET", "/app/data", "another key")).toBeNull();
    expect(verifyAssertion(seen.headers, "POST", "/app/data", ASSERTION_KEY)).toBeNull();
    expect(verifyAssertion(seen.headers, "GET", "/app/data", ASSERTION_KEY, Date.now() + 61_000)).toBeNull();
  });

  it("strips client-supplied X-Session-* headers", async () => {
    const a = await register();
    const res = await fetch(`${base}/app/spoof`, { headers: { Authorization: `Bearer ${a.token}`, "X-Session-User": "admin", "X-Session-Roles": "admin", "X-Session-Assertion": "v1.9999999999.forged", "X-Session-Other": "x" } });
    const seen = (await res.json()) as { headers: Record<string, string> };
    expect(seen.headers["x-session-user"]).toBe(a.user.id);
    expect(seen.headers["x-session-roles"]).toBe("");
    expect(seen.headers["x-session-other"]).toBeUndefined();
    expect(verifyAssertion(seen.headers, "GET", "/app/spoof", ASSERTION_KEY)).not.toBeNull();
  });

  it("passes method, body and status codes through", async () => {
    const a = await register();
    const body = JSON.stringify({ hello: "wörld", n: [1, 2, 3] });
    const res = await fetch(`${base}/app/items`, { method: "PUT", headers: { Authorization: `Bearer ${a.token}`, "Content-Type": "application/json" }, body });
    const seen = (await res.json()) as { method: string; body: string };
    expect(seen.method).toBe("PUT");
    expect(seen.body).toBe(body);
    const teapot = await fetch(`${base}/status/418`, { headers: { Authorization: `Bearer ${a.token}` } });
    expect(teapot.status).toBe(418);
    expect(await teapot.json()).toEqual({ status: 418 });
  });

  it("streams the origin's response", async () => {
    const a = await register();
    const res = await fetch(`${base}/stream`, { headers: { Authorization: `Bearer ${a.token}` } });
    const reader = res.body!.getReader();
    const first = await reader.read();
    const firstAt = Date.now();
    let rest = "";
    for (let r = await reader.read(); !r.done; r = await reader.read()) rest += new TextDecoder().decode(r.value);
    const endAt = Date.now();
    expect(new TextDecoder().decode(first.value)).toBe("first\n");
    expect(rest).toBe("last\n");
    // The origin writes the last chunk STREAM_GAP_MS (1.5 s) after the first: a buffering proxy
    // would hand over both at the end. Relative to the end, so a loaded machine cannot fail it.
    expect(endAt - firstAt).toBeGreaterThan(STREAM_GAP_MS - 500);
  });

  it("401s never reach the origin", async () => {
    const before = hits("/app/secret");
    expect((await fetch(`${base}/app/secret`)).status).toBe(401);
    expect((await fetch(`${base}/app/secret`, { headers: { Authorization: "Bearer v1.k1.nope" } })).status).toBe(401);
    const a = await register();
    await fetch(`${base}/auth/logout`, { method: "POST", headers: { Authorization: `Bearer ${a.token}` } });
    expect((await fetch(`${base}/app/secret`, { headers: { Authorization: `Bearer ${a.token}` } })).status).toBe(401);
    expect(hits("/app/secret")).toBe(before);
  });

  it("403s (foreign Origin on an upgrade) never reach the origin", async () => {
    const a = await register();
    const ticket = await wsTicket(a.token);
    const before = hits("/live");
    // undici's fetch refuses an Upgrade header: a raw node:http handshake instead.
    const status = await upgradeStatus(`${base}/live?token=${ticket}`, { Origin: "https://evil.example" });
    expect(status).toBe(403);
    expect(hits("/live")).toBe(before);
  });

  it("503s (store down) never reach the origin, and nothing is lost after", async () => {
    const a = await register();
    const before = hits("/app/when-down");
    store.setFault("status500");
    try {
      // Wait out the 1 s edge cache so the request has to ask the store.
      await new Promise((r) => setTimeout(r, 1100));
      const res = await fetch(`${base}/app/when-down`, { headers: { Authorization: `Bearer ${a.token}` } });
      expect(res.status).toBe(503);
      expect(res.headers.get("retry-after")).toBeTruthy();
    } finally {
      store.setFault(null);
    }
    expect(hits("/app/when-down")).toBe(before);
    expect((await fetch(`${base}/app/when-down`, { headers: { Authorization: `Bearer ${a.token}` } })).status).toBe(200);
  });

  it("keeps the worker's own routes local", async () => {
    const a = await register();
    const before = origin.seen.length;
    expect((await fetch(`${base}/auth/session`, { headers: { Authorization: `Bearer ${a.token}` } })).status).toBe(200);
    expect((await fetch(`${base}/health`)).status).toBe(200);
    expect(origin.seen.length).toBe(before);
  });

  it("proxies a WebSocket end to end and closes it with 4401 when the session ends", async () => {
    const a = await register();
    const ticket = await wsTicket(a.token);
    const ws = new WebSocket(`${base.replace("http", "ws")}/live`, ["session", ticket], { headers: { Origin: APP_ORIGIN } });
    const messages: any[] = [];
    const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() })));
    ws.on("message", (d) => messages.push(JSON.parse(d.toString())));
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    expect(ws.protocol).toBe("session");
    await until(() => messages.length >= 1);
    expect(messages[0]).toMatchObject({ type: "origin-hello", user: a.user.id, assertion: true, path: "/live" });
    ws.send("ping");
    await until(() => messages.length >= 2);
    expect(messages[1]).toEqual({ type: "origin-echo", data: "ping" });
    await fetch(`${base}/auth/logout`, { method: "POST", headers: { Authorization: `Bearer ${a.token}` } });
    const result = await Promise.race([closed, new Promise<never>((_, reject) => setTimeout(() => reject(new Error("socket not closed within 3 s")), 3000))]);
    expect(result).toEqual({ code: 4401, reason: "session_ended" });
  });
});

describe("service-binding RPC (SessionVerifier)", () => {
  const rpc = async (op: string, arg: unknown) => {
    const res = await mf.getWorker("consumer").then((w) => w.fetch("http://consumer/", { method: "POST", body: JSON.stringify({ op, arg }) }));
    return res.json() as Promise<any>;
  };

  it("verify → the session and user; bad tokens → a reason", async () => {
    const a = await register();
    const ok = await rpc("verify", a.token);
    expect(ok).toMatchObject({ ok: true, user: a.user, session: { userId: a.user.id } });
    expect(await rpc("verify", "nonsense")).toEqual({ ok: false, reason: "malformed" });
    expect(await rpc("verify", a.token.slice(0, -2) + (a.token.endsWith("AA") ? "BA" : "AA"))).toEqual({ ok: false, reason: "bad_signature" });
  });

  it("revoke(sessionId) ends one session", async () => {
    const a = await register();
    const v = await rpc("verify", a.token);
    expect(await rpc("revoke", v.session.id)).toBe(true);
    expect(await rpc("verify", a.token)).toEqual({ ok: false, reason: "revoked" });
    expect(await rpc("revoke", v.session.id)).toBe(false);
  });

  it("revokeUser(userId) ends every session of the user", async () => {
    const a = await register();
    const second = await fetch(`${base}/auth/login`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ email: a.user.email, password: PASSWORD }) }).then((r) => r.json() as Promise<{ token: string }>);
    expect(await rpc("revokeUser", a.user.id)).toBe(2);
    expect((await rpc("verify", second.token)).ok).toBe(false);
    expect((await fetch(`${base}/auth/session`, { headers: { Authorization: `Bearer ${a.token}` } })).status).toBe(401);
  });

  it("createSession(user) issues a session for a user the calling worker signed in; results are plain data", async () => {
    const id = `rpc-${randomBytes(4).toString("hex")}`;
    const created = await rpc("createSession", { id, email: `${id}@example.test`, roles: ["admin"] });
    expect(created).toMatchObject({ ok: true, user: { id, email: `${id}@example.test`, roles: ["admin"] }, session: { userId: id } });
    expect(Object.keys(created.session).sort()).toEqual(["createdAt", "device", "email", "expiresAt", "id", "idleExpiresAt", "ip", "lastSeenAt", "roles", "userId"]);
    const me = await fetch(`${base}/api/me`, { headers: { Authorization: `Bearer ${created.token}` } });
    expect(me.status).toBe(200);
    expect((await rpc("verify", created.token)).user).toEqual(created.user);
    expect(await rpc("createSession", { id: "not an id", email: "x@example.test" })).toEqual({ ok: false, reason: "invalid_user" });
    expect(await rpc("createSession", null)).toEqual({ ok: false, reason: "invalid_user" });
  });
});

async function wsTicket(token: string): Promise<string> {
  const res = await fetch(`${base}/auth/ws-ticket`, { method: "POST", headers: { Authorization: `Bearer ${token}` } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { ticket: string }).ticket;
}

/** Sends a WebSocket handshake; resolves with the HTTP status of the refusal (or 101). */
function upgradeStatus(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      headers: { Connection: "Upgrade", Upgrade: "websocket", "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": randomBytes(16).toString("base64"), ...headers },
      timeout: 10_000,
    });
    req.on("response", (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("upgrade", (res, socket) => {
      socket.destroy();
      resolve(res.statusCode ?? 101);
    });
    req.on("timeout", () => req.destroy(new Error("upgrade request timed out")));
    req.on("error", reject);
    req.end();
  });
}

async function until(cond: () => boolean, ms = 3000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}
