/** Streams in the embedded engine, engine-only: generated IDs against an injected clock, expiry, SCAN TYPE. */
import { describe, expect, it } from "vitest";
import { MemoryBackend } from "../../src/memory/index.ts";

describe("streams: engine-only", () => {
  const setup = () => {
    const clock = { now: 1_000 };
    return { clock, m: new MemoryBackend({ now: () => clock.now }) };
  };

  it("generated IDs follow the clock and never go back", async () => {
    const { clock, m } = setup();
    const add = (id: string) => m.command(["xadd", "s", id, "f", "v"]);
    expect(await add("*")).toBe("1000-0");
    expect(await add("*")).toBe("1000-1");
    clock.now = 999;
    expect(await add("*")).toBe("1000-2");
    clock.now = 2_000;
    expect(await add("*")).toBe("2000-0");
    expect(await add("2000-*")).toBe("2000-1");
    await expect(add("1500-*")).rejects.toThrow("ERR The ID specified in XADD is equal or smaller than the target stream top item");
    expect(await add("3000-*")).toBe("3000-0");
    expect(await m.command(["eval", "return redis.call('xadd', KEYS[1], '*', 'f', 'v')", "1", "s"])).toBe("3000-1");
    await m.close();
  });

  it("a stream key expires like any other, and SCAN TYPE finds streams", async () => {
    const { clock, m } = setup();
    await m.command(["xadd", "audit", "1-1", "f", "v"]);
    await m.command(["set", "str", "v"]);
    await m.command(["hset", "h", "f", "v"]);
    expect(await m.command(["scan", "0", "type", "stream"])).toEqual(["0", ["audit"]]);
    expect(await m.command(["pexpire", "audit", "100"])).toBe(1);
    clock.now += 100;
    expect(await m.command(["xlen", "audit"])).toBe(1);
    clock.now += 1;
    expect(await m.command(["xlen", "audit"])).toBe(0);
    expect(await m.command(["type", "audit"])).toBe("none");
    expect(await m.command(["scan", "0", "type", "stream"])).toEqual(["0", []]);
    // A new stream under that name starts again from 0-0.
    expect(await m.command(["xadd", "audit", "1-1", "f", "v"])).toBe("1-1");
    await m.close();
  });
});
