/**
 * Read-your-writes in replicated mode: the `upstash-sync-token` the store hands out, what the
 * pinned @upstash/redis (1.39.0) sends back, a token handed between clients, a read that waits for
 * its replica, and the control routes' answers to bad input.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { StoreServer } from "../../src/server.ts";
import { client, control, newPrefix, raw, sleep, startReplicated, stop } from "./replicas-helpers.ts";

const prefix = newPrefix("replicas-sync-test");
let store: StoreServer;
let eu: string;
let ap: string;

beforeAll(async () => {
  store = await startReplicated(["eu", "ap"]);
  [eu, ap] = ["eu", "ap"].map((n) => store.regions.find((r) => r.name === n)!.url) as [string, string];
});
afterAll(() => stop(store, prefix));
afterEach(async () => {
  vi.restoreAllMocks();
  for (const name of ["eu", "ap"]) await store.setRegion(name, { lagMs: 0, heal: true });
});

describe("read-your-writes with the client", () => {
  it("readYourWrites (the default) reads its own write under a partition and under a 2 s lag; without it the read is stale", async () => {
    for (const change of [{ partition: true }, { lagMs: 2000 }] as const) {
      await store.setRegion("eu", change);
      const key = `${prefix}own:${Object.keys(change)[0]}`;
      const ryw = client(eu);
      await ryw.set(key, "mine");
      expect(await ryw.get(key)).toBe("mine");
      expect(await client(eu, { readYourWrites: false }).get(key)).toBeNull();
      await store.setRegion("eu", { lagMs: 0, heal: true });
    }
  });

  it("a token handed to another client (readYourWritesSyncToken) carries the write to another region", async () => {
    await store.setRegion("eu", { partition: true });
    const key = `${prefix}handed`;
    const writer = client(ap);
    await writer.set(key, "handed-over");
    const token = writer.readYourWritesSyncToken;
    expect(token).toMatch(/^\d+$/);
    const reader = client(eu);
    expect(await reader.get(key)).toBeNull(); // no token yet: the partitioned replica answers
    reader.readYourWritesSyncToken = token;
    expect(await reader.get(key)).toBe("handed-over");
  });

  it("the pinned client sends the token of the response just before (not the one before that: the 1.34.5 regression)", async () => {
    const seen: { sent: string | null; received: string | null }[] = [];
    const realFetch = globalThis.fetch;
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
      const res = await realFetch(input, init);
      const sent = new Headers(init?.headers).get("upstash-sync-token");
      seen.push({ sent, received: res.headers.get("upstash-sync-token") });
      return res;
    });
    const c = client(eu);
    const key = `${prefix}latest`;
    await c.set(key, 1);
    await c.incr(key);
    await c.get(key);
    await c.incr(key);
    vi.restoreAllMocks();
    expect(seen).toHaveLength(4);
    expect(seen[0]!.sent ?? "").toBe("");
    for (let i = 1; i < seen.length; i++) expect(seen[i]!.sent).toBe(seen[i - 1]!.received);
    // Writes move the token forward; it never moves back.
    const tokens = seen.map((s) => Number(s.received));
    expect(tokens[1]).toBeGreaterThan(tokens[0]!);
    expect(tokens[3]).toBeGreaterThan(tokens[2]!);
  });
});

describe("a read with a token its replica has not reached", () => {
  it("waits for the replica when it can catch up in time (lag 300 ms)", async () => {
    await store.setRegion("eu", { lagMs: 300 });
    const key = `${prefix}wait`;
    const w = await raw(ap, ["set", key, "w"]);
    const started = Date.now();
    const r = await raw(eu, ["get", key], { "upstash-sync-token": w.syncToken! });
    expect(r.json.result).toBe("w");
    expect(r.servedBy).toBe("replica:eu");
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
  });

  it("is served by the primary when the replica cannot catch up: partitioned (at once) or past syncWaitMs", async () => {
    await store.setRegion("eu", { partition: true });
    const key = `${prefix}fallback`;
    const w = await raw(ap, ["set", key, "p"]);
    const r = await raw(eu, ["get", key], { "upstash-sync-token": w.syncToken! });
    expect([r.servedBy, r.json.result]).toEqual(["primary", "p"]);
    await store.setRegion("eu", { heal: true, lagMs: 5000 });
    const w2 = await raw(ap, ["set", key, "p2"]);
    const started = Date.now();
    const r2 = await raw(eu, ["get", key], { "upstash-sync-token": w2.syncToken! });
    expect([r2.servedBy, r2.json.result]).toEqual(["primary", "p2"]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900); // syncWaitMs (1000) spent waiting first
  });
});

describe("forged or malformed sync tokens", () => {
  it("a token that is not a decimal offset is a 400 with the reason, before any command runs", async () => {
    const key = `${prefix}forged`;
    for (const bad of ["abc", "-1", "1e9", "9".repeat(40)]) {
      const r = await raw(eu, ["set", key, "x"], { "upstash-sync-token": bad });
      expect(r.status).toBe(400);
      expect(r.json.error).toMatch(/invalid upstash-sync-token/);
    }
    expect(await client(store.url, { readYourWrites: false }).get(key)).toBeNull();
  });

  it("a token from the future (another store's) cannot hang a read: the primary answers after syncWaitMs", async () => {
    const r = await raw(eu, ["get", `${prefix}future`], { "upstash-sync-token": "999999999999" });
    expect([r.status, r.servedBy]).toEqual([200, "primary"]);
  });
});

describe("control routes", () => {
  it("GET /_regions lists each region's lag, offsets and backlog", async () => {
    await store.setRegion("ap", { lagMs: 250 });
    const { status, json } = await control(store.controlUrl, "GET", "/_regions");
    expect(status).toBe(200);
    expect(json.regions.map((r: { name: string }) => r.name)).toEqual(["eu", "ap"]);
    const apView = json.regions[1];
    expect(apView).toMatchObject({ name: "ap", lagMs: 250, partitioned: false, url: ap });
    expect(typeof apView.appliedOffset).toBe("number");
    expect(typeof json.primaryOffset).toBe("number");
  });

  it("POST /_regions/<name> sets lag, partition and heal; bad input gets a 4xx with a reason", async () => {
    expect((await control(eu, "POST", "/_regions/eu", { lagMs: 100 })).json.lagMs).toBe(100);
    expect((await control(eu, "POST", "/_regions/eu", { partition: true })).json.partitioned).toBe(true);
    expect((await control(eu, "POST", "/_regions/eu", { heal: true })).json.partitioned).toBe(false);
    const cases: [unknown, number, string][] = [
      [{ lagMs: -1 }, 400, "bad-lag"],
      [{ lagMs: "5" }, 400, "bad-lag"],
      [{ partition: "yes" }, 400, "bad-partition"],
      [{ partition: true, heal: true }, 400, "conflict"],
      [{ lag: 5 }, 400, "unknown-field"],
    ];
    for (const [body, status, reason] of cases) {
      const r = await control(store.controlUrl, "POST", "/_regions/eu", body);
      expect([r.status, r.json.reason]).toEqual([status, reason]);
    }
    expect((await control(store.controlUrl, "POST", "/_regions/mars", { lagMs: 1 })).json.reason).toBe("unknown-region");
    await sleep(0);
  });
});
