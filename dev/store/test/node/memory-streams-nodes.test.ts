/**
 * Stream node layout in the embedded engine, compared with the real Redis 7 at 127.0.0.1:6379:
 * approximate trims (`~`, LIMIT) remove whole nodes, so the engine must close its nodes where
 * Redis does (100 entries, or 4096 bytes of listpack). Same commands on both sides, every reply
 * equal. Skipped with a warning when that Redis is not reachable (required in CI).
 */
import { afterAll, describe, it } from "vitest";
import { connectRedis, expectSame, keyspace } from "./differential.ts";

const redis = await connectRedis("memory-streams-nodes.test");
const { k, cleanup } = keyspace(redis, "msn");
afterAll(cleanup);

const describeDiff = redis ? describe : describe.skip;
const same = (steps: string[][]) => expectSame(redis!, steps);

/** A deterministic pseudo-random sequence (both sides must get the same commands). */
function lcg(seed: number) {
  let x = seed >>> 0;
  return (n: number) => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x % n;
  };
}

describeDiff("stream nodes, differential: approximate trims remove what Redis removes", () => {
  it("approximate trimming removes the same whole nodes as Redis (entry and byte limits, deletions)", async () => {
    const [small, big, mixed] = [k("approx:small"), k("approx:big"), k("approx:mixed")];
    const rnd = lcg(7);
    const value = () => {
      const kinds = [() => String(rnd(100)), () => String(rnd(1 << 30) - (1 << 29)), () => "x".repeat(rnd(120)), () => "9223372036854775808", () => "007", () => "é".repeat(rnd(40))];
      return kinds[rnd(kinds.length)]!();
    };
    const steps: string[][] = [];
    const look = (key: string) => steps.push(["xlen", key], ["xrange", key, "-", "+", "count", "2"], ["xrevrange", key, "+", "-", "count", "2"]);
    for (let i = 1; i <= 250; i++) steps.push(["xadd", small, `${i}-1`, "f", String(i)]);
    steps.push(["xtrim", small, "maxlen", "~", "120"]);
    look(small);
    steps.push(["xtrim", small, "maxlen", "~", "0", "limit", "99"], ["xtrim", small, "minid", "~", "240"]);
    look(small);
    steps.push(["xtrim", small, "maxlen", "~", "0"]);
    look(small);
    // Values of 300 bytes: the 4096-byte node limit comes before the 100-entry one.
    for (let i = 1; i <= 80; i++) steps.push(["xadd", big, "maxlen", "~", "20", `${i}-0`, "payload", "p".repeat(300), "n", String(i)]);
    look(big);
    // Different field sets, integer-looking values, large and negative ID deltas, deletions.
    const ids: string[] = [];
    for (let i = 1; i <= 400; i++) {
      const fields = rnd(3) === 0 ? ["other", value()] : ["a", value(), "b", value()];
      ids.push(`${i * 1_000_003 + (i > 200 ? 2 ** 33 : 0)}-${rnd(3) === 0 ? rnd(5) : 2 ** 20 + rnd(100)}`);
      steps.push(["xadd", mixed, ids[i - 1]!, ...fields]);
      if (i % 7 === 0) steps.push(["xdel", mixed, `${(i - 3) * 1_000_003}-${rnd(5)}`]);
    }
    look(mixed);
    for (let i = 0; i < 60; i++) steps.push(["xdel", mixed, ids[i]!]);
    steps.push(["xtrim", mixed, "minid", "~", ids[130]!]);
    look(mixed);
    steps.push(["xtrim", mixed, "maxlen", "~", "150", "limit", "30"], ["xtrim", mixed, "maxlen", "~", "150", "limit", "0"]);
    look(mixed);
    steps.push(["xadd", mixed, "minid", "~", ids[300]!, "limit", "1000", `${2 ** 40}-0`, "a", "1", "b", "2"]);
    look(mixed);
    await same(steps);
  });

  it("node sizes agree byte for byte around the listpack encoding boundaries", async () => {
    // Values whose encoded size crosses a boundary (6-bit/12-bit string length, 1/2-byte
    // back-length): one byte more or less per entry moves the node boundary, which a `~` trim
    // of all but the last entry reveals.
    const steps: string[][] = [];
    // Field names of 1 to 55 bytes move where the boundary falls, so it cannot hide in slack.
    for (const len of [62, 63, 64, 65, 125, 126, 127, 128]) {
      for (const field of ["v", "v".repeat(19), "v".repeat(37), "v".repeat(55)]) {
        const key = k(`bytes:${len}:${field.length}`);
        for (let i = 1; i <= 60; i++) steps.push(["xadd", key, `${i}-0`, field, "y".repeat(len)]);
        steps.push(["xdel", key, "2-0"], ["xtrim", key, "maxlen", "~", "1"], ["xlen", key]);
      }
    }
    await same(steps);
  });
});
