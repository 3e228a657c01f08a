/**
 * The browser client against a library app of a team's own (no edge-session worker routes):
 * a Hono app built from `edge-session` and `edge-session/hono` only, with its routes where the
 * team put them. The client's `paths`, `logout()` that tells the truth, `adopt()` of what
 * `createSession()` returns, and `openSocket()` that keeps its ticket at home.
 */
import { env } from "cloudflare:test";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { createSessionLayer, type SessionLayer } from "edge-session";
import { createSessionClient, SessionClientError, StoreUnavailableError, type FetchFunction, type SessionEvents } from "edge-session/client";
import { errorHandler, sessionAuth, ticketRoute, type SessionVariables } from "edge-session/hono";
import { privateStore, setControl, type StoreInstance } from "../helpers/store.js";

const BASE = "https://team.example";
const prefix = `${env.STORE_PREFIX}libapp:`;

/** The team's app: its sign-in at /api/sign-in, sign-out at /api/sign-out, tickets at /api/ticket. */
async function teamApp(store?: StoreInstance) {
  const layer = await createSessionLayer({
    url: store?.url ?? env.UPSTASH_REDIS_REST_URL,
    token: store?.token ?? env.UPSTASH_REDIS_REST_TOKEN,
    sessionKeys: env.SESSION_KEYS,
    prefix,
    cacheTtlMs: 0,
  });
  const app = new Hono<{ Variables: SessionVariables }>();
  app.onError(errorHandler);
  app.post("/api/sign-in", async (c) => {
    const { id, email } = await c.req.json<{ id: string; email: string }>();
    const created = await layer.createSession({ id, email });
    if (!created.ok) return c.json({ error: "forbidden" }, 403);
    // What createSession() returned, as it is: the client's adopt() takes it.
    return c.json(created);
  });
  app.post("/api/sign-out", sessionAuth(layer), async (c) => {
    await layer.endSession(c.var.session.id);
    return c.body(null, 204);
  });
  app.post("/api/ticket", sessionAuth(layer, { fresh: true }), ticketRoute(layer));
  app.get("/api/me", sessionAuth(layer), (c) => c.json(c.var.user));
  return { layer, app };
}

function clientFor(app: Hono<any>, paths?: Parameters<typeof createSessionClient>[0]["paths"]) {
  const sent: Request[] = [];
  const fetch: FetchFunction = async (input, init) => {
    const req = new Request(input, init);
    sent.push(req.clone());
    return app.request(req);
  };
  const c = createSessionClient({ baseUrl: BASE, fetch, paths });
  const events: { name: keyof SessionEvents; detail: unknown }[] = [];
  for (const name of ["login", "logout", "unauthorized"] as const) c.on(name, (detail) => events.push({ name, detail }));
  return { c, sent, events };
}

async function signIn(app: Hono<any>, id: string): Promise<any> {
  const res = await app.request(`${BASE}/api/sign-in`, { method: "POST", body: JSON.stringify({ id, email: `${id}@team.example` }), headers: { "Content-Type": "application/json" } });
  expect(res.status).toBe(200);
  return res.json();
}

const live = async (layer: SessionLayer, token: string) => (await layer.validateSession(token)).ok;

describe("client on a library app: paths, adopt, logout", () => {
  it("adopt() takes createSession()'s result as the server sent it (times in ms, session nested)", async () => {
    const { app } = await teamApp();
    const { c, events } = clientFor(app);
    const created = await signIn(app, "adopt1");
    c.adopt(created);
    expect(c.token).toBe(created.token);
    expect(c.user).toEqual({ id: "adopt1", email: "adopt1@team.example", roles: [] });
    expect(c.expiresAt).toBe(new Date(created.session.expiresAt).toISOString());
    expect(events.map((e) => e.name)).toEqual(["login"]);
    expect((await c.fetch("/api/me")).status).toBe(200);
  });

  it("adopt() still refuses what is not a grant", async () => {
    const { app } = await teamApp();
    const { c } = clientFor(app);
    expect(() => c.adopt({ token: "x" } as never)).toThrow(TypeError);
    expect(() => c.adopt({ token: "x", user: { id: "u", email: "e", roles: [] }, session: { expiresAt: "soon" } } as never)).toThrow(TypeError);
  });

  it("with paths configured, logout() ends the session on the server", async () => {
    const { app, layer } = await teamApp();
    const { c, events, sent } = clientFor(app, { logout: "/api/sign-out", ticket: "/api/ticket" });
    c.adopt(await signIn(app, "paths1"));
    const token = c.token!;
    expect(await c.logout()).toEqual({ ended: true });
    expect(sent.at(-1)!.url).toBe(`${BASE}/api/sign-out`);
    expect(c.token).toBeNull();
    expect(await live(layer, token)).toBe(false);
    expect(events.at(-1)).toEqual({ name: "logout", detail: { ended: true } });
  });

  it("logout() to a route that does not exist throws and keeps the session it could not end (no silent success)", async () => {
    const { app, layer } = await teamApp();
    const { c, events } = clientFor(app); // default paths: /auth/logout is not a route of this app
    c.adopt(await signIn(app, "paths2"));
    const token = c.token!;
    const error = await c.logout().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SessionClientError);
    expect((error as SessionClientError).status).toBe(404);
    // Still live on the server, and still held here, so a retry with the right path can end it.
    expect(await live(layer, token)).toBe(true);
    expect(c.token).toBe(token);
    expect(events.map((e) => e.name)).toEqual(["login"]);
    // forget() drops it locally, and says so (ended: false).
    c.forget();
    expect(c.token).toBeNull();
    expect(events.at(-1)).toEqual({ name: "logout", detail: { ended: false } });
  });

  it("logout() during a store outage throws StoreUnavailableError and keeps the token", async () => {
    const store = await privateStore();
    try {
      const { app, layer } = await teamApp(store);
      const { c } = clientFor(app, { logout: "/api/sign-out" });
      c.adopt(await signIn(app, "outage1"));
      await setControl(store, { fault: "refuse" });
      await expect(c.logout()).rejects.toBeInstanceOf(StoreUnavailableError);
      expect(c.token).not.toBeNull();
      await setControl(store, { fault: null });
      expect(await c.logout()).toEqual({ ended: true });
      expect(await live(layer, (await signIn(app, "outage2")).token)).toBe(true);
    } finally {
      await store.close();
    }
  });

  it("a session already ended elsewhere: logout() is done (401 counts as ended)", async () => {
    const { app, layer } = await teamApp();
    const { c } = clientFor(app, { logout: "/api/sign-out" });
    const created = await signIn(app, "gone1");
    c.adopt(created);
    await layer.endSession(created.session.id);
    expect(await c.logout()).toEqual({ ended: true });
    expect(c.token).toBeNull();
  });
});

describe("attack: ticket exfiltration through openSocket(path) on another origin", () => {
  it("an absolute or protocol-relative path to a foreign origin is refused before any ticket is minted", async () => {
    const { app } = await teamApp();
    const { c, sent } = clientFor(app, { ticket: "/api/ticket" });
    c.adopt(await signIn(app, "exfil1"));
    const before = sent.length;
    for (const path of ["https://evil.example/ws", "//evil.example/ws", "wss://evil.example/ws"]) {
      await expect(c.openSocket(path)).rejects.toThrow(/not https:\/\/team\.example/);
    }
    // No request went out: no ticket was minted for the foreign origin.
    expect(sent.length).toBe(before);
  });
});
