/**
 * Sign-in, tickets and session management stay correct behind a lagging or partitioned replica
 * (issue 21, item 3), and a verifier that can prove nothing refuses with 503 — never a grant,
 * never a 401. The local store's replicated mode; one worker per region (bench/global/cluster.ts).
 */
import { randomBytes } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { StoreServer } from "@edge-session/local-store";
import { startGlobalCluster, type GlobalCluster } from "../../bench/global/cluster.ts";
import { globalBindings, startRegions } from "../../bench/global/run.ts";
import { api, openSocket, PASSWORD, ticketFor } from "../../bench/realtime/client.ts";
import { assembleCore } from "../../src/session/core.ts";
import { DEFAULT_POLICY } from "../../src/session/manager.ts";
import { FreshnessMetrics } from "../../src/session/freshness.ts";
import { advanceStoreClock } from "../../src/session/clock.ts";
import { createUpstashStore, StoreError } from "../../src/store/redis.ts";
import { keySpace } from "../../src/store/keys.ts";

let store: StoreServer;
let cluster: GlobalCluster;
const prefix = `testgr:${randomBytes(4).toString("hex")}:`;
const email = () => `gr-${randomBytes(5).toString("hex")}@example.test`;

beforeAll(async () => {
  store = await startRegions();
  cluster = await startGlobalCluster({ store, bindings: globalBindings(prefix, "2 s") });
}, 120_000);

afterEach(async () => {
  await store.setRegion("eu", { heal: true, lagMs: 0 });
});

afterAll(async () => {
  await cluster?.dispose();
  await store?.close();
});

describe.each([["lagging by 5 s", { lagMs: 5000 }], ["partitioned", { partition: true }]] as const)("eu's replica %s", (_name, change) => {
  it("a sign-in at eu works at once at eu: its own checks, the session list, a ticket and a socket", async () => {
    await store.setRegion("eu", change);
    const eu = cluster.workers.eu!;
    const reg = await api(eu, "/auth/register", { body: { email: email(), password: PASSWORD } });
    expect(reg.status).toBe(201);
    const token = reg.json.token as string;
    expect((await api(eu, "/api/me", { token })).status).toBe(200);
    expect((await api(eu, "/auth/session", { token })).status).toBe(200);
    const list = await api(eu, "/auth/sessions", { token });
    expect(list.status).toBe(200);
    expect((list.json.sessions as { current: boolean }[]).filter((x) => x.current)).toHaveLength(1);
    const socket = await openSocket(eu, await ticketFor(eu, token), `r${randomBytes(3).toString("hex")}`);
    expect((await socket.hello).type).toBe("hello");
    socket.ws.terminate();
  });

  it("a session signed in at ap is usable, listed and revocable by id at eu; the revocation holds at ap", async () => {
    await store.setRegion("eu", change);
    const { eu, ap } = cluster.workers as { eu: string; ap: string };
    const address = email();
    const first = await api(ap, "/auth/register", { body: { email: address, password: PASSWORD } });
    const second = await api(ap, "/auth/login", { body: { email: address, password: PASSWORD } });
    expect([first.status, second.status]).toEqual([201, 200]);
    expect((await api(eu, "/api/me", { token: second.json.token })).status).toBe(200);
    const list = await api(eu, "/auth/sessions", { token: second.json.token });
    const listed = list.json.sessions as { id: string; current: boolean }[];
    expect(listed).toHaveLength(2);
    const other = listed.find((x) => !x.current)!.id;
    const del = await api(eu, `/auth/sessions/${other}`, { method: "DELETE", token: second.json.token });
    expect(del.status).toBe(204);
    expect((await api(ap, "/auth/session", { token: first.json.token })).status).toBe(401);
  });
});

describe("read-your-writes across the store's clients (@upstash/redis 1.39.0's upstash-sync-token)", () => {
  it("a write sent once, then a read on the retrying client, sees the write at a replica 5 s behind; the session MGET does not wait", async () => {
    await store.setRegion("eu", { lagMs: 5000 });
    const eu = store.regions.find((r) => r.name === "eu")!;
    // The read waits for the replica (the store's syncWaitMs, 1 s), then the primary answers: a
    // budget above that wait.
    const s = createUpstashStore({ url: eu.url, token: store.token, timeoutMs: 3000 });
    const key = `${prefix}ryw:${randomBytes(4).toString("hex")}`;
    expect(await s.set(key, "v1", { nx: true, px: 60_000 })).toBe(true);
    expect(await s.get(key)).toBe("v1");
    // The replica read proves its own freshness (clock) instead: it answers from the replica at once.
    const started = Date.now();
    expect(await s.mget([key])).toEqual([null]);
    expect(Date.now() - started).toBeLessThan(900);
  });
});

describe("attack: a stale replica and an unreachable primary", () => {
  it("a miss that cannot be proven fresh answers StoreError (503), never a grant and never 'revoked'", async () => {
    const eu = store.regions.find((r) => r.name === "eu")!;
    const keys = keySpace(`${prefix}lib:`);
    const real = createUpstashStore({ url: eu.url, token: store.token });
    let primaryDown = false;
    // The primary fails; the replica still answers (with data from before the partition).
    const wrapped = { ...real, run: (...a: Parameters<typeof real.run>) => (primaryDown ? Promise.reject(new StoreError(new Error("primary unreachable"))) : real.run(...a)) } as typeof real;
    const metrics = new FreshnessMetrics();
    const core = await assembleCore({ store: wrapped, sessionKeys: [{ kid: "k1", key: randomBytes(32) }], prefix: `${prefix}lib:`, policy: DEFAULT_POLICY, cacheTtlMs: 0, freshness: { boundMs: 2000, metrics } });
    const made = await core.sessions.create({ user: { id: "u1", email: "u1@example.test", roles: [] } });
    if (!made.ok) throw new Error("create failed");
    await advanceStoreClock(real, keys);
    await new Promise((r) => setTimeout(r, 200));
    // Fresh replica, record present: one MGET, granted.
    expect((await core.reader.read(made.token)).ok).toBe(true);
    await store.setRegion("eu", { partition: true });
    await core.sessions.end(made.session);
    primaryDown = true;
    // Past the bound the replica still holds the session it had; the primary cannot be asked.
    await new Promise((r) => setTimeout(r, 2300));
    await expect(core.reader.read(made.token)).rejects.toBeInstanceOf(StoreError);
    expect(metrics.snapshot()).toMatchObject({ staleRefusals: 1, freshReads: 1, staleReads: 1 });
    primaryDown = false;
    expect(await core.reader.read(made.token)).toEqual({ ok: false, reason: "revoked" });
    expect(metrics.snapshot().revocationToRefusalMs.count).toBe(1);
    expect(metrics.snapshot().revocationToRefusalMs.maxMs).toBeGreaterThan(2000);
  }, 30_000);
});
