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
import { bundleWorker, COMPATIBILITY_DATE } from "../helpers/node/bundle.ts";
import { startOrigin, STREAM_GAP_MS, type Origin } from "../helpers/node/origin.ts";

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
    const expected = { method: "GET", target: "/app/data?x=1&y=two", audience: origin.url, key: ASSERTION_KEY };
    expect(verifyAssertion(seen.headers, expected)).toMatchObject({ user: a.user.id, roles: [], sessionId: seen.headers["x-session-id"] });
    // The assertion is bound to the key, the method, the path and query, the audience and ≈ 10 s.
    expect(verifyAssertion(seen.headers, { ...expected, key: "another key" })).toBeNull();
    expect(verifyAssertion(seen.headers, { ...expected, method: "POST" })).toBeNull();
    expect(verifyAssertion(seen.headers, { ...expected, target: "/app/data?x=2&y=two" })).toBeNull();
    expect(verifyAssertion(seen.headers, { ...expected, audience: "http://127.0.0.1:1" })).toBeNull();
    expect(verifyAssertion(seen.headers, { ...expected, nowMs: Date.now() + 11_000 })).toBeNull();
  });

  it("strips client-supplied X-Session-* headers", async () => {
    const a = await register();
    const res = await fetch(`${base}/app/spoof`, { headers: { Authorization: `Bearer ${a.token}`, "X-Session-User": "admin", "X-Session-Roles": "admin", "X-Session-Assertion": "v1.9999999999.forged", "X-Session-Other": "x" } });
    const seen = (await res.json()) as { headers: Record<string, string> };
    expect(seen.headers["x-session-user"]).toBe(a.user.id);
    expect(seen.headers["x-session-roles"]).toBe("");
    expect(seen.headers["x-session-other"]).toBeUndefined();
    expect(verifyAssertion(seen.headers, { method: "GET", target: "/app/spoof", audience: origin.url, key: ASSERTION_KEY })).not.toBeNull();
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

describe("gateway with the session cookie", () => {
  const COOKIE = "__Host-session";
  async function cookieRegister() {
    const email = `gwc-${randomBytes(6).toString("hex")}@example.test`;
    const res = await fetch(`${base}/auth/register`, { method: "POST", headers: { "Content-Type": "application/json", Origin: base, "X-CSRF-Protection": "1" }, body: JSON.stringify({ email, password: PASSWORD, transport: "cookie" }) });
    expect(res.status).toBe(201);
    const set = res.headers.getSetCookie().find((c) => c.startsWith(`${COOKIE}=`))!;
    return { token: set.slice(COOKIE.length + 1, set.indexOf(";")), user: ((await res.json()) as { user: { id: string } }).user };
  }

  it("proxies a cookie-authenticated GET with the session cookie removed and other cookies kept", async () => {
    const a = await cookieRegister();
    const res = await fetch(`${base}/app/cookie-get`, { headers: { Cookie: `theme=dark; ${COOKIE}=${a.token}; lang=en` } });
    expect(res.status).toBe(200);
    const seen = (await res.json()) as { headers: Record<string, string> };
    expect(seen.headers["x-session-user"]).toBe(a.user.id);
    expect(seen.headers.cookie).toBe("theme=dark; lang=en");
    expect(JSON.stringify(seen)).not.toContain(a.token);
    const only = (await (await fetch(`${base}/app/cookie-only`, { headers: { Cookie: `${COOKIE}=${a.token}` } })).json()) as { headers: Record<string, string> };
    expect(only.headers.cookie).toBeUndefined();
  });

  it("CSRF: a cookie-authenticated unsafe request from another origin, or without the header, is 403 csrf and never reaches the origin", async () => {
    const a = await cookieRegister();
    const before = hits("/app/transfer");
    for (const headers of [{ Origin: "https://evil.example", "X-CSRF-Protection": "1" }, { Origin: base }, {}] as Record<string, string>[]) {
      const res = await fetch(`${base}/app/transfer`, { method: "POST", headers: { Cookie: `${COOKIE}=${a.token}`, "Content-Type": "application/json", ...headers }, body: "{}" });
      expect(res.status).toBe(403);
      expect(await res.json()).toEqual({ error: "forbidden", reason: "csrf" });
    }
    expect(hits("/app/transfer")).toBe(before);
    const ok = await fetch(`${base}/app/transfer`, { method: "POST", headers: { Cookie: `${COOKIE}=${a.token}`, "Content-Type": "application/json", Origin: base, "X-CSRF-Protection": "1" }, body: "{}" });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { method: string }).method).toBe("POST");
    expect(hits("/app/transfer")).toBe(before + 1);
  });

  it("a same-origin page's cookie authenticates a proxied WebSocket without a ticket; the origin never sees the cookie; a foreign Origin is 403", async () => {
    const a = await cookieRegister();
    const ws = new WebSocket(`${base.replace("http", "ws")}/live`, { headers: { Origin: base, Cookie: `theme=dark; ${COOKIE}=${a.token}` } });
    const messages: any[] = [];
    ws.on("message", (d) => messages.push(JSON.parse(d.toString())));
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    await until(() => messages.length >= 1);
    expect(messages[0]).toMatchObject({ type: "origin-hello", user: a.user.id, assertion: true, path: "/live", cookie: "theme=dark" });
    ws.close();
    const before = hits("/live");
    expect(await upgradeStatus(`${base}/live`, { Origin: "https://evil.example", Cookie: `${COOKIE}=${a.token}` })).toBe(403);
    expect(hits("/live")).toBe(before);
  });

  it("a forged session cookie: 401, cookie cleared, never reaches the origin", async () => {
    const before = hits("/app/cookie-forged");
    const res = await fetch(`${base}/app/cookie-forged`, { headers: { Cookie: `${COOKIE}=v1.k1.${"A".repeat(43)}.${"B".repeat(43)}` } });
    expect(res.status).toBe(401);
    expect(res.headers.getSetCookie().some((c) => c.startsWith(`${COOKIE}=;`) && /Max-Age=0/.test(c))).toBe(true);
    expect(hits("/app/cookie-forged")).toBe(before);
  });
});

/** Sends a request with exactly these headers (undici refuses some, e.g. Connection). */
function rawGet(url: string, headers: Record<string, string>): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { headers, timeout: 10_000 });
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
    });
    req.on("timeout", () => req.destroy(new Error("request timed out")));
    req.on("error", reject);
    req.end();
  });
}

/** Opens a relayed socket with extra handshake headers; resolves with the origin's hello. */
async function relayedHello(url: string, protocols: string[], headers: Record<string, string>): Promise<any> {
  const ws = new WebSocket(url, protocols, { headers: { Origin: APP_ORIGIN, ...headers } });
  try {
    return await new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error("no origin hello within 5 s")), 5000);
      ws.once("message", (d) => {
        clearTimeout(t);
        resolve(JSON.parse(d.toString()));
      });
      ws.once("error", reject);
      ws.once("unexpected-response", (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    });
  } finally {
    ws.terminate();
  }
}

/** A raw WebSocket handshake with exactly these headers; resolves with the first text frame, parsed. */
function rawUpgradeHello(url: string, headers: Record<string, string>): Promise<any> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { headers: { Upgrade: "websocket", "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": randomBytes(16).toString("base64"), ...headers }, timeout: 10_000 });
    req.on("response", (res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    req.on("upgrade", (_res, socket, head) => {
      let buf = head;
      const onData = (chunk: Buffer) => {
        buf = Buffer.concat([buf, chunk]);
        if (buf.length < 2) return;
        // Server frames are unmasked: FIN+text, then a 7-bit, 16-bit or 64-bit length.
        let len = buf[1]! & 0x7f;
        let offset = 2;
        if (len === 126) {
          if (buf.length < 4) return;
          len = buf.readUInt16BE(2);
          offset = 4;
        } else if (len === 127) {
          if (buf.length < 10) return;
          len = Number(buf.readBigUInt64BE(2));
          offset = 10;
        }
        if (buf.length < offset + len) return;
        socket.destroy();
        resolve(JSON.parse(buf.subarray(offset, offset + len).toString("utf8")));
      };
      socket.on("data", onData);
      onData(Buffer.alloc(0));
    });
    req.on("timeout", () => req.destroy(new Error("upgrade timed out")));
    req.on("error", reject);
    req.end();
  });
}

/** Identity header spellings an origin on a CGI-style stack maps onto X-Session-*. */
const IDENTITY_SPOOF: Record<string, string> = {
  X_Session_User: "admin",
  X_Session_Roles: "admin",
  "X-Session_User": "admin",
  "X_Session-Roles": "admin",
  "X-SESSION-USER": "admin",
  "x-session-roles": "admin",
  "X-Session-Assertion": "v2.9999999999.AAAAAAAAAAAAAAAAAAAAAA.forged",
  "X-Sessionuser": "admin",
};

/** Proxy claims an origin behind a trusting proxy would act on. */
const PROXY_SPOOF: Record<string, string> = {
  Forwarded: "for=10.0.0.1;host=intranet;proto=https",
  "X-Forwarded-For": "10.0.0.1",
  "X-Forwarded-Host": "intranet.example",
  "X-Forwarded-Proto": "https",
  "X-Forwarded-Prefix": "/admin",
  "X-Real-IP": "10.0.0.1",
  "X-Original-URL": "/admin/delete-everything",
  "X-Rewrite-URL": "/admin/delete-everything",
  "Remote-User": "admin",
  "X-Remote-User": "admin",
  "X-HTTP-Method-Override": "DELETE",
  "Proxy-Connection": "keep-alive",
  "X-Drop-Me": "named in Connection",
  "X-Client-IP": "10.0.0.1",
  "True-Client-IP": "10.0.0.1",
  "CF-Connecting-IP": "203.0.113.9",
};

const SPOOFED = { ...IDENTITY_SPOOF, ...PROXY_SPOOF };

/** What the origin must never see: every header name it received, checked against the attack. */
function expectClean(received: Record<string, unknown>, userId: string, what: string) {
  const names = Object.keys(received).map((n) => n.toLowerCase());
  expect(names.filter((n) => n.includes("_")), `${what}: names with _`).toEqual([]);
  expect(names.filter((n) => n.replace(/[-_]/g, "").startsWith("xsession")).sort(), `${what}: identity headers`).toEqual(["x-session-assertion", "x-session-id", "x-session-roles", "x-session-user"]);
  for (const n of ["x-original-url", "x-rewrite-url", "remote-user", "x-remote-user", "x-http-method-override", "proxy-connection", "x-drop-me", "x-client-ip", "true-client-ip", "x-forwarded-prefix"]) {
    expect(names, `${what}: ${n}`).not.toContain(n);
  }
  expect(received["x-session-user"], what).toBe(userId);
  expect(received["x-session-roles"], what).toBe("");
  // The forwarding headers are the gateway's own, from what it saw (CF-Connecting-IP).
  expect(received["x-forwarded-for"], what).toBe("203.0.113.9");
  expect(received["x-real-ip"], what).toBe("203.0.113.9");
  expect(String(received["forwarded"]), what).toMatch(/^for=203\.0\.113\.9;host="127\.0\.0\.1:\d+";proto=http$/);
  expect(String(received["x-forwarded-host"]), what).toMatch(/^127\.0\.0\.1:\d+$/);
  expect(received["x-forwarded-proto"], what).toBe("http");
}

describe("attack: identity headers with underscores or other spellings reach the origin", () => {
  it("plain HTTP: only the gateway's X-Session-* arrive, under their one spelling", async () => {
    const a = await register();
    const r = await rawGet(`${base}/app/hygiene`, { Authorization: `Bearer ${a.token}`, Connection: "keep-alive, X-Drop-Me", ...SPOOFED });
    expect(r.status).toBe(200);
    const seen = JSON.parse(r.body) as { headers: Record<string, string> };
    expectClean(seen.headers, a.user.id, "http");
    expect(verifyAssertion(seen.headers, { method: "GET", target: "/app/hygiene", audience: origin.url, key: ASSERTION_KEY })).not.toBeNull();
  });

  it("WebSocket upgrade: the same, on the relayed handshake", async () => {
    const a = await register();
    // A raw handshake: the ws client writes its own Connection header over ours.
    const hello = await rawUpgradeHello(`${base}/live`, { ...SPOOFED, Connection: "Upgrade, X-Drop-Me", Origin: APP_ORIGIN, "Sec-WebSocket-Protocol": `session, ${await wsTicket(a.token)}` });
    expect(hello.type).toBe("origin-hello");
    expectClean(hello.headers, a.user.id, "ws");
  });
});

describe("attack: client-supplied proxy headers and Connection-named headers reach the origin", () => {
  it("Forwarded, X-Forwarded-*, X-Real-IP, X-Original-URL, Remote-User, Proxy-Connection and Connection-named headers are the gateway's or absent", async () => {
    const a = await register();
    const r = await rawGet(`${base}/app/proxy-claims?q=1`, { Authorization: `Bearer ${a.token}`, Connection: "X-Drop-Me, Keep-Alive", ...PROXY_SPOOF });
    const seen = JSON.parse(r.body) as { headers: Record<string, string>; method: string; path: string };
    expect(seen.method).toBe("GET");
    expect(seen.path).toBe("/app/proxy-claims");
    expectClean(seen.headers, a.user.id, "proxy claims");
  });
});

describe("attack: a captured assertion replayed on another query", () => {
  it("the origin's verifier refuses GET /app/orders?id=1 headers for ?id=2&delete=1", async () => {
    const a = await register();
    const res = await fetch(`${base}/app/orders?id=1`, { headers: { Authorization: `Bearer ${a.token}` } });
    const seen = (await res.json()) as { headers: Record<string, string>; query: string };
    const ok = { method: "GET", target: "/app/orders?id=1", audience: origin.url, key: ASSERTION_KEY };
    const claims = verifyAssertion(seen.headers, ok);
    expect(claims).not.toBeNull();
    expect(claims!.expiresAt * 1000 - Date.now()).toBeLessThanOrEqual(10_000);
    expect(verifyAssertion(seen.headers, { ...ok, target: "/app/orders?id=2&delete=1" })).toBeNull();
    expect(verifyAssertion({ ...seen.headers, "x-session-assertion": `${seen.headers["x-session-assertion"]}.junk` }, ok)).toBeNull();
  });
});

describe("attack: the spent WebSocket ticket forwarded to the origin in ?token=", () => {
  it("the relayed URL keeps the other parameters and drops token", async () => {
    const a = await register();
    const ticket = await wsTicket(a.token);
    const hello = await relayedHello(`${base.replace("http", "ws")}/live?room=7&token=${ticket}&x=a%20b`, [], {});
    expect(hello.path).toBe("/live?room=7&x=a%20b");
    expect(JSON.stringify(hello)).not.toContain(ticket);
    expect(verifyAssertion(hello.headers, { method: "GET", target: hello.path, audience: origin.url, key: ASSERTION_KEY })).not.toBeNull();
  });
});

describe("attack: an authenticated proxied response stored by a shared cache", () => {
  it("no-store unless the origin chose a policy itself", async () => {
    const a = await register();
    const plain = await fetch(`${base}/app/personal`, { headers: { Authorization: `Bearer ${a.token}` } });
    expect(plain.headers.get("cache-control")).toBe("no-store");
    const chosen = await fetch(`${base}/cacheable`, { headers: { Authorization: `Bearer ${a.token}` } });
    expect(chosen.headers.get("cache-control")).toBe("public, max-age=60");
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
