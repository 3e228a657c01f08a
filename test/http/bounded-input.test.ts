/**
 * Hostile input is answered with a 4xx and a JSON `error`, never a 500 and never a hang:
 * oversized headers, bodies and URLs, odd methods, bad JSON on every JSON route, wrong content
 * types. Bodies are refused before anything costs: no store command, no PBKDF2.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Deps } from "../../src/worker/deps.js";
import { testApp } from "../helpers/app.js";
import { BASE, PASSWORD, register, type Fetch, type LoggedIn } from "../helpers/http.js";
import { privateStore, resetStats, totalCommands, type StoreInstance } from "../helpers/store.js";

let store: StoreInstance & { close(): Promise<void> };
let app: Fetch;
let deps: Deps;
let user: LoggedIn;
let derivations = 0;

beforeAll(async () => {
  store = await privateStore();
  const built = await testApp({ UPSTASH_REDIS_REST_URL: store.url, UPSTASH_REDIS_REST_TOKEN: store.token });
  app = built.fetch;
  deps = built.deps;
  user = await register(app);
  // Count PBKDF2 derivations from here on.
  const p = deps.passwords as unknown as Record<string, (...a: string[]) => Promise<unknown>>;
  for (const k of ["verify", "verifyDummy", "hash"]) {
    const original = p[k]!.bind(p);
    p[k] = (...a: string[]) => {
      derivations++;
      return original(...a);
    };
  }
});
afterAll(() => store?.close());

const MB = 1024 * 1024;

/** Sends `req` and checks the answer is a bounded 4xx JSON error; returns it. */
async function expectClientError(req: Request, what: string, status?: number) {
  const started = Date.now();
  const res = await app(req);
  const text = await res.text();
  const ms = Date.now() - started;
  expect(res.status, `${what}: ${res.status} ${text.slice(0, 200)}`).toBeGreaterThanOrEqual(400);
  expect(res.status, `${what}: ${text.slice(0, 200)}`).toBeLessThan(500);
  if (status) expect(res.status, what).toBe(status);
  expect(res.headers.get("Content-Type"), what).toMatch(/^application\/json/);
  const json = JSON.parse(text) as { error?: unknown };
  expect(typeof json.error, what).toBe("string");
  expect(ms, `${what} took ${ms} ms`).toBeLessThan(2000);
  return { status: res.status, json: json as Record<string, unknown>, ms };
}

const json = (path: string, body: BodyInit | null, headers: Record<string, string> = {}, method = "POST") =>
  new Request(BASE + path, { method, body, headers: { "Content-Type": "application/json", ...headers } });

describe("oversized input", () => {
  it("a 32 KB Authorization header → 401 (never parsed), on every protected route", async () => {
    const huge = `Bearer ${"A".repeat(32 * 1024)}`;
    for (const [method, path] of [["GET", "/api/me"], ["GET", "/auth/session"], ["POST", "/auth/logout"], ["GET", "/admin/users/x/sessions"], ["POST", "/auth/ws-ticket"]] as const) {
      const r = await expectClientError(new Request(BASE + path, { method, headers: { Authorization: huge } }), `${method} ${path}`, 401);
      expect(r.json.reason).toBe("malformed");
    }
  });

  it("a 1 MB body → 413 payload_too_large before parsing, with no store command and no PBKDF2", async () => {
    const big = JSON.stringify({ email: "a@example.test", password: "x".repeat(MB) });
    await resetStats(store);
    const before = derivations;
    for (const path of ["/auth/login", "/auth/register"]) {
      const r = await expectClientError(json(path, big), path, 413);
      expect(r.json).toEqual({ error: "payload_too_large", limit: 16 * 1024 });
    }
    expect(await totalCommands(store)).toBe(0);
    expect(derivations).toBe(before);
    const r = await expectClientError(json("/auth/password", JSON.stringify({ currentPassword: "x".repeat(MB), newPassword: PASSWORD }), { Authorization: `Bearer ${user.token}` }), "/auth/password", 413);
    expect(r.json.error).toBe("payload_too_large");
    expect(derivations).toBe(before);
  });

  it("a 1 MB body without Content-Length (streamed) → 413", async () => {
    const chunk = new TextEncoder().encode("x".repeat(64 * 1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= MB) return controller.close();
        sent += chunk.length;
        controller.enqueue(chunk);
      },
    });
    const req = new Request(BASE + "/auth/login", { method: "POST", body: stream, headers: { "Content-Type": "application/json" } });
    expect(req.headers.get("Content-Length")).toBeNull();
    await expectClientError(req, "streamed 1 MB", 413);
    // It stopped reading early rather than buffering the whole megabyte.
    expect(sent).toBeLessThan(MB);
  });

  it("a password over 1024 characters inside a small body → 400 naming the field, no PBKDF2", async () => {
    const before = derivations;
    const r = await expectClientError(json("/auth/login", JSON.stringify({ email: user.email, password: "p".repeat(1025) })), "1025-char password", 400);
    expect(r.json).toMatchObject({ error: "invalid_request", field: "password" });
    expect(derivations).toBe(before);
  });

  it("huge URLs: a 64 KB path, a 64 KB query, a 64 KB session id, a 64 KB ws query → 4xx JSON", async () => {
    const big = "a".repeat(64 * 1024);
    await expectClientError(new Request(`${BASE}/${big}`), "64 KB path", 404);
    await expectClientError(new Request(`${BASE}/api/${big}`), "64 KB path under /api", 404);
    await expectClientError(new Request(`${BASE}/api/me?${big}=${big}`), "64 KB query", 401);
    // With a good token the query is simply ignored.
    expect((await app(new Request(`${BASE}/api/me?x=${big}`, { headers: { Authorization: `Bearer ${user.token}` } }))).status).toBe(200);
    await expectClientError(new Request(`${BASE}/auth/sessions/${big}`, { method: "DELETE", headers: { Authorization: `Bearer ${user.token}` } }), "64 KB session id", 404);
    await expectClientError(new Request(`${BASE}/admin/users/${big}/sessions`, { headers: { Authorization: `Bearer ${user.token}` } }), "64 KB user id", 403);
    const ws = await expectClientError(new Request(`${BASE}/ws?token=${big}`, { headers: { Upgrade: "websocket", Origin: "https://app.example" } }), "64 KB ws query", 401);
    expect(ws.json.reason).toBe("malformed");
  });

  it("many and large headers → still a clean answer", async () => {
    const headers = new Headers();
    for (let i = 0; i < 200; i++) headers.set(`X-Junk-${i}`, "j".repeat(256));
    headers.set("User-Agent", "u".repeat(16 * 1024));
    headers.set("CF-Connecting-IP", "i".repeat(4096));
    headers.set("Origin", "https://" + "o".repeat(8192));
    await expectClientError(new Request(`${BASE}/api/me`, { headers }), "junk headers", 401);
    // A login with a 4 KB "IP" is refused as such: it is no address (400, not a 500, no PBKDF2).
    headers.set("Content-Type", "application/json");
    const junkIp = await app(new Request(`${BASE}/auth/login`, { method: "POST", headers, body: JSON.stringify({ email: user.email, password: PASSWORD }) }));
    expect(junkIp.status).toBe(400);
    expect(await junkIp.json()).toEqual({ error: "invalid_request", reason: "invalid_client_address" });
    // With a real address and a 16 KB User-Agent: the session record stays bounded.
    headers.set("CF-Connecting-IP", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff");
    const res = await app(new Request(`${BASE}/auth/login`, { method: "POST", headers, body: JSON.stringify({ email: user.email, password: PASSWORD }) }));
    expect(res.status).toBe(200);
    const token = ((await res.json()) as { token: string }).token;
    const session = await app(new Request(`${BASE}/auth/session`, { headers: { Authorization: `Bearer ${token}` } }));
    const view = ((await session.json()) as { session: { device: string; ip: string } }).session;
    expect(view.device.length).toBeLessThanOrEqual(40);
    expect(view.ip.length).toBeLessThanOrEqual(45);
  });
});

describe("odd methods", () => {
  const routes = ["/auth/login", "/auth/register", "/auth/logout", "/auth/session", "/auth/sessions", "/auth/password", "/api/me", "/api/hello", "/admin/users/x/sessions", "/ws", "/health", "/nope"];
  it("PUT, PATCH, WebDAV and other methods → 4xx JSON, never 500", async () => {
    // workerd itself refuses methods it does not know (`new Request` throws "Invalid HTTP method
    // string" for e.g. FOO): those never reach a worker. Every method it does accept is sent.
    const methods = ["PUT", "PATCH", "PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "PURGE", "SEARCH", "REPORT", "ACL", "MERGE", "NOTIFY", "SUBSCRIBE", "FOO", "TRACE", "CONNECT", "get", "delete"];
    let sent = 0;
    for (const method of methods) {
      for (const path of routes) {
        let req: Request;
        try {
          req = new Request(BASE + path, { method, headers: { Authorization: `Bearer ${user.token}` } });
        } catch (e) {
          expect(String(e)).toMatch(/method/i);
          continue;
        }
        sent++;
        const res = await app(req);
        const text = await res.text();
        // Lower-case standard methods are normalised (fetch spec): "get" is a GET and may answer 200.
        if ((method === "get" || method === "delete") && res.status < 400) continue;
        expect(res.status, `${method} ${path}: ${text.slice(0, 120)}`).toBeGreaterThanOrEqual(400);
        expect(res.status, `${method} ${path}`).toBeLessThan(500);
        expect(typeof (JSON.parse(text) as { error?: unknown }).error, `${method} ${path}`).toBe("string");
      }
    }
    expect(sent).toBeGreaterThanOrEqual(15 * routes.length);
  });

  it("GET on POST-only routes and POST on GET-only routes → 404 JSON; HEAD and OPTIONS never 500", async () => {
    for (const path of ["/auth/login", "/auth/register", "/auth/logout", "/auth/password", "/auth/ws-ticket"]) await expectClientError(new Request(BASE + path), `GET ${path}`, 404);
    for (const path of ["/api/me", "/auth/session", "/health"]) await expectClientError(new Request(BASE + path, { method: "POST", body: "{}" }), `POST ${path}`, 404);
    for (const path of routes) {
      for (const method of ["HEAD", "OPTIONS"]) {
        const res = await app(new Request(BASE + path, { method }));
        expect(res.status, `${method} ${path}`).toBeLessThan(500);
      }
    }
  });
});

describe("bad JSON on every JSON route", () => {
  const badBodies: [string, string][] = [
    ["empty", ""],
    ["truncated", '{"email":"a@example.test","password":"'],
    ["not JSON", "email=a@example.test&password=secret"],
    ["null", "null"],
    ["array", "[]"],
    ["string", '"hello"'],
    ["number", "1e999"],
    ["wrong types", '{"email":1,"password":true}'],
    ["missing field", '{"email":"a@example.test"}'],
    ["extra field", `{"email":"a@example.test","password":"${PASSWORD}","role":"admin"}`],
    ["prototype pollution", `{"__proto__":{"admin":true},"email":"a@example.test","password":"${PASSWORD}"}`],
    ["constructor", `{"constructor":{"prototype":{"x":1}},"email":"a@example.test","password":"${PASSWORD}"}`],
    ["deep nesting", "[".repeat(8000) + "]".repeat(8000)],
    ["deep object", '{"a":'.repeat(2000) + "1" + "}".repeat(2000)],
    ["NUL", '{"email":"a\u0000@example.test","password":"x"}'],
    ["lone surrogate", '{"email":"\\ud800@example.test","password":"xxxxxxxxxx"}'],
    ["duplicate keys", `{"email":"a@example.test","email":"b@example.test","password":1}`],
    ["long email", `{"email":"${"e".repeat(10_000)}@example.test","password":"${PASSWORD}"}`],
    ["not an email", `{"email":"not-an-email","password":"${PASSWORD}"}`],
    ["short password", '{"email":"a@example.test","password":"short"}'],
  ];

  it("/auth/login and /auth/register: 400 invalid_json / invalid_request, no store command, no PBKDF2", async () => {
    await resetStats(store);
    const before = derivations;
    for (const path of ["/auth/login", "/auth/register"]) {
      for (const [name, body] of badBodies) {
        const r = await expectClientError(json(path, body), `${path} ${name}`, 400);
        expect(["invalid_json", "invalid_request"], `${path} ${name}`).toContain(r.json.error);
        expect(JSON.stringify(r.json)).not.toContain(PASSWORD);
      }
    }
    expect(await totalCommands(store)).toBe(0);
    expect(derivations).toBe(before);
  });

  it("/auth/password: 400 for every bad body, the password unchanged", async () => {
    const before = derivations;
    const pwBodies: [string, string][] = [
      ...badBodies,
      ["missing newPassword", `{"currentPassword":"${PASSWORD}"}`],
      ["extra field", `{"currentPassword":"${PASSWORD}","newPassword":"another password","userId":"someone"}`],
      ["short newPassword", `{"currentPassword":"${PASSWORD}","newPassword":"short"}`],
    ];
    for (const [name, body] of pwBodies) {
      const r = await expectClientError(json("/auth/password", body, { Authorization: `Bearer ${user.token}` }), `/auth/password ${name}`, 400);
      expect(["invalid_json", "invalid_request"]).toContain(r.json.error);
    }
    expect(derivations).toBe(before);
    // The token still works: nothing above ended the session or changed the password.
    expect((await app(new Request(BASE + "/api/me", { headers: { Authorization: `Bearer ${user.token}` } }))).status).toBe(200);
  });

  it("invalid UTF-8 bytes in the body → 400", async () => {
    const bytes = new Uint8Array([0x7b, 0x22, 0x65, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0xc0, 0x80, 0x22, 0x7d]);
    for (const path of ["/auth/login", "/auth/register"]) await expectClientError(json(path, bytes), `${path} invalid UTF-8`, 400);
  });
});

describe("wrong content types", () => {
  const body = JSON.stringify({ email: "a@example.test", password: PASSWORD });
  it("anything but application/json → 400 naming the Content-Type, no store command", async () => {
    await resetStats(store);
    for (const type of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "text/html", "application/jsonx", "json", "", "application/xml"]) {
      for (const path of ["/auth/login", "/auth/register"]) {
        const headers = type ? { "Content-Type": type } : undefined;
        const req = new Request(BASE + path, { method: "POST", body: type ? body : new Blob([body]), headers });
        if (!type) expect(req.headers.get("Content-Type")).toBeNull();
        const r = await expectClientError(req, `${path} with ${JSON.stringify(type)}`, 400);
        expect(r.json).toMatchObject({ error: "invalid_request", message: "Content-Type must be application/json" });
      }
    }
    expect(await totalCommands(store)).toBe(0);
  });

  it("application/json with a charset or in other case is accepted", async () => {
    for (const type of ["application/json; charset=utf-8", "Application/JSON"]) {
      const res = await app(new Request(BASE + "/auth/login", { method: "POST", body: JSON.stringify({ email: user.email, password: PASSWORD }), headers: { "Content-Type": type } }));
      expect(res.status, type).toBe(200);
    }
  });
});
