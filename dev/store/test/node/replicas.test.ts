/**
 * Replicated mode through the real @upstash/redis client: a write made at one region's endpoint
 * reaches another region after that region's lag and not before; a partition keeps a replica
 * stale until the heal; writes (scripts, pipelines, transactions with a write) go to the primary.
 * Embedded backend, or REDIS_URL's Redis with spawned replicas behind the lag proxy.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { StoreServer } from "../../src/server.ts";
import { client, newPrefix, raw, sleep, startReplicated, stop, until } from "./replicas-helpers.ts";

const prefix = newPrefix("replicas-test");
let store: StoreServer;
let eu: string;
let ap: string;

beforeAll(async () => {
  store = await startReplicated(["eu", "ap"]);
  [eu, ap] = ["eu", "ap"].map((n) => store.regions.find((r) => r.name === n)!.url) as [string, string];
});
afterAll(() => stop(store, prefix));
afterEach(async () => {
  for (const name of ["eu", "ap"]) await store.setRegion(name, { lagMs: 0, heal: true });
});

describe("lag", () => {
  it("a write at eu is not visible at ap at L/2 for L = 2 s, and is within L + 1 s", async () => {
    await store.setRegion("ap", { lagMs: 2000 });
    const writer = client(eu, { readYourWrites: false });
    const reader = client(ap, { readYourWrites: false });
    const key = `${prefix}lag`;
    const wroteAt = Date.now();
    await writer.set(key, "v1");
    await sleep(1000 - (Date.now() - wroteAt));
    expect(await reader.get(key)).toBeNull();
    // The primary has it all along: the region alone is behind.
    expect(await client(store.url, { readYourWrites: false }).get(key)).toBe("v1");
    const waited = await until(() => reader.get(key), "v1", 3000 - (Date.now() - wroteAt));
    expect(waited).not.toBeNull();
    const seenAfter = Date.now() - wroteAt;
    expect(seenAfter).toBeLessThanOrEqual(3000 + 100);
    expect(seenAfter).toBeGreaterThanOrEqual(1500);
  });

  it("with L = 0 a write is visible in every region at once (within 1 s)", async () => {
    const key = `${prefix}zero`;
    await client(ap, { readYourWrites: false }).set(key, 7);
    for (const url of [eu, ap]) expect(await until(() => client(url, { readYourWrites: false }).get(key), 7, 1000)).not.toBeNull();
  });

  it("a lag change applies to changes already waiting (2 s → 0 releases them)", async () => {
    await store.setRegion("eu", { lagMs: 2000 });
    const key = `${prefix}relag`;
    await client(ap, { readYourWrites: false }).set(key, "x");
    await sleep(200);
    expect(await client(eu, { readYourWrites: false }).get(key)).toBeNull();
    await store.setRegion("eu", { lagMs: 0 });
    expect(await until(() => client(eu, { readYourWrites: false }).get(key), "x", 700)).not.toBeNull();
  });
});

describe("partition and heal", () => {
  it("a partitioned region stays stale (1.5 s, more than any lag here) and catches up on heal", async () => {
    const key = `${prefix}part`;
    const euc = client(eu, { readYourWrites: false });
    await client(ap, { readYourWrites: false }).set(key, "before");
    expect(await until(() => euc.get(key), "before", 1000)).not.toBeNull();
    await store.setRegion("eu", { partition: true });
    await client(ap, { readYourWrites: false }).set(key, "after");
    await client(ap, { readYourWrites: false }).hset(`${prefix}part-h`, { a: 1 });
    await sleep(1500);
    expect(await euc.get(key)).toBe("before");
    expect(await euc.hgetall(`${prefix}part-h`)).toBeNull();
    expect(await client(ap, { readYourWrites: false }).get(key)).toBe("after");
    const held = await store.regionStatus("eu");
    expect(held.partitioned).toBe(true);
    expect(held.appliedOffset).toBeLessThan(held.primaryOffset);
    expect(held.backlog.items).toBeGreaterThan(0);

    await store.setRegion("eu", { heal: true });
    expect(await until(() => euc.get(key), "after", 1000)).not.toBeNull();
    expect(await euc.hgetall(`${prefix}part-h`)).toEqual({ a: 1 });
    const healed = await store.regionStatus("eu");
    expect(healed.partitioned).toBe(false);
    expect(healed.backlog.items).toBe(0);
    expect(healed.appliedOffset).toBeGreaterThanOrEqual(held.primaryOffset);
  });
});

describe("routing", () => {
  it("reads at a region are served by its replica, writes by the primary", async () => {
    const key = `${prefix}route`;
    const w = await raw(eu, ["set", key, "r"]);
    expect(w.servedBy).toBe("primary");
    expect(Number(w.syncToken)).toBeGreaterThan(0);
    const r = await raw(eu, ["get", key], { "upstash-sync-token": w.syncToken! });
    expect(r.servedBy).toBe("replica:eu");
    expect(r.json.result).toBe("r");
    expect(Number(r.syncToken)).toBeGreaterThanOrEqual(Number(w.syncToken));
  });

  it("a pipeline or transaction with one write goes to the primary as a whole; all-read pipelines to the replica", async () => {
    await store.setRegion("eu", { partition: true });
    const key = `${prefix}batch`;
    const p = await raw(eu, [["get", key], ["incr", key]], {}, "/pipeline");
    expect(p.servedBy).toBe("primary");
    expect(p.json).toEqual([{ result: null }, { result: 1 }]);
    const m = await raw(eu, [["incr", key], ["get", key]], {}, "/multi-exec");
    expect(m.servedBy).toBe("primary");
    expect(m.json).toEqual([{ result: 2 }, { result: "2" }]);
    const reads = await raw(eu, [["get", key], ["exists", key]], {}, "/pipeline");
    expect(reads.servedBy).toBe("replica:eu");
    expect(reads.json).toEqual([{ result: null }, { result: 0 }]); // partitioned: the replica never saw the writes
  });

  it("EVAL goes to the primary even when the script only reads", async () => {
    await store.setRegion("eu", { partition: true });
    const key = `${prefix}script`;
    await client(ap, { readYourWrites: false }).set(key, "fresh");
    const viaEu = client(eu, { readYourWrites: false });
    expect(await viaEu.eval("return redis.call('GET', KEYS[1])", [key], [])).toBe("fresh");
    expect(await viaEu.eval("return redis.call('SET', KEYS[1], ARGV[1])", [key], ["scripted"])).toBe("OK");
    expect(await client(store.url, { readYourWrites: false }).get(key)).toBe("scripted");
    expect(await viaEu.get(key)).toBeNull();
  });
});
