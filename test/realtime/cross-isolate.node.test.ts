/**
 * The cross-isolate case, honestly: two entry workers (edge-a, edge-b) in one Miniflare share one
 * Durable Object namespace; sockets are accepted by one and the revocation is handled by the
 * other (or by a third worker through edge-b's RPC entrypoint). Real sockets from Node (`ws`) on
 * loopback ports, the local store. The probe (bench/realtime/probe-worker.ts) counts requests
 * per object class and timers per isolate.
 */
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { startStore, type StoreServer } from "@edge-session/local-store";
import { startRealtimeCluster, type Cluster } from "../../bench/realtime/cluster.ts";
import { api, APP_ORIGIN, loginUser, PASSWORD, openSocket, registerUser, ticketFor, within } from "../../bench/realtime/client.ts";
import { figure } from "../helpers/figure.ts";

const RECHECK_MS = 500;
let store: StoreServer;
let cluster: Cluster;
let prefix: string;
let n = 0;
const email = () => `rt-${randomBytes(5).toString("hex")}-${n++}@example.test`;
const room = () => `r${randomBytes(5).toString("hex")}`;

let keys: { SESSION_KEYS: string; PASSWORD_PEPPER: string };
/** The same settings for every cluster of this file; `extra` overrides. */
const bindings = (extra: Record<string, string> = {}) => ({
  ...keys,
  ENVIRONMENT: "test",
  SIGNUP: "open",
  UPSTASH_REDIS_REST_URL: store.url,
  UPSTASH_REDIS_REST_TOKEN: store.token,
  STORE_PREFIX: prefix,
  CORS_ORIGINS: APP_ORIGIN,
  WS_TICKET_TTL: "1 s",
  RATE_LIMIT_LOGIN_IP: "100000 / 1 h",
  RATE_LIMIT_REGISTER_IP: "100000 / 1 h",
  REQUEST_LOG: "off",
  ...extra,
});

/** Registers a throwaway user until the worker answers (a cold start can exceed the store budget once). */
async function warm(base: string) {
  let ok = false;
  for (let i = 0; i < 20 && !ok; i++) ok = (await api(base, "/auth/register", { body: { email: email(), password: PASSWORD } }).catch(() => null))?.status === 201;
  expect(ok).toBe(true);
}

beforeAll(async () => {
  store = await startStore({ port: 0, redisUrl: process.env.REDIS_URL || undefined });
  prefix = `testrt:${randomBytes(4).toString("hex")}:`;
  keys = { SESSION_KEYS: `k1:${randomBytes(32).toString("base64url")}`, PASSWORD_PEPPER: randomBytes(32).toString("base64url") };
  // The rooms' safety-net re-check stays at its default (30 s): every close within a second in
  // these tests is the push's. The safety net itself is tested below, on a cluster of its own.
  cluster = await startRealtimeCluster({ consumer: true, broken: true, bindings: bindings() });
  for (const base of [cluster.a, cluster.b]) await warm(base);
}, 120_000);

afterAll(async () => {
  await cluster?.dispose();
  await store?.close();
});

async function storeCommand(...command: string[]) {
  const res = await fetch(store.url, { method: "POST", headers: { Authorization: `Bearer ${store.token}` }, body: JSON.stringify(command), signal: AbortSignal.timeout(5000) });
  expect(res.status).toBe(200);
  return res.json();
}

describe("two entry workers, one Durable Object namespace", () => {
  it("edge-b is another isolate: its module state is its own, and the objects run in edge-a's", async () => {
    await Promise.all([cluster.resetProbe(cluster.a), cluster.resetProbe(cluster.b)]);
    const u = await registerUser(cluster.b, email());
    const s = await openSocket(cluster.b, await ticketFor(cluster.b, u.token), room());
    expect((await s.hello).type).toBe("hello");
    const [pa, pb] = [await cluster.probe(cluster.a), await cluster.probe(cluster.b)];
    // The upgrade was handled by edge-b; the admission and the room request ran in the objects' isolate.
    expect({ admit: pa.admit, roomFetch: pa.roomFetch }).toEqual({ admit: 1, roomFetch: 1 });
    expect({ admit: pb.admit, roomFetch: pb.roomFetch }).toEqual({ admit: 0, roomFetch: 0 });
    s.ws.close();
  });

  it("a socket accepted by edge-a closes with 4401 when edge-b handles the logout (measured)", async () => {
    const figures: number[] = [];
    for (let i = 0; i < 5; i++) {
      const u = await registerUser(cluster.a, email());
      const s = await openSocket(cluster.a, await ticketFor(cluster.a, u.token), room());
      await s.hello;
      const r = await api(cluster.b, "/auth/logout", { method: "POST", token: u.token });
      expect(r.status).toBe(204);
      const closed = await within(s.closeFrame, 1000, "4401 after a logout at edge-b");
      expect({ code: closed.code, reason: closed.reason }).toEqual({ code: 4401, reason: "session_ended" });
      figures.push(closed.at - r.at);
    }
    figure(`[realtime] logout at edge-b → close at the socket accepted by edge-a: ${figures.map((f) => f.toFixed(1)).join(", ")} ms after the logout's response`);
    expect(Math.max(...figures)).toBeLessThan(1000);
  });

  it("revoke-others at edge-a closes a socket accepted by edge-b; the other session's socket stays", async () => {
    const u = await registerUser(cluster.b, email());
    const other = await loginUser(cluster.a, u.email);
    const r = room();
    const target = await openSocket(cluster.b, await ticketFor(cluster.b, u.token), r);
    const kept = await openSocket(cluster.b, await ticketFor(cluster.b, other.token), r);
    await Promise.all([target.hello, kept.hello]);
    expect((await api(cluster.a, "/auth/sessions/revoke-others", { method: "POST", token: other.token })).json).toEqual({ revoked: 1 });
    expect((await within(target.closeFrame, 1000, "4401")).code).toBe(4401);
    kept.ws.send("still here");
    await expect.poll(() => kept.messages.some((m) => m.type === "message" && m.data === "still here"), { timeout: 2000 }).toBe(true);
    kept.ws.close();
  });

  it("RPC revoke(sessionId) and revokeUser(userId) from a third worker, through edge-b's entrypoint, close sockets accepted by edge-a", async () => {
    const rpc = async (op: string, arg: string) => (await api(cluster.consumer!, "/", { body: { op, arg } })).json;
    const u = await registerUser(cluster.a, email());
    const s1 = await openSocket(cluster.a, await ticketFor(cluster.a, u.token), room());
    await s1.hello;
    const sessionId = (await api(cluster.a, "/auth/session", { token: u.token })).json.session.id;
    expect(await rpc("revoke", sessionId)).toBe(true);
    expect((await within(s1.closeFrame, 1000, "4401 after RPC revoke")).code).toBe(4401);

    const again = await loginUser(cluster.a, u.email);
    const s2 = await openSocket(cluster.a, await ticketFor(cluster.a, again.token), room());
    await s2.hello;
    expect(await rpc("revokeUser", u.user.id)).toBe(1);
    expect((await within(s2.closeFrame, 1000, "4401 after RPC revokeUser")).code).toBe(4401);
  });
});

describe("attack: bad tickets never reach a Durable Object (requests counted by the probe)", () => {
  it("forged, malformed, used, expired and foreign tickets, a foreign Origin: 0 admissions, 0 room requests", async () => {
    const u = await registerUser(cluster.a, email());
    const v = await registerUser(cluster.a, email());
    const r = room();
    const used = await ticketFor(cluster.a, u.token);
    const first = await openSocket(cluster.a, used, r);
    await first.hello;
    first.ws.close();
    const expired = await ticketFor(cluster.a, u.token);
    await new Promise((res) => setTimeout(res, 1200));
    await Promise.all([cluster.resetProbe(cluster.a), cluster.resetProbe(cluster.b)]);

    const upgradeStatus = (base: string, ticket: string) =>
      openSocket(base, ticket, r).then(
        (s) => (s.ws.close(), 101),
        (e: { status?: number }) => e.status ?? 0,
      );
    // A ticket in the query with extra headers (non-browser clients send a Bearer header too).
    const rawUpgrade = (base: string, query: string, headers: Record<string, string>) =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(`${base.replace("http", "ws")}/ws?room=${r}&${query}`, { headers: { Origin: APP_ORIGIN, ...headers } });
        ws.on("unexpected-response", (_q, res) => resolve(res.statusCode ?? 0));
        ws.on("open", () => (ws.close(), resolve(101)));
        ws.on("error", () => resolve(-1));
      });
    const results = {
      forged: await upgradeStatus(cluster.b, `wt1.${"A".repeat(43)}`),
      malformed: await upgradeStatus(cluster.b, "wt1.nope"),
      used: await upgradeStatus(cluster.b, used),
      expired: await upgradeStatus(cluster.a, expired),
      foreign: await rawUpgrade(cluster.a, `token=${await ticketFor(cluster.a, u.token)}`, { Authorization: `Bearer ${v.token}` }),
      origin: await rawUpgrade(cluster.a, `token=${await ticketFor(cluster.a, u.token)}`, { Origin: "https://evil.example" }),
      sessionToken: await rawUpgrade(cluster.a, `token=${u.token}`, {}),
    };
    expect(results).toEqual({ forged: 401, malformed: 401, used: 401, expired: 401, foreign: 401, origin: 403, sessionToken: 401 });
    const [pa, pb] = [await cluster.probe(cluster.a), await cluster.probe(cluster.b)];
    expect({ admissions: pa.admit + pb.admit, roomRequests: pa.roomFetch + pb.roomFetch }).toEqual({ admissions: 0, roomRequests: 0 });
  });
});

describe("failure modes", () => {
  let safety: Cluster;
  beforeAll(async () => {
    safety = await startRealtimeCluster({ bindings: bindings({ WS_RECHECK_INTERVAL: `${RECHECK_MS} ms` }) });
    await warm(safety.a);
  }, 120_000);
  afterAll(async () => {
    await safety?.dispose();
  });

  it("a session ended behind the push's back (deleted in the store) is closed by the safety-net re-check within the interval", async () => {
    const u = await registerUser(safety.a, email());
    const s = await openSocket(safety.a, await ticketFor(safety.a, u.token), room());
    await s.hello;
    const sessionId = (await api(safety.a, "/auth/session", { token: u.token })).json.session.id;
    const since = performance.now();
    expect(await storeCommand("DEL", `${prefix}s:${sessionId}`)).toEqual({ result: 1 });
    const closed = await within(s.closeFrame, RECHECK_MS * 2 + 1000, "close by the re-check");
    expect({ code: closed.code, reason: closed.reason }).toEqual({ code: 4401, reason: "session_ended" });
    figure(`[realtime] safety net (WS_RECHECK_INTERVAL ${RECHECK_MS} ms): closed ${(closed.at - since).toFixed(0)} ms after the silent delete`);
  });

  it("a store outage at the re-check closes with 4503 (never a grant), and upgrades meanwhile get 503, never a socket", async () => {
    const u = await registerUser(safety.a, email());
    const s = await openSocket(safety.a, await ticketFor(safety.a, u.token), room());
    await s.hello;
    const ticket = await ticketFor(safety.a, u.token);
    await store.setFault("status500");
    try {
      const closed = await within(s.closeFrame, RECHECK_MS * 2 + 3000, "close at a re-check during the outage");
      expect({ code: closed.code, reason: closed.reason }).toEqual({ code: 4503, reason: "session_store_unavailable" });
      const refused = await openSocket(safety.a, ticket, room()).then(
        () => 101,
        (e: { status?: number; headers?: Record<string, string> }) => [e.status, e.headers?.["retry-after"]],
      );
      expect(refused).toEqual([503, "2"]);
    } finally {
      await store.setFault(null);
    }
  });

  it("a room object that cannot start: 503 with Retry-After, no socket, the admission given back", async () => {
    const u = await registerUser(cluster.broken!, email());
    const refused = await openSocket(cluster.broken!, await ticketFor(cluster.broken!, u.token), room()).then(
      () => ({ status: 101 }),
      (e: { status?: number; body?: string; headers?: Record<string, string> }) => ({ status: e.status, retryAfter: e.headers?.["retry-after"], body: e.body }),
    );
    expect(refused).toEqual({ status: 503, retryAfter: "2", body: JSON.stringify({ error: "realtime_unavailable" }) });
    // The user's object holds no row for it (the cap is not eaten by failures).
    const s = await openSocket(cluster.a, await ticketFor(cluster.a, u.token), room());
    expect((await s.hello).type).toBe("hello");
    s.ws.close();
  });
});
