/**
 * One place for the operators' figures: the revocation lags and the replica-freshness figures
 * (session/freshness.ts) are recorded into the isolate's metrics registry as well as their own
 * snapshot, so the rollup carries them and the console charts them (`revocation.close`,
 * `revocation.refusal`, `replica.*`, `clock.*`). A revocation that closes a real room socket
 * records its lag there.
 */
import { describe, expect, it } from "vitest";
import { freshnessMetrics, FreshnessMetrics } from "../../src/session/freshness.js";
import { metrics, MetricsRegistry } from "../../src/metrics/registry.js";
import { toSeries } from "../../src/metrics/read.js";
import { rollupFields } from "../../src/metrics/rollup.js";
import { call, register } from "../helpers/http.js";
import { open, ticketFor, upgrade, within } from "../helpers/ws.js";

describe("freshness figures in the metrics registry", () => {
  it("every figure is recorded into the sink by its metric name", () => {
    const sink = new MetricsRegistry();
    const f = new FreshnessMetrics(sink);
    f.replicaRead(120, true);
    f.replicaRead(null, false);
    f.replicaRead(3500, false);
    f.confirmRead();
    f.staleRefusal();
    f.revocationToRefusal(800);
    f.revocationToClose(40);
    f.clockBeat(true);
    f.clockBeat(false);
    const s = sink.take();
    expect(s.counters).toEqual({
      "replica.fresh": 1,
      "replica.stale": 2,
      "replica.clock_missing": 1,
      "replica.confirm": 1,
      "replica.stale_refusal": 1,
      "clock.beat": 1,
      "clock.failed": 1,
    });
    expect(s.latencies["replica.staleness"]).toMatchObject({ n: 2, sum: 3620, max: 3500 });
    expect(s.latencies["revocation.refusal"]).toMatchObject({ n: 1, sum: 800 });
    expect(s.latencies["revocation.close"]).toMatchObject({ n: 1, sum: 40 });
    // The snapshot of its own is kept as before.
    expect(f.snapshot()).toMatchObject({ replicaReads: 3, freshReads: 1, staleReads: 2, clockMissing: 1, clockBeats: 2, clockFailures: 1 });
  });

  it("an instance without a sink records nowhere else; the isolate's records into the isolate's registry", () => {
    metrics.take();
    new FreshnessMetrics().revocationToRefusal(500);
    expect(metrics.take().latencies["revocation.refusal"]).toBeUndefined();
    freshnessMetrics.revocationToRefusal(700);
    const s = metrics.take();
    expect(s.latencies["revocation.refusal"]).toMatchObject({ n: 1, sum: 700 });
    // …and reaches the console's series through the rollup's fields.
    const series = toSeries("hour", [0], [rollupFields(s)]);
    expect(series.latencies["revocation.refusal"]!.n).toEqual([1]);
    expect(series.latencies["revocation.refusal"]!.p50[0]).toBe(1000);
  });
});

describe("a revocation closing a live socket", () => {
  it("records its revocation-to-close lag once, in the registry", async () => {
    const u = await register();
    const res = await upgrade(`/ws?room=lag${Date.now().toString(36)}&token=${await ticketFor(u.token)}`);
    expect(res.status).toBe(101);
    const s = open(res);
    await s.next();
    metrics.take();
    expect((await call("/auth/logout", { method: "POST", token: u.token })).status).toBe(204);
    expect((await within(s.closed, 3000, "close")).code).toBe(4401);
    const lag = metrics.take().latencies["revocation.close"];
    expect(lag?.n).toBe(1);
    expect(lag!.max).toBeLessThan(5000);
  });
});
