/**
 * Compact record times: times are stored as `createdAt` plus offsets. Each
 * stored number is checked to be finite, but their sums were not: two finite numbers can add up
 * to Infinity (a session that never expires in code, ASVS 7.3.2) or to a time no Date can hold
 * (`new Date(t).toISOString()` throws: the session list answers 500). A hostile or corrupt record
 * must decode to null (fail closed), like any other malformed one.
 */
import { describe, expect, it } from "vitest";
import { decodeRecord } from "../../src/session/record.js";
import { sessionView } from "../../src/worker/routes/views.js";

const rec = (c: number, l: number, i: number, a: number) => JSON.stringify([1, "u1", "u1@example.test", [], c, l, i, a, "", ""]);

describe("decodeRecord: times that are not times", () => {
  it("offsets whose sum overflows to Infinity decode to null (else the session never expires)", () => {
    expect(decodeRecord("s", rec(1e308, 0, 1e308, 1e308))).toBeNull();
    expect(decodeRecord("s", rec(-1e308, -1e308, 0, 0))).toBeNull();
  });

  it("times beyond what a Date can hold decode to null (else listing sessions throws)", () => {
    const raw = rec(8e15, 0, 8e15, 8e15);
    const s = decodeRecord("s", raw);
    if (s) expect(() => sessionView(s)).not.toThrow();
    expect(s).toBeNull();
  });

  it("an ordinary record still decodes", () => {
    const now = Date.now();
    expect(decodeRecord("s", rec(now, 1000, 1_800_000, 43_200_000))?.expiresAt).toBe(now + 43_200_000);
  });
});
