/**
 * Metrics: what the worker records per request (no store command of their own), the per-isolate
 * rollup (one store command per interval whatever the traffic), the console's read of it, and
 * the Analytics Engine rows.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { testApp } from "../helpers/app.js";
import { call, login, PASSWORD, register, uniqueEmail, type Fetch, type LoggedIn } from "../helpers/http.js";
import { privateStore, resetStats, totalCommands, type StoreInstance } from "../helpers/store.js";
import { bucketOf, LATENCY_BOUNDS_MS, metrics, MetricsRegistry, quantile } from "../../src/metrics/registry.js";
import { analyticsPoints, MetricsRollup, rollupFields, type AnalyticsDataset } from "../../src/metrics/rollup.js";
import { readMetrics, toSeries } from "../../src/metrics/read.js";
import type { Deps } from "../../src/worker/deps.js";

describe("registry", () => {
  it("counts, observes into fixed buckets, and starts a fresh period at take()", () => {
    const r = new MetricsRegistry();
    r.count("a");
    r.count("a", 2);
    for (const ms of [0.5, 3, 3, 40, 2500]) r.observe("lat", ms);
    const s = r.take();
    expect(s.counters).toEqual({ a: 3 });
    expect(s.latencies.lat!.n).toBe(5);
    expect(s.latencies.lat!.max).toBe(2500);
    expect(s.latencies.lat!.buckets[bucketOf(3)]).toBe(2);
    expect(r.empty).toBe(true);
    expect(r.take().counters).toEqual({});
  });

  it("reads percentiles from merged buckets", () => {
    const b = new Array(LATENCY_BOUNDS_MS.length + 1).fill(0);
    b[bucketOf(4)] = 98;
    b[bucketOf(900)] = 2;
    expect(quantile(b, 0.5)).toBe(5);
    expect(quantile(b, 0.99)).toBe(1000);
    expect(quantile(new Array(15).fill(0), 0.5)).toBeNull();
  });

  it("bounds the number of names (a name made from input cannot grow memory)", () => {
    const r = new MetricsRegistry();
    for (let i = 0; i < 2000; i++) r.count(`n${i}`);
    expect(Object.keys(r.take().counters).length).toBe(512);
  });
});

describe("recorded by the worker", () => {
  let store: StoreInstance & { close(): Promise<void> };
  let app: Fetch;
  let deps: Deps;
  let user: LoggedIn;
  let admin: LoggedIn;

  beforeAll(async () => {
    store = await privateStore();
    ({ fetch: app, deps } = await testApp({ UPSTASH_REDIS_REST_URL: store.url, UPSTASH_REDIS_REST_TOKEN: store.token, SESSION_CACHE_TTL: "30 s" }));
    user = await register(app);
    const email = uniqueEmail("metrics-admin");
    await deps.accounts.create({ email, passwordHash: await deps.passwords.hash(PASSWORD), roles: ["admin"] });
    admin = await login(app, email);
    return () => store.close();
  });

  it("store commands per verified request are unchanged: 0 on a hit, 1 on a miss; each verification counted by outcome", async () => {
    const fresh = await login(app, user.email);
    metrics.take();
    await resetStats(store);
    expect((await call("/api/me", { token: fresh.token }, app)).status).toBe(200); // miss
    const afterMiss = await totalCommands(store);
    for (let i = 0; i < 5; i++) expect((await call("/api/me", { token: fresh.token }, app)).status).toBe(200); // hits
    const afterHits = await totalCommands(store);
    expect(afterMiss).toBe(1);
    expect(afterHits).toBe(1);
    const s = metrics.take();
    expect(s.counters["verify.miss"]).toBe(1);
    expect(s.counters["verify.hit"]).toBe(5);
    expect(s.latencies.store!.n).toBe(1);
  });

  it("refusals by reason and sign-ins by outcome", async () => {
    metrics.take();
    await call("/api/me", { token: "nonsense" }, app);
    await call("/api/me", {}, app);
    await call("/auth/login", { body: { email: user.email, password: "wrong password here" } }, app);
    await login(app, user.email);
    const c = metrics.take().counters;
    expect(c["verify.refused.malformed"]).toBe(1);
    expect(c["verify.refused.missing"]).toBe(1);
    expect(c["signin.failed.invalid_credentials"]).toBe(1);
    expect(c["signin.ok"]).toBe(1);
  });

  it("a rollup is one store command per isolate per interval, whatever the traffic; the console reads it back", async () => {
    const rollup = new MetricsRollup({ store: deps.store, keys: deps.opsKeys, intervalMs: 60_000 });
    // The first run of a script may cost a NOSCRIPT round trip (the client's EVALSHA, then EVAL).
    metrics.count("warm-up");
    await rollup.flush();
    metrics.take();
    for (let i = 0; i < 20; i++) await call("/api/me", { token: user.token }, app);
    expect(rollup.due()).toBe(false);
    await resetStats(store);
    await rollup.flush();
    expect(await totalCommands(store)).toBe(1);
    expect(rollup.due()).toBe(false);
    const r = await call("/admin/metrics?range=hour", { token: admin.token }, app);
    expect(r.status).toBe(200);
    expect(r.json.t).toHaveLength(60);
    const hits = (r.json.counters["verify.hit"] as number[]).reduce((a, b) => a + b, 0);
    expect(hits).toBeGreaterThanOrEqual(19);
    expect((await call("/admin/metrics?range=day", { token: admin.token }, app)).json.t).toHaveLength(144);
    expect((await call("/admin/metrics?range=week", { token: admin.token }, app)).status).toBe(400);
  });

  it("a new signing key is audited once as a rotation, riding the rollup's command", async () => {
    const kr = `${deps.opsKeys.keysSeen}`;
    const redis = (deps.store as unknown as { redis: { del(k: string): Promise<unknown>; hset(k: string, v: Record<string, string>): Promise<unknown> } }).redis;
    await redis.del(kr);
    await redis.hset(kr, { old: "1" });
    const since = Date.now();
    metrics.count("x");
    const rollup = new MetricsRollup({ store: deps.store, keys: deps.opsKeys, primaryKid: deps.keyRing.signerKid, auditRetentionMs: 3_600_000 });
    await resetStats(store);
    await rollup.flush();
    expect(await totalCommands(store)).toBe(1);
    metrics.count("x");
    await rollup.flush();
    const r = await call(`/admin/audit?type=key&from=${since}`, { token: admin.token }, app);
    expect(r.json.events).toHaveLength(1);
    expect(r.json.events[0]).toMatchObject({ type: "key.rotation", kid: deps.keyRing.signerKid });
  });
});

describe("rollup rows", () => {
  it("hash fields and Analytics Engine rows carry counts, sums and buckets", () => {
    const r = new MetricsRegistry();
    r.count("verify.hit", 7);
    r.observe("store", 3);
    const s = r.take();
    expect(rollupFields(s)).toEqual(["c|verify.hit", 7, "n|store", 1, "s|store", 3, `h|store|${bucketOf(3)}`, 1]);
    const rows = analyticsPoints(s);
    expect(rows[0]).toEqual({ indexes: ["verify.hit"], blobs: ["verify.hit", "counter"], doubles: [7] });
    expect(rows[1]!.doubles.slice(0, 3)).toEqual([1, 3, 3]);
    expect(rows[1]!.doubles).toHaveLength(3 + LATENCY_BOUNDS_MS.length + 1);
  });

  it("the rollup writes to a bound dataset as well as the store", async () => {
    const points: unknown[] = [];
    const dataset: AnalyticsDataset = { writeDataPoint: (p) => void points.push(p) };
    const reg = new MetricsRegistry();
    reg.count("signin.ok", 2);
    const written: unknown[][] = [];
    const store = { run: async (_s: unknown, keys: string[], args: unknown[]) => void written.push([keys, args]) } as never;
    await new MetricsRollup({ store, keys: { metrics: (p, t) => `m:${p}:${t}`, keysSeen: "kr", audit: "a", userAudit: (u) => u }, registry: reg, dataset }).flush();
    expect(points).toEqual([{ indexes: ["signin.ok"], blobs: ["signin.ok", "counter"], doubles: [2] }]);
    expect(written).toHaveLength(1);
  });

  it("series sum isolates and read percentiles", () => {
    const s = toSeries("hour", [0, 60_000], [
      ["c|verify.hit", "3", "c|verify.hit", "2", "n|store", "2", "s|store", "10", "h|store|2", "2"],
      [],
    ]);
    expect(s.counters["verify.hit"]).toEqual([5, 0]);
    expect(s.latencies.store!.p50).toEqual([5, null]);
    expect(s.latencies.store!.mean).toEqual([5, null]);
  });
});
