/**
 * The browser client (src/client) against the real worker, inside workerd: `SELF.fetch` is the
 * client's `fetch`, `http://x` its base URL.
 */
import { SELF } from "cloudflare:test";
import { hc } from "hono/client";
import { describe, expect, it } from "vitest";
import { createSessionClient, SessionClientError, StoreUnavailableError, UnauthorizedError, type FetchFunction, type SessionEvents, type TokenStorage } from "../../src/client/index.js";
import type { AppType } from "../../src/worker/index.js";
import { testApp } from "../helpers/app.js";
import { PASSWORD, uniqueEmail } from "../helpers/http.js";

const BASE = "http://x";
const selfFetch: FetchFunction = (input, init) => SELF.fetch(input, init);

/** A client whose every request is recorded; `events` collects what it emitted, in order. */
function client(o: { storage?: TokenStorage; now?: () => number; fetch?: FetchFunction } = {}) {
  const sent: Request[] = [];
  const inner = o.fetch ?? selfFetch;
  const c = createSessionClient({
    baseUrl: BASE,
    storage: o.storage,
    now: o.now,
    fetch: async (input, init) => {
      const req = new Request(input, init);
      sent.push(req.clone());
      return inner(req);
    },
  });
  const events: { name: keyof SessionEvents; detail: unknown }[] = [];
  for (const name of ["login", "logout", "unauthorized"] as const) c.on(name, (detail) => events.push({ name, detail }));
  return { c, sent, events };
}

class MemoryStorage implements TokenStorage {
  readonly items = new Map<string, string>();
  getItem(key: string) {
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string) {
    this.items.set(key, value);
  }
  removeItem(key: string) {
    this.items.delete(key);
  }
}

async function status(path: string, token: string): Promise<number> {
  return (await SELF.fetch(`${BASE}${path}`, { headers: { Authorization: `Bearer ${token}` } })).status;
}

describe("session client: login, fetch, logout", () => {
  it("registers, logs in, calls the API with the Bearer token, and logs out", async () => {
    const email = uniqueEmail("client");
    const { c, sent, events } = client();
    expect(c.token).toBeNull();

    const reg = await c.register(email, PASSWORD);
    expect(reg.user.email).toBe(email);
    await c.logout();

    const grant = await c.login(email, PASSWORD);
    expect(grant.tokenType).toBe("Bearer");
    expect(c.token).toBe(grant.token);
    expect(c.user).toEqual(grant.user);
    expect(c.expiresAt).toBe(grant.expiresAt);
    // The credentials went in the body, never in the URL, and the login carried no old token.
    const loginReq = sent.at(-1)!;
    expect(loginReq.url).toBe(`${BASE}/auth/login`);
    expect(loginReq.headers.get("Authorization")).toBeNull();

    const me = await c.fetch("/api/me");
    expect(me.status).toBe(200);
    expect(await me.json()).toEqual({ user: grant.user });
    expect(sent.at(-1)!.headers.get("Authorization")).toBe(`Bearer ${grant.token}`);

    const token = grant.token;
    expect(await c.logout()).toEqual({ ended: true });
    expect(c.token).toBeNull();
    expect(c.user).toBeNull();
    expect(await status("/auth/session", token)).toBe(401);
    expect(events.map((e) => e.name)).toEqual(["login", "logout", "login", "logout"]);
    expect(events[3]!.detail).toEqual({ ended: true });
  });

  it("a failed login throws a plain error (invalid_credentials) and emits nothing", async () => {
    const email = uniqueEmail("client");
    const { c, events } = client();
    await c.register(email, PASSWORD);
    await c.logout();
    events.length = 0;
    const error = await c.login(email, "not the password at all").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SessionClientError);
    expect(error).not.toBeInstanceOf(UnauthorizedError);
    expect(error).toMatchObject({ status: 401, code: "invalid_credentials" });
    expect(c.token).toBeNull();
    expect(events).toEqual([]);
  });

  it("sends the token to the base origin only", async () => {
    const seen: Request[] = [];
    const { c } = client({
      fetch: async (input, init) => {
        const req = new Request(input, init);
        seen.push(req);
        return new URL(req.url).origin === BASE ? SELF.fetch(req) : new Response("elsewhere");
      },
    });
    await c.register(uniqueEmail("client"), PASSWORD);
    await c.fetch("https://elsewhere.example/api/me");
    expect(seen.at(-1)!.url).toBe("https://elsewhere.example/api/me");
    expect(seen.at(-1)!.headers.get("Authorization")).toBeNull();
    // A request that brings its own Authorization keeps it.
    await c.fetch("/api/me", { headers: { Authorization: "Bearer mine" } });
    expect(seen.at(-1)!.headers.get("Authorization")).toBe("Bearer mine");
  });

  it("works as hono/client's fetch: hc<AppType>(baseUrl, { fetch: client.fetch })", async () => {
    const { c } = client();
    const grant = await c.register(uniqueEmail("client"), PASSWORD);
    const api = hc<AppType>(BASE, { fetch: c.fetch });
    const res = await api.api.me.$get();
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.user.email).toBe(grant.user.email);
  });

  it("hc<AppType> types request bodies, and the worker's validator answers as before", async () => {
    const { c } = client();
    const api = hc<AppType>(BASE, { fetch: c.fetch });
    // @ts-expect-error email must be a string (the valibot schema's input type)
    const wrong = await api.auth.login.$post({ json: { email: 123, password: "x".repeat(12) } });
    expect(wrong.status).toBe(400);
    expect(await wrong.json()).toEqual({ error: "invalid_request", field: "email", message: "email must be a string" });
    const email = uniqueEmail("client");
    const created = await api.auth.register.$post({ json: { email, password: PASSWORD } });
    expect(created.status).toBe(201);
    const login = await api.auth.login.$post({ json: { email, password: PASSWORD } });
    expect(login.status).toBe(200);
  });

  it("adopt(): takes a grant issued by another sign-in path, emits login; refuses anything else", async () => {
    const issuer = client();
    const grant = await issuer.c.register(uniqueEmail("client"), PASSWORD);
    const { c, events } = client();
    expect(() => c.adopt({ token: "", tokenType: "Bearer", expiresAt: "", idleExpiresAt: "", user: grant.user })).toThrow(TypeError);
    expect(() => c.adopt({ nonsense: true } as never)).toThrow(TypeError);
    expect(c.token).toBeNull();
    c.adopt(grant);
    expect(c.token).toBe(grant.token);
    expect(events).toEqual([{ name: "login", detail: { user: grant.user, expiresAt: grant.expiresAt, idleExpiresAt: grant.idleExpiresAt } }]);
    expect((await c.fetch("/api/me")).status).toBe(200);
  });

  it("adopts a re-issued token (password change) and keeps working", async () => {
    const { c, events } = client();
    const first = await c.register(uniqueEmail("client"), PASSWORD);
    const res = await c.fetch("/auth/password", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ currentPassword: PASSWORD, newPassword: "an entirely new passphrase" }),
    });
    expect(res.status).toBe(200);
    expect(c.token).not.toBeNull();
    expect(c.token).not.toBe(first.token);
    expect(events.at(-1)!.name).toBe("login");
    expect((await c.fetch("/auth/session")).status).toBe(200);
    expect(await status("/auth/session", first.token)).toBe(401);
  });
});

describe("session client: 401", () => {
  it("forgets the token and emits 'unauthorized' when the session was revoked elsewhere", async () => {
    const email = uniqueEmail("client");
    const a = client();
    const b = client();
    await a.c.register(email, PASSWORD);
    const token = a.c.token!;
    await b.c.login(email, PASSWORD);
    // B revokes every other session of the user: A's token is now dead.
    const revoked = await b.c.fetch("/auth/sessions/revoke-others", { method: "POST" });
    expect(await revoked.json()).toEqual({ revoked: 1 });

    const res = await a.c.fetch("/auth/session");
    expect(res.status).toBe(401);
    // The response is still readable by the caller.
    expect(await res.json()).toMatchObject({ error: "unauthorized" });
    expect(a.c.token).toBeNull();
    expect(a.c.user).toBeNull();
    const ev = a.events.at(-1)!;
    expect(ev.name).toBe("unauthorized");
    expect(ev.detail).toMatchObject({ status: 401, url: `${BASE}/auth/session` });
    expect(typeof (ev.detail as SessionEvents["unauthorized"]).reason).toBe("string");
    expect(await status("/auth/session", token)).toBe(401);
    // Signed out now: the next request carries no token and emits nothing more.
    const before = a.events.length;
    expect((await a.c.fetch("/api/me")).status).toBe(401);
    expect(a.sent.at(-1)!.headers.get("Authorization")).toBeNull();
    expect(a.events.length).toBe(before);
    // B is untouched.
    expect((await b.c.fetch("/api/me")).status).toBe(200);
  });

  it("logout of an already-ended session still forgets the token (ended: true)", async () => {
    const { c } = client();
    await c.register(uniqueEmail("client"), PASSWORD);
    await SELF.fetch(`${BASE}/auth/logout`, { method: "POST", headers: { Authorization: `Bearer ${c.token}` } });
    expect(await c.logout()).toEqual({ ended: true });
    expect(c.token).toBeNull();
  });
});

describe("session client: storage", () => {
  it("keeps the token in memory only by default", async () => {
    const first = client();
    await first.c.register(uniqueEmail("client"), PASSWORD);
    expect(first.c.token).not.toBeNull();
    expect(client().c.token).toBeNull();
  });

  it("with storage opted in, a new client (a reload) picks the session up; logout clears it", async () => {
    const storage = new MemoryStorage();
    const first = client({ storage });
    const grant = await first.c.register(uniqueEmail("client"), PASSWORD);
    expect([...storage.items.keys()]).toEqual(["edge-session"]);
    expect(JSON.parse(storage.items.get("edge-session")!)).toMatchObject({ token: grant.token, user: grant.user });

    const reloaded = client({ storage });
    expect(reloaded.c.token).toBe(grant.token);
    expect(reloaded.c.user).toEqual(grant.user);
    expect((await reloaded.c.fetch("/api/me")).status).toBe(200);

    await reloaded.c.logout();
    expect(storage.items.size).toBe(0);
    expect(client({ storage }).c.token).toBeNull();
  });

  it("drops a stored session past its absolute expiry, and ignores garbage", async () => {
    const storage = new MemoryStorage();
    const first = client({ storage });
    const grant = await first.c.register(uniqueEmail("client"), PASSWORD);
    const later = Date.parse(grant.expiresAt) + 1000;
    expect(client({ storage, now: () => later }).c.token).toBeNull();
    expect(storage.items.size).toBe(0);
    storage.setItem("edge-session", "{not json");
    expect(client({ storage }).c.token).toBeNull();
  });

  it("a 401 removes the stored token too", async () => {
    const storage = new MemoryStorage();
    const { c } = client({ storage });
    await c.register(uniqueEmail("client"), PASSWORD);
    await SELF.fetch(`${BASE}/auth/logout`, { method: "POST", headers: { Authorization: `Bearer ${c.token}` } });
    expect((await c.fetch("/auth/session")).status).toBe(401);
    expect(storage.items.size).toBe(0);
  });
});

describe("session client: 503", () => {
  it("keeps the token and throws StoreUnavailableError (retryAfter) when the store is down", async () => {
    // The same worker configuration, but its store address has nobody listening.
    const down = await testApp({ UPSTASH_REDIS_REST_URL: "http://127.0.0.1:9" });
    let target: FetchFunction = selfFetch;
    const { c, events } = client({ fetch: (input, init) => target(input, init) });
    const grant = await c.register(uniqueEmail("client"), PASSWORD);

    target = (input, init) => down.fetch(new Request(input, init));
    const error = await c.fetch("/auth/session").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect(error).toMatchObject({ status: 503, code: "session_store_unavailable", retryAfter: 2 });
    expect(c.token).toBe(grant.token);
    expect(events.map((e) => e.name)).toEqual(["login"]);
    // A socket ticket fails the same way, and the token still stays.
    await expect(c.openSocket()).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(c.token).toBe(grant.token);

    // The store is back: the same token works.
    target = selfFetch;
    expect((await c.fetch("/auth/session")).status).toBe(200);
  });
});

describe("session client: openSocket", () => {
  it("gets a ticket and offers it as the subprotocol pair on a clean ws:// URL", async () => {
    const opened: { url: string; protocols: string[] }[] = [];
    class FakeSocket {
      constructor(url: string, protocols?: string | string[]) {
        opened.push({ url, protocols: typeof protocols === "string" ? [protocols] : (protocols ?? []) });
      }
    }
    const c = createSessionClient({ baseUrl: BASE, fetch: selfFetch, WebSocket: FakeSocket as unknown as typeof WebSocket });
    const grant = await c.register(uniqueEmail("client"), PASSWORD);
    await c.openSocket();
    expect(opened).toHaveLength(1);
    const { url, protocols } = opened[0]!;
    expect(url).toBe("ws://x/ws");
    expect(protocols).toHaveLength(2);
    expect(protocols[0]).toBe("session");
    expect(protocols[1]).toMatch(/^wt1\./);
    expect(url).not.toContain(grant.token);

    // The worker accepts exactly that offer: 101, `session` echoed, hello first.
    const res = await SELF.fetch(url.replace(/^ws:/, "http:"), { headers: { Upgrade: "websocket", Origin: BASE, "Sec-WebSocket-Protocol": protocols.join(", ") } });
    expect(res.status).toBe(101);
    expect(res.headers.get("Sec-WebSocket-Protocol")).toBe("session");
    const ws = res.webSocket!;
    ws.accept();
    const hello = await new Promise<unknown>((resolve) => ws.addEventListener("message", (e) => resolve(JSON.parse(e.data as string))));
    expect(hello).toMatchObject({ type: "hello", user: grant.user, room: "lobby" });
    ws.close(1000, "done");

    // https → wss.
    const secure = createSessionClient({ baseUrl: "https://edge.test", fetch: selfFetch, WebSocket: FakeSocket as unknown as typeof WebSocket });
    await secure.register(uniqueEmail("client"), PASSWORD);
    await secure.openSocket("/ws");
    expect(opened[1]!.url).toBe("wss://edge.test/ws");
  });

  it("socketAuthorization: the Bearer header goes to the constructor's headers option (non-browser clients)", async () => {
    const opened: { protocols: string[]; headers?: Record<string, string> }[] = [];
    class HeaderSocket {
      constructor(_url: string, protocols?: string | string[], options?: { headers?: Record<string, string> }) {
        opened.push({ protocols: typeof protocols === "string" ? [protocols] : (protocols ?? []), headers: options?.headers });
      }
    }
    const plain = createSessionClient({ baseUrl: BASE, fetch: selfFetch, WebSocket: HeaderSocket as unknown as typeof WebSocket });
    await plain.register(uniqueEmail("client"), PASSWORD);
    await plain.openSocket();
    expect(opened[0]!.headers).toBeUndefined();
    const node = createSessionClient({ baseUrl: BASE, fetch: selfFetch, WebSocket: HeaderSocket as unknown as typeof WebSocket, socketAuthorization: true });
    const grant = await node.register(uniqueEmail("client"), PASSWORD);
    await node.openSocket();
    expect(opened[1]!.headers).toEqual({ Authorization: `Bearer ${grant.token}` });
    expect(opened[1]!.protocols[0]).toBe("session");
  });

  it("refuses when signed out, without a request", async () => {
    const { c, sent } = client();
    await expect(c.openSocket()).rejects.toBeInstanceOf(UnauthorizedError);
    expect(sent).toHaveLength(0);
  });
});
