/**
 * The revocation bound across regions (issue 21), the short sweep: the local store's replicated
 * mode (a primary and the regions eu and ap), one worker per region sharing one Durable Object
 * namespace. Sessions are signed in and revoked in ap while eu — whose replica lags by L —
 * verifies them and holds a socket for each. Ten sessions per L; the full sweep (50 per point)
 * is `npm run bench -- global`.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StoreServer } from "@edge-session/local-store";
import { startGlobalCluster, type GlobalCluster } from "../../bench/global/cluster.ts";
import { commandsPerMiss } from "../../bench/global/costs.ts";
import { globalBindings, startRegions, STATED_BOUND_MS } from "../../bench/global/run.ts";
import { sweep } from "../../bench/global/sweep.ts";

let store: StoreServer;
let cluster: GlobalCluster;
const prefix = `testg:${randomBytes(4).toString("hex")}:`;
/** The machine is shared: timings get a wide margin; the invariant (no grant after the bound) gets none. */
const MARGIN_MS = 1500;

beforeAll(async () => {
  store = await startRegions();
  cluster = await startGlobalCluster({ store, bindings: globalBindings(prefix, "2 s") });
}, 120_000);

afterAll(async () => {
  await cluster?.dispose();
  await store?.close();
});

describe("the HTTP revocation bound holds at every replication lag", () => {
  it("L = 0, 250 ms, 2 s and a partition: refused within SESSION_CACHE_TTL + STORE_FRESHNESS_BOUND, sockets closed, never a grant after", { timeout: 240_000 }, async () => {
    const points = await sweep({ cluster, store, from: "ap", to: "eu", lags: [0, 250, 2000, "partition"], sessionsPerPoint: 10, parallel: 5, boundMs: STATED_BOUND_MS });
    for (const p of points) {
      expect({ lag: p.lag, grantsAfterBound: p.grantsAfterBound, neverRefused: p.neverRefused, closesMissed: p.closesMissed }).toEqual({ lag: p.lag, grantsAfterBound: 0, neverRefused: 0, closesMissed: 0 });
      expect(p.httpRevocationMs.n).toBe(10);
      expect(p.httpRevocationMs.max!).toBeLessThanOrEqual(STATED_BOUND_MS + MARGIN_MS);
      // The primary stayed reachable: refusals are 401s (revoked), not 503s.
      expect(Object.keys(p.refusals)).toEqual(["401"]);
      expect(p.socketCloseMs!.max!).toBeLessThanOrEqual(STATED_BOUND_MS);
    }
    // Past the bound the replica is stale: eu's verifier read the primary instead (and said so).
    const slow = points.filter((p) => p.lag === "2000" || p.lag === "partition");
    for (const p of slow) expect(p.staleReadsPerMinute).toBeGreaterThan(0);
    expect(points.find((p) => p.lag === "partition")!.maxStalenessMs!).toBeGreaterThan(2000);
  });

  it("a verified request on a cache miss at a fresh replica costs one store command (MGET)", { timeout: 60_000 }, async () => {
    const r = await commandsPerMiss({ cluster, store, from: "ap", to: "eu", n: 10 });
    expect(r.verified).toBe(10);
    expect(r.commands).toEqual({ MGET: 10 });
    expect(r.perMiss).toBe(1);
  });
});

describe("attack: a partitioned replica still holding a revoked session", () => {
  it("without the freshness check the revoked token keeps working past the bound (the check is what holds it)", { timeout: 120_000 }, async () => {
    const off = await startGlobalCluster({ store, bindings: globalBindings(`${prefix}off:`, "off") });
    try {
      const [p] = await sweep({ cluster: off, store, from: "ap", to: "eu", lags: ["partition"], sessionsPerPoint: 3, parallel: 3, boundMs: STATED_BOUND_MS, sockets: false });
      expect(p!.grantsAfterBound).toBeGreaterThan(0);
      expect(p!.neverRefused).toBe(3);
      expect(p!.refusals).toEqual({});
    } finally {
      await off.dispose();
    }
  });
});
