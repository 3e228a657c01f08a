/**
 * Non-browser WebSocket clients through the browser client under Node: `ws` as the constructor
 * and `socketAuthorization: true`, so the handshake carries no Origin and an
 * `Authorization: Bearer` header (SECURITY.md, "WebSocket clients that are not browsers").
 * Against the bundled worker in Miniflare on a real port and the local store.
 */
import { randomBytes } from "node:crypto";
import http from "node:http";
import { Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { startStore, type StoreServer } from "@edge-session/local-store";
import { openNodeSocket } from "../../examples/node-socket.ts";
import { createSessionClient, type WebSocketConstructor } from "../../src/client/index.ts";
import { bundleWorker, COMPATIBILITY_DATE } from "../helpers/node/bundle.ts";

const PASSWORD = "correct horse battery staple";
/** `ws` takes `(url, protocols, { headers })`; its class is not the DOM's, hence the cast. */
const NodeWebSocket = WebSocket as unknown as WebSocketConstructor;

let store: StoreServer;
let mf: Miniflare;
let base = "";

beforeAll(async () => {
  store = await startStore({ port: 0, redisUrl: process.env.REDIS_URL || undefined });
  mf = new Miniflare({
    host: "127.0.0.1",
    port: 0,
    cf: false,
    modules: true,
    scriptPath: bundleWorker(),
    compatibilityDate: COMPATIBILITY_DATE,
    // /ws hands sockets to the room objects, as wrangler.toml binds them.
    durableObjects: { ROOMS: { className: "RealtimeRoom", useSQLite: true }, USER_SOCKETS: { className: "UserSockets", useSQLite: true } },
    bindings: {
      ENVIRONMENT: "test",
      SIGNUP: "open",
      SESSION_KEYS: `k1:${randomBytes(32).toString("base64url")}`,
      PASSWORD_PEPPER: randomBytes(32).toString("base64url"),
      UPSTASH_REDIS_REST_URL: store.url,
      UPSTASH_REDIS_REST_TOKEN: store.token,
      STORE_PREFIX: `wsnode-${randomBytes(4).toString("hex")}:`,
      CORS_ORIGINS: "https://app.example",
      REQUEST_LOG: "off",
    },
  });
  base = (await mf.ready).toString().replace(/\/$/, "");
}, 120_000);

afterAll(async () => {
  await mf?.dispose();
  await store?.close();
});

function nextMessage(ws: WebSocket): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error("no message in 5 s")), 5000);
    ws.once("message", (data) => {
      clearTimeout(t);
      resolve(JSON.parse(String(data)));
    });
  });
}

function closed(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => ws.once("close", (code, reason) => resolve({ code, reason: String(reason) })));
}

describe("the browser client under Node with ws", () => {
  it("examples/node-socket.ts: opens a socket (no Origin, Bearer + ticket), talks, and is closed 4401 when the session ends", async () => {
    const email = `node-${randomBytes(4).toString("hex")}@example.test`;
    await createSessionClient({ baseUrl: base }).register(email, PASSWORD);
    const { session: client, socket: ws } = await openNodeSocket(base, email, PASSWORD);
    const user = client.user;
    if (!user) throw new Error("the client holds no session after sign-in");
    const grant = { user };
    const hello = nextMessage(ws);
    await new Promise((resolve, reject) => {
      ws.once("open", resolve);
      ws.once("error", reject);
    });
    expect(ws.protocol).toBe("session");
    expect(await hello).toMatchObject({ type: "hello", user: grant.user, room: "lobby" });
    const echo = nextMessage(ws);
    ws.send(JSON.stringify({ from: "node" }));
    expect(await echo).toEqual({ type: "message", from: { id: grant.user.id }, data: { from: "node" } });
    const end = closed(ws);
    expect(await client.logout()).toEqual({ ended: true });
    expect(await end).toEqual({ code: 4401, reason: "session_ended" });
  });

  it("without socketAuthorization the same client is refused (no Origin, no Bearer: 403)", async () => {
    const client = createSessionClient({ baseUrl: base, WebSocket: NodeWebSocket });
    await client.register(`node-${randomBytes(4).toString("hex")}@example.test`, PASSWORD);
    const ws = (await client.openSocket()) as unknown as WebSocket;
    const status = await new Promise<number>((resolve) => ws.once("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0)));
    expect(status).toBe(403);
  });

  it("an empty Origin header counts as none: refused without a Bearer header, accepted with one", async () => {
    const client = createSessionClient({ baseUrl: base });
    const grant = await client.register(`node-${randomBytes(4).toString("hex")}@example.test`, PASSWORD);
    expect(await rawHandshake({ Origin: "", "Sec-WebSocket-Protocol": `session, ${await ticket(grant.token)}` })).toBe(403);
    expect(await rawHandshake({ Origin: "", Authorization: `Bearer ${grant.token}` })).toBe(101);
  });
});

async function ticket(token: string): Promise<string> {
  const res = await fetch(`${base}/auth/ws-ticket`, { method: "POST", headers: { Authorization: `Bearer ${token}` } });
  return ((await res.json()) as { ticket: string }).ticket;
}

/** A handshake sent with node:http, so that headers go out exactly as given (undici refuses Upgrade). */
function rawHandshake(headers: Record<string, string>): Promise<number> {
  const url = new URL(`${base}/ws`);
  return new Promise<number>((resolve, reject) => {
    const req = http.request({
      host: url.hostname,
      port: url.port,
      path: "/ws",
      headers: { Connection: "Upgrade", Upgrade: "websocket", "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": randomBytes(16).toString("base64"), ...headers },
    });
    req.on("upgrade", (_res, socket) => {
      socket.destroy();
      resolve(101);
    });
    req.on("response", (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", reject);
    req.end();
  });
}
