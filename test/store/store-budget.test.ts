/**
 * What a request costs the store, counted by the local store itself (a private instance, so
 * concurrently running test files do not add to the counts).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testApp } from "../helpers/app.js";
import { call, register, type Fetch } from "../helpers/http.js";
import { privateStore, resetStats, totalCommands, stats, type StoreInstance } from "../helpers/store.js";
import { figure } from "../helpers/figure.js";

let store: StoreInstance & { close(): Promise<void> };
let cached: Fetch;
let uncached: Fetch;

beforeAll(async () => {
  store = await privateStore();
  const binding = { UPSTASH_REDIS_REST_URL: store.url, UPSTASH_REDIS_REST_TOKEN: store.token };
  cached = (await testApp({ ...binding, SESSION_CACHE_TTL: "5 s", SERVER_TIMING: "on" })).fetch;
  uncached = (await testApp({ ...binding, SESSION_CACHE_TTL: "0", SERVER_TIMING: "on" })).fetch;
});
afterAll(() => store?.close());

describe("store budget", () => {
  it("a cache miss costs exactly one store command (one HTTP request)", async () => {
    const a = await register(uncached);
    await resetStats(store);
    expect((await call("/api/me", { token: a.token }, uncached)).status).toBe(200);
    const s = await stats(store);
    expect(await totalCommands(store)).toBe(1);
    expect(s.commands).toEqual({ GET: 1 });
    expect(s.requests).toBe(1);
  });

  it("a hit costs nothing", async () => {
    const a = await register(cached);
    await call("/api/me", { token: a.token }, cached);
    await resetStats(store);
    for (let i = 0; i < 20; i++) expect((await call("/api/me", { token: a.token }, cached)).status).toBe(200);
    expect(await totalCommands(store)).toBe(0);
  });

  it("single flight: 10 concurrent misses for one session share one read", async () => {
    const a = await register(cached);
    await resetStats(store);
    const results = await Promise.all(Array.from({ length: 10 }, () => call("/api/me", { token: a.token }, cached)));
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(await totalCommands(store)).toBe(1);
  });

  it("forged and malformed tokens cost zero store commands", async () => {
    const a = await register(uncached);
    await resetStats(store);
    const forged = a.token.slice(0, -3) + (a.token.endsWith("AAA") ? "BBA" : "AAA");
    for (const t of [forged, "garbage", a.token.replace("v1.", "v2."), a.token + "x"]) {
      expect((await call("/api/me", { token: t }, uncached)).status).toBe(401);
    }
    expect(await totalCommands(store)).toBe(0);
  });

  it("a validly signed dead token is remembered briefly (negative cache)", async () => {
    const a = await register(cached);
    await call("/auth/logout", { method: "POST", token: a.token }, uncached); // ended elsewhere
    await resetStats(store);
    for (let i = 0; i < 10; i++) expect((await call("/api/me", { token: a.token }, cached)).status).toBe(401);
    expect(await totalCommands(store)).toBe(1);
  });

  it("Server-Timing says where the answer came from", async () => {
    const a = await register(cached);
    const first = await call("/api/me", { token: a.token }, cached);
    const second = await call("/api/me", { token: a.token }, cached);
    const fresh = await call("/auth/session", { token: a.token }, cached);
    expect(first.headers.get("Server-Timing")).toMatch(/^session;desc="miss";dur=\d+(\.\d+)?$/);
    expect(second.headers.get("Server-Timing")).toMatch(/^session;desc="hit";dur=/);
    expect(fresh.headers.get("Server-Timing")).toMatch(/^session;desc="fresh";dur=/);
  });

  it("session-management routes always read the store, even with a warm cache", async () => {
    const a = await register(cached);
    await call("/api/me", { token: a.token }, cached);
    await resetStats(store);
    await call("/auth/session", { token: a.token }, cached);
    expect((await stats(store)).commands.GET).toBe(1);
  });

  it("a logout evicts this isolate's entry at once", async () => {
    const a = await register(cached);
    expect((await call("/api/me", { token: a.token }, cached)).status).toBe(200);
    await call("/auth/logout", { method: "POST", token: a.token }, cached);
    expect((await call("/api/me", { token: a.token }, cached)).status).toBe(401);
  });

  it("a revocation elsewhere is seen within the cache TTL (bounded staleness)", async () => {
    const app = await testApp({ UPSTASH_REDIS_REST_URL: store.url, UPSTASH_REDIS_REST_TOKEN: store.token, SESSION_CACHE_TTL: "1 s" });
    const a = await register(app.fetch);
    expect((await call("/api/me", { token: a.token }, app.fetch)).status).toBe(200);
    await call("/auth/logout", { method: "POST", token: a.token }, uncached); // another isolate
    const started = Date.now();
    let status = 200;
    while (status === 200 && Date.now() - started < 3000) {
      status = (await call("/api/me", { token: a.token }, app.fetch)).status;
      if (status === 200) await new Promise((r) => setTimeout(r, 25));
    }
    const staleFor = Date.now() - started;
    figure(`[staleness] revocation elsewhere seen after ${staleFor} ms (SESSION_CACHE_TTL 1 s)`);
    expect(status).toBe(401);
    expect(staleFor).toBeLessThanOrEqual(1100);
  });
});
