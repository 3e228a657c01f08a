/**
 * The embedded engine's replication ships the state writes leave behind, not the commands: after
 * scripts using randomness and TIME, SPOP, relative expiries, containers changed in place and a
 * flush, every replica holds exactly the primary's keys, values and absolute expiries. And the lag
 * line keeps changes in order whatever happens to the lag.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { Entry } from "../../src/memory/engine.ts";
import type { MemoryBackend } from "../../src/memory/index.ts";
import { LagQueue } from "../../src/replicas/lag-queue.ts";
import { memoryReplication } from "../../src/replicas/memory-replication.ts";
import type { Replication } from "../../src/replicas/types.ts";
import { sleep } from "./replicas-helpers.ts";

const open: Replication[] = [];
afterEach(async () => {
  for (const r of open.splice(0)) {
    await r.close();
    await r.primary.close();
  }
});

/** Every live key with a comparable copy of its entry. */
function dump(engine: MemoryBackend): Record<string, { type: string; value: unknown; expiresAt: number | undefined }> {
  const out: Record<string, { type: string; value: unknown; expiresAt: number | undefined }> = {};
  const db = engine.keyspace;
  for (const key of [...db.keys()].sort()) {
    const e = db.lookup(key) as Entry;
    const v = e.value as unknown;
    const value =
      v instanceof Map ? [...v].sort() : v instanceof Set ? [...v].sort() : typeof v === "object" && v !== null && "scores" in v ? [...(v as { scores: Map<string, number> }).scores].sort() : v;
    out[key] = { type: e.type, value, expiresAt: e.expiresAt };
  }
  return out;
}

describe("embedded replication", () => {
  it("streams replicate (the audit trail's type): entries, trims and deletions, and a replica never shares the primary's stream", async () => {
    const rep = memoryReplication({ regions: ["eu"] });
    open.push(rep);
    const p = rep.primary;
    for (let i = 1; i <= 5; i++) await p.command(["xadd", "audit", `${i}-0`, "event", `e${i}`]);
    await p.command(["xdel", "audit", "2-0"]);
    await p.command(["eval", "redis.call('XADD', KEYS[1], 'MINID', '3-0', '6-0', 'event', 'e6'); return 1", "1", "audit"]);
    const eu = rep.regions.get("eu")!;
    expect(await eu.waitFor(await rep.primaryOffset(), 1000)).toBe(true);
    const range = ["xrange", "audit", "-", "+"];
    expect(await eu.backend.command(range)).toEqual(await p.command(range));
    expect(await eu.backend.command(["xlen", "audit"])).toBe(4);
    // A later write on the primary is not seen through a shared object before it is shipped.
    eu.setPartitioned(true);
    await p.command(["xadd", "audit", "7-0", "event", "e7"]);
    expect(await eu.backend.command(["xlen", "audit"])).toBe(4);
  });

  it("replicas end up identical to the primary after nondeterministic writes", async () => {
    const rep = memoryReplication({ regions: ["eu", "ap"] });
    open.push(rep);
    const p = rep.primary;
    await p.command(["sadd", "s", "a", "b", "c", "d", "e"]);
    await p.command(["spop", "s", "2"]);
    await p.command(["set", "rnd", "x"]);
    await p.command(["eval", "redis.call('SET', KEYS[1], tostring(math.random()) .. ':' .. redis.call('TIME')[2]); return 1", "1", "rnd"]);
    await p.command(["set", "ttl", "v", "EX", "100"]);
    await p.command(["hset", "h", "f1", "1", "f2", "2"]);
    await p.command(["hdel", "h", "f1"]);
    await p.command(["zadd", "z", "1", "one", "2", "two"]);
    await p.command(["zincrby", "z", "5", "one"]);
    await p.pipeline([["rpush", "l", "1", "2", "3"], ["lpop", "l"], ["incr", "n"]]);
    await p.transaction([["set", "gone", "1"], ["del", "gone"], ["expire", "n", "50"]]);
    const engine = (p as unknown as { engine: MemoryBackend }).engine;
    const want = dump(engine);
    expect(Object.keys(want).sort()).toEqual(["h", "l", "n", "rnd", "s", "ttl", "z"]);
    for (const region of rep.regions.values()) {
      expect(await region.waitFor(await rep.primaryOffset(), 1000)).toBe(true);
      expect(dump(region.backend as MemoryBackend)).toEqual(want);
    }

    await p.command(["flushdb"]);
    await p.command(["set", "after-flush", "1"]);
    for (const region of rep.regions.values()) {
      expect(await region.waitFor(await rep.primaryOffset(), 1000)).toBe(true);
      expect(Object.keys(dump(region.backend as MemoryBackend))).toEqual(["after-flush"]);
    }
  });

  it("reads on the primary ship nothing; each write moves the offset", async () => {
    const rep = memoryReplication({ regions: ["eu"] });
    open.push(rep);
    await rep.primary.command(["set", "k", "1"]);
    const after = await rep.primaryOffset();
    await rep.primary.command(["get", "k"]);
    await rep.primary.pipeline([["exists", "k"], ["ttl", "k"]]);
    expect(await rep.primaryOffset()).toBe(after);
    await rep.primary.command(["incr", "k"]);
    expect(await rep.primaryOffset()).toBe(after + 1);
  });
});

describe("lag line", () => {
  it("keeps arrival order when the lag drops, holds everything while partitioned, and releases on heal", async () => {
    const got: number[] = [];
    const q = new LagQueue<number>((n) => got.push(n), { lagMs: 400 });
    q.push(1);
    await sleep(50);
    q.setLag(0); // 1 is due at once now; 2 may not overtake it anyway
    q.push(2);
    expect(got).toEqual([1, 2]);
    q.setPartitioned(true);
    q.push(3);
    q.push(4);
    await sleep(100);
    expect(got).toEqual([1, 2]);
    expect(q.backlog.items).toBe(2);
    q.setPartitioned(false);
    expect(got).toEqual([1, 2, 3, 4]);
    q.setLag(200);
    q.push(5);
    await sleep(50);
    expect(got).toHaveLength(4);
    await sleep(300);
    expect(got).toEqual([1, 2, 3, 4, 5]);
    q.close();
  });
});
