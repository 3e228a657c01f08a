/**
 * Logs (ASVS 16.2.5): one JSON line per request, and no token, ticket or password anywhere in
 * what the worker writes — the request-log sink and console.log / warn / error alike — through
 * registration, login, API calls, a ticketed WebSocket handshake, tokens wrongly put in URLs,
 * failing logins, a store outage, a password change and a logout.
 */
import { createExecutionContext, env as bindings, waitOnExecutionContext } from "cloudflare:test";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi, type MockInstance } from "vitest";
import { createApp } from "../../src/worker/app.js";
import { testApp } from "../helpers/app.js";
import { BASE, call, PASSWORD, uniqueEmail, type Fetch } from "../helpers/http.js";
import { privateStore, setControl, type StoreInstance } from "../helpers/store.js";
import { open, ORIGIN, within } from "../helpers/ws.js";

let store: StoreInstance & { close(): Promise<void> };
let app: Fetch;
let lines: string[] = [];
let requests = 0;
const spies: MockInstance[] = [];
const consoleText: string[] = [];

beforeAll(async () => {
  store = await privateStore();
  const built = await testApp({ UPSTASH_REDIS_REST_URL: store.url, UPSTASH_REDIS_REST_TOKEN: store.token, WS_QUERY_SESSION_TOKEN: "deny" });
  // The same deps, with the request log going to our sink (the suite turns the default one off).
  const hono = createApp(built.deps, { log: (line) => lines.push(line) });
  app = async (req) => {
    requests++;
    const ctx = createExecutionContext();
    const res = await hono.fetch(req, bindings, ctx);
    await waitOnExecutionContext(ctx);
    return res;
  };
});
afterAll(() => store?.close());

beforeEach(() => {
  lines = [];
  requests = 0;
  consoleText.length = 0;
  for (const method of ["log", "info", "warn", "error", "debug"] as const) {
    spies.push(vi.spyOn(console, method).mockImplementation((...args: unknown[]) => void consoleText.push(args.map((a) => (typeof a === "string" ? a : JSON.stringify(a))).join(" "))));
  }
});
afterEach(() => {
  for (const s of spies.splice(0)) s.mockRestore();
});

/** Every piece of a credential that must never be written: whole, and each random part. */
function secretsOf(token: string): string[] {
  return [token, ...token.split(".").filter((p) => p.length >= 20)];
}

function assertClean(secrets: string[]) {
  const everything = [...lines, ...consoleText].join("\n");
  expect(everything.length).toBeGreaterThan(0);
  for (const s of secrets) {
    expect(everything.includes(s), `a secret (${s.slice(0, 6)}…) reached the log`).toBe(false);
    expect(everything.includes(encodeURIComponent(s)), `a URL-encoded secret (${s.slice(0, 6)}…) reached the log`).toBe(false);
  }
}

function assertOneJsonLinePerRequest() {
  expect(lines).toHaveLength(requests);
  for (const line of lines) {
    expect(line).not.toContain("\n");
    const parsed = JSON.parse(line) as Record<string, unknown>;
    expect(parsed).toMatchObject({ level: "info", msg: "request" });
    expect(typeof parsed.method).toBe("string");
    expect(typeof parsed.path).toBe("string");
    expect(typeof parsed.status).toBe("number");
    expect(typeof parsed.ms).toBe("number");
  }
}

describe("request log", () => {
  it("a whole session's life: one JSON line per request, no token, ticket or password anywhere", async () => {
    const email = uniqueEmail("logs");
    const wrong = "wrong-password-" + crypto.randomUUID();
    const newPassword = "new-password-" + crypto.randomUUID();
    const secrets: string[] = [PASSWORD, wrong, newPassword];

    const reg = await call("/auth/register", { body: { email, password: PASSWORD } }, app);
    expect(reg.status).toBe(201);
    secrets.push(...secretsOf(reg.json.token));
    const li = await call("/auth/login", { body: { email, password: PASSWORD }, headers: { "User-Agent": "logs-test" } }, app);
    expect(li.status).toBe(200);
    const token = li.json.token as string;
    secrets.push(...secretsOf(token));

    expect((await call("/api/me", { token }, app)).status).toBe(200);
    expect((await call("/api/me", { token }, app)).status).toBe(200);
    expect((await call("/auth/sessions", { token }, app)).status).toBe(200);
    // A failing login, and a password sent in the query by a confused client.
    expect((await call("/auth/login", { body: { email, password: wrong } }, app)).status).toBe(401);
    expect((await call(`/auth/login?password=${encodeURIComponent(wrong)}&email=${encodeURIComponent(email)}`, { body: { email, password: wrong } }, app)).status).toBe(401);
    // The session token put in URLs (refused, and still not logged).
    expect((await call(`/api/me?token=${token}&access_token=${token}`, {}, app)).status).toBe(401);
    const wsWithToken = await app(new Request(`${BASE}/ws?token=${token}`, { headers: { Upgrade: "websocket", Origin: ORIGIN } }));
    expect(wsWithToken.status).toBe(401);
    await wsWithToken.text();

    // A ticketed WebSocket handshake: the ticket travels in the query.
    const t = await call("/auth/ws-ticket", { method: "POST", token }, app);
    expect(t.status).toBe(200);
    const ticket = t.json.ticket as string;
    secrets.push(...secretsOf(ticket));
    const res = await app(new Request(`${BASE}/ws?token=${ticket}`, { headers: { Upgrade: "websocket", Origin: ORIGIN } }));
    expect(res.status).toBe(101);
    const socket = open(res);
    expect((await socket.next()).type).toBe("hello");
    socket.ws.send(JSON.stringify({ echo: token })); // even a token sent over the socket is not logged
    expect((await socket.next()).type).toBe("message"); // the room relays it to everyone
    // The ticket reused: refused, and logged masked.
    const reused = await app(new Request(`${BASE}/ws?token=${ticket}`, { headers: { Upgrade: "websocket", Origin: ORIGIN } }));
    expect(reused.status).toBe(401);
    await reused.text();

    // Password change (a new token), then logout.
    const pw = await call("/auth/password", { body: { currentPassword: PASSWORD, newPassword }, token }, app);
    expect(pw.status).toBe(200);
    const latest = pw.json.token as string;
    secrets.push(...secretsOf(latest));
    expect((await within(socket.closed, 3000, "socket closed by the password change")).code).toBe(4401);
    expect((await call("/auth/logout", { method: "POST", token: latest }, app)).status).toBe(204);
    expect((await call("/api/me", { token: latest }, app)).status).toBe(401);

    assertOneJsonLinePerRequest();
    assertClean(secrets);

    // The lines say what happened, without the values.
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const ws = parsed.find((l) => l.path === "/ws" && l.status === 101);
    expect(ws).toMatchObject({ method: "GET", query: "token=***" });
    expect(parsed.find((l) => l.path === "/auth/login" && l.query)).toMatchObject({ status: 401, query: "password=***&email=***" });
    expect(parsed.filter((l) => l.path === "/api/me" && l.status === 200).map((l) => l.session)).toEqual(["miss", "hit"]);
    expect(parsed.filter((l) => l.path === "/api/me" && l.status === 200).map((l) => l.credential)).toEqual(["bearer", "bearer"]);
    expect(parsed.find((l) => l.path === "/api/me" && l.status === 200)).toHaveProperty("user", li.json.user.id);
    expect(parsed.map((l) => l.status)).toContain(204);
    // The email is not a secret, but it is not in the request log either (user ids identify).
    expect(lines.join("\n")).not.toContain(email);
  });

  it("a store outage logs the cause without tokens, passwords or the command it was running", async () => {
    const email = uniqueEmail("logs-out");
    const reg = await call("/auth/register", { body: { email, password: PASSWORD } }, app);
    const token = reg.json.token as string;
    await setControl(store, { fault: "status500" });
    try {
      expect((await call("/api/me", { token }, app)).status).toBe(503);
      expect((await call("/auth/login", { body: { email, password: PASSWORD } }, app)).status).toBe(503);
      expect((await call("/auth/register", { body: { email: uniqueEmail(), password: PASSWORD } }, app)).status).toBe(503);
    } finally {
      await setControl(store, { fault: null });
    }
    assertOneJsonLinePerRequest();
    assertClean([PASSWORD, ...secretsOf(token)]);
    const warnings = consoleText.filter((l) => l.includes("session store unavailable"));
    expect(warnings.length).toBe(3);
    for (const w of warnings) {
      expect(w).not.toContain("command was");
      expect(w).not.toContain(store.token);
    }
  });

  it("masks every query value, whatever its name", async () => {
    const secret = crypto.randomUUID();
    for (const q of [`?t=${secret}`, `?${secret}`, `?a=1&b=${secret}&c`, `?x=${secret}#frag`, `?${secret}=${secret}`]) {
      await call(`/api/hello${q}`, {}, app);
    }
    assertOneJsonLinePerRequest();
    // A parameter's *name* is kept (32 characters at most) for debugging: a secret used as a name
    // survives only as far as those 32 characters; its value part never does.
    const values = lines.map((l) => (JSON.parse(l) as { query?: string }).query ?? "");
    for (const v of values) expect(v).toMatch(/^([^=&]{0,32}=\*\*\*)(&[^=&]{0,32}=\*\*\*)*$/);
    expect(values.join("&")).not.toContain(secret);
  });
});
