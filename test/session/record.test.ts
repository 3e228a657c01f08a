import { describe, expect, it } from "vitest";
import { describeDevice, MAX_DEVICE } from "../../src/session/device.js";
import { decodeRecord, encodeRecord, type Session } from "../../src/session/record.js";

const session: Session = {
  id: "AAAAAAAAAAAAAAAAAAAAAA",
  userId: "u_3f9a1c2b7d6e5f4a3b2c1d",
  email: "ada@example.com",
  roles: ["user", "admin"],
  createdAt: 1_764_500_000_123,
  lastSeenAt: 1_764_500_060_456,
  idleExpiresAt: 1_764_501_860_456,
  expiresAt: 1_764_543_200_123,
  device: "Chrome 136 on macOS",
  ip: "2001:db8::1",
};

describe("session record", () => {
  it("round-trips every field, with and without application data", () => {
    expect(decodeRecord(session.id, encodeRecord(session))).toEqual(session);
    const withData = { ...session, data: { tenant: "t1", n: 2 } };
    expect(decodeRecord(session.id, encodeRecord(withData))).toEqual(withData);
  });

  it("stays compact: a typical record is under 140 bytes", () => {
    expect(encodeRecord(session).length).toBeLessThan(140);
  });

  it("decodes anything malformed, foreign or of another format to null (fail closed)", () => {
    const good = JSON.parse(encodeRecord(session)) as unknown[];
    const variants: (string | null)[] = [
      null,
      "",
      "not json",
      "{}",
      "[]",
      "null",
      '"string"',
      JSON.stringify({ u: "x", e: "y", r: [], c: 1, l: 1, i: 1, a: 1 }), // an object, not the array form
      JSON.stringify([2, ...good.slice(1)]), // unknown format version
      JSON.stringify(good.slice(0, 9)), // too short
      JSON.stringify([...good, {}, "extra"]), // too long
      JSON.stringify(good.map((v, i) => (i === 1 ? 42 : v))), // userId not a string
      JSON.stringify(good.map((v, i) => (i === 3 ? ["user", 1] : v))), // a role not a string
      JSON.stringify(good.map((v, i) => (i === 6 ? "1800000" : v))), // an offset not a number
    ];
    for (const raw of variants) expect(decodeRecord(session.id, raw), String(raw)).toBeNull();
  });
});

describe("describeDevice", () => {
  it.each([
    ["Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/136.0.0.0 Safari/537.36", "Chrome 136 on macOS"],
    ["Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/136.0.0.0 Safari/537.36 Edg/136.0.0.0", "Edge 136 on Windows"],
    ["Mozilla/5.0 (X11; Linux x86_64; rv:139.0) Gecko/20100101 Firefox/139.0", "Firefox 139 on Linux"],
    ["Mozilla/5.0 (iPhone; CPU iPhone OS 18_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.5 Mobile/15E148 Safari/604.1", "Safari 18 on iOS"],
    ["Mozilla/5.0 (Linux; Android 15; Pixel 9) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/136.0.0.0 Mobile Safari/537.36", "Chrome 136 on Android"],
    ["Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/139.0.0.0 Safari/537.36", "Headless Chrome 139 on Linux"],
    ["curl/8.14.1", "curl 8.14"],
    ["node", "Node.js"],
    ["TestBrowser/1.0", "TestBrowser/1.0"],
    ["", ""],
  ])("%s → %s", (ua, label) => {
    expect(describeDevice(ua)).toBe(label);
  });

  it("is bounded whatever the header", () => {
    expect(describeDevice("x".repeat(100_000)).length).toBeLessThanOrEqual(MAX_DEVICE);
    expect(describeDevice(`Mozilla/5.0 ${"(".repeat(50_000)} Chrome/1`).length).toBeLessThanOrEqual(MAX_DEVICE);
    expect(describeDevice(null)).toBe("");
  });
});
