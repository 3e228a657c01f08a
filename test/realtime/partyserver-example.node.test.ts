/**
 * examples/partyserver/worker.ts, for real: the example (which imports only the package's entry
 * points) bundled with esbuild, PartyServer 0.5.10 (hibernating), the package's UserSockets, run
 * in workerd through Miniflare against the local store, and driven from Node with real
 * WebSockets. Verification in onBeforeConnect, the identity in onConnect, the `session`
 * subprotocol answered, a sign-out closing the connection.
 */
import { randomBytes } from "node:crypto";
import { Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { startStore, type StoreServer } from "@edge-session/local-store";
import { bundleWorkerEntry, COMPATIBILITY_DATE } from "../../bench/realtime/cluster.ts";
import { api, APP_ORIGIN, within } from "../../bench/realtime/client.ts";

let store: StoreServer;
let mf: Miniflare;
let base: string;

beforeAll(async () => {
  store = await startStore({ port: 0, redisUrl: process.env.REDIS_URL || undefined });
  const scriptPath = await bundleWorkerEntry("examples/partyserver/worker.ts", "partyserver-example");
  mf = new Miniflare({
    host: "127.0.0.1",
    port: 0,
    cf: false,
    modules: true,
    scriptPath,
    compatibilityDate: COMPATIBILITY_DATE,
    durableObjects: { Chat: { className: "Chat", useSQLite: true }, USER_SOCKETS: { className: "UserSockets", useSQLite: true } },
    bindings: {
      SESSION_KEYS: `k1:${randomBytes(32).toString("base64url")}`,
      UPSTASH_REDIS_REST_URL: store.url,
      UPSTASH_REDIS_REST_TOKEN: store.token,
      STORE_PREFIX: `testps:${randomBytes(4).toString("hex")}:`,
      ALLOWED_ORIGINS: APP_ORIGIN,
    },
    handleRuntimeStdio: (out, err) => {
      out.resume();
      err.resume();
    },
  });
  base = (await mf.ready).toString().replace(/\/$/, "");
  let ok = false;
  for (let i = 0; i < 20 && !ok; i++) ok = (await api(base, "/sign-in", { body: { id: `warm${i}`, email: `warm-${i}@example.test` } }).catch(() => null))?.status === 200;
  expect(ok).toBe(true);
}, 120_000);

afterAll(async () => {
  await mf?.dispose();
  await store?.close();
});

/** The example's own sign-in (it stands in for a team's: any sign-in ends in createSession). */
async function registerUser(base: string, email: string) {
  const r = await api(base, "/sign-in", { body: { id: randomBytes(9).toString("base64url"), email } });
  if (r.status !== 200) throw new Error(`sign-in: ${r.status} ${r.text}`);
  return { email, token: r.json.token as string, user: r.json.user as { id: string } };
}

async function ticketFor(base: string, token: string): Promise<string> {
  const r = await api(base, "/ws-ticket", { method: "POST", token });
  if (r.status !== 200) throw new Error(`ticket: ${r.status} ${r.text}`);
  return r.json.ticket as string;
}

interface PartySocket {
  ws: WebSocket;
  first: Promise<any>;
  messages: any[];
  closeFrame: Promise<{ code: number; reason: string }>;
}

/** Opens /parties/chat/<room>?token=…; resolves when open, rejects with the refusal's status and body. */
function connect(room: string, query: string, headers: Record<string, string> = {}, protocols?: string[]): Promise<PartySocket> {
  const ws = new WebSocket(`${base.replace("http", "ws")}/parties/chat/${room}?${query}`, protocols, { headers: { Origin: APP_ORIGIN, ...headers } });
  const messages: any[] = [];
  let firstResolve: (m: any) => void;
  const first = new Promise<any>((r) => (firstResolve = r));
  ws.on("message", (d) => {
    const m = JSON.parse(d.toString());
    if (!messages.length) firstResolve(m);
    messages.push(m);
  });
  let frameResolve: (v: { code: number; reason: string }) => void;
  const closeFrame = new Promise<{ code: number; reason: string }>((r) => (frameResolve = r));
  ws.on("close", (code, reason) => frameResolve({ code, reason: reason.toString() }));
  return new Promise((resolve, reject) => {
    ws.once("open", () => {
      (ws as unknown as { _receiver: NodeJS.EventEmitter })._receiver.once("conclude", (code: number, reason: Buffer) => frameResolve({ code, reason: reason.toString() }));
      resolve({ ws, first, messages, closeFrame });
    });
    ws.once("unexpected-response", (_q, res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => reject(Object.assign(new Error(`refused ${res.statusCode}`), { status: res.statusCode, body })));
    });
    ws.once("error", reject);
  });
}

const refused = (p: Promise<PartySocket>) =>
  p.then(
    (s) => (s.ws.close(), { status: 101, body: "" }),
    (e: { status?: number; body?: string }) => ({ status: e.status, body: e.body }),
  );

describe("PartyServer example: a team's own Durable Object behind edge-session", () => {
  it("onBeforeConnect refuses what /ws refuses: no ticket, a forged or used ticket, a foreign Origin", async () => {
    const u = await registerUser(base, `ps-${randomBytes(4).toString("hex")}@example.test`);
    expect(await refused(connect("r1", ""))).toEqual({ status: 401, body: JSON.stringify({ error: "unauthorized", reason: "missing" }) });
    expect((await refused(connect("r1", `token=wt1.${"A".repeat(43)}`))).status).toBe(401);
    const ticket = await ticketFor(base, u.token);
    const ok = await connect("r1", `token=${ticket}`);
    await ok.first;
    ok.ws.close();
    expect(await refused(connect("r1", `token=${ticket}`))).toEqual({ status: 401, body: JSON.stringify({ error: "unauthorized", reason: "invalid_ticket" }) });
    expect(await refused(connect("r1", `token=${await ticketFor(base, u.token)}`, { Origin: "https://evil.example" }))).toEqual({
      status: 403,
      body: JSON.stringify({ error: "forbidden", reason: "origin_not_allowed" }),
    });
  });

  it("a ticket offered as the [\"session\", ticket] subprotocol pair: the 101 names `session` (a browser drops the socket otherwise)", async () => {
    const u = await registerUser(base, `ps-${randomBytes(4).toString("hex")}@example.test`);
    const s = await connect("r0", "", {}, ["session", await ticketFor(base, u.token)]);
    expect(s.ws.protocol).toBe("session");
    expect(await s.first).toEqual({ type: "welcome", room: "r0", user: { id: u.user.id, email: u.email } });
    s.ws.close();
  });

  it("the identity reaches onConnect; messages carry it", async () => {
    const u = await registerUser(base, `ps-${randomBytes(4).toString("hex")}@example.test`);
    const s = await connect("r2", `token=${await ticketFor(base, u.token)}`);
    expect(await s.first).toEqual({ type: "welcome", room: "r2", user: { id: u.user.id, email: u.email } });
    s.ws.send("hi");
    await expect.poll(() => s.messages.find((m) => m.type === "message")).toEqual({ type: "message", from: u.email, text: "hi" });
    s.ws.close();
  });

  it("a sign-out closes the connection with 4401 session_ended (in every room), and another user's stays", async () => {
    const u = await registerUser(base, `ps-${randomBytes(4).toString("hex")}@example.test`);
    const other = await registerUser(base, `ps-${randomBytes(4).toString("hex")}@example.test`);
    const [a, b, kept] = [
      await connect("r3", `token=${await ticketFor(base, u.token)}`),
      await connect("r4", `token=${await ticketFor(base, u.token)}`),
      await connect("r3", `token=${await ticketFor(base, other.token)}`),
    ];
    await Promise.all([a.first, b.first, kept.first]);
    expect((await api(base, "/sign-out", { method: "POST", token: u.token })).status).toBe(204);
    for (const s of [a, b]) expect(await within(s.closeFrame, 1000, "4401 after logout")).toEqual({ code: 4401, reason: "session_ended" });
    kept.ws.send("still here");
    await expect.poll(() => kept.messages.some((m) => m.text === "still here")).toBe(true);
    kept.ws.close();
  });

  it("the caps hold for PartyServer connections too (429 too_many_sockets)", async () => {
    const u = await registerUser(base, `ps-${randomBytes(4).toString("hex")}@example.test`);
    const open: PartySocket[] = [];
    for (let i = 0; i < 5; i++) open.push(await connect("r5", `token=${await ticketFor(base, u.token)}`));
    expect(await refused(connect("r5", `token=${await ticketFor(base, u.token)}`))).toEqual({
      status: 429,
      body: JSON.stringify({ error: "too_many_sockets", reason: "session_socket_limit" }),
    });
    for (const s of open) s.ws.close();
  });
});
