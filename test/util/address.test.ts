import { describe, expect, it } from "vitest";
import { clientAddress, parseIPv6 } from "../../src/util/address.js";

describe("clientAddress", () => {
  it("IPv4: the address is the group", () => {
    expect(clientAddress("203.0.113.7")).toEqual({ ok: true, address: "203.0.113.7", group: "4:203.0.113.7" });
  });

  it("IPv6: grouped by /64, whatever the spelling", () => {
    const a = clientAddress("2001:db8:1:2:3:4:5:6");
    const b = clientAddress("2001:0DB8:0001:0002:ffff::");
    const c = clientAddress("2001:db8:1:2::1");
    expect(a.ok && b.ok && c.ok).toBe(true);
    if (a.ok && b.ok && c.ok) {
      expect(a.group).toBe("6:2001:db8:1:2::/64");
      expect(b.group).toBe(a.group);
      expect(c.group).toBe(a.group);
      expect(clientAddress("2001:db8:1:3::1")).toMatchObject({ group: "6:2001:db8:1:3::/64" });
    }
  });

  it("IPv4-mapped IPv6 is the IPv4 address", () => {
    expect(clientAddress("::ffff:198.51.100.4")).toMatchObject({ ok: true, group: "4:198.51.100.4" });
    expect(clientAddress("::ffff:c633:6404")).toMatchObject({ ok: true, group: "4:198.51.100.4" });
  });

  it("parses the compressed forms", () => {
    expect(parseIPv6("::")).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(parseIPv6("::1")).toEqual([0, 0, 0, 0, 0, 0, 0, 1]);
    expect(parseIPv6("1::")).toEqual([1, 0, 0, 0, 0, 0, 0, 0]);
    expect(parseIPv6("1:2:3:4:5:6:1.2.3.4")).toEqual([1, 2, 3, 4, 5, 6, 0x102, 0x304]);
  });
});

describe("attack: fresh rate-limit buckets from address spellings and junk CF-Connecting-IP values", () => {
  it.each([
    "",
    "unknown",
    "localhost",
    "203.0.113",
    "203.0.113.256",
    "203.0.113.07",
    " 203.0.113.7x",
    "2001:db8:1:2:3:4",
    "2001:db8:1:2:3:4:5:6:7",
    "2001:db8::1::2",
    "2001:db8::1%eth0",
    "[2001:db8::1]",
    "2001:db8:::1",
    "12345::1",
    "1:2:3:4:5:6:7:1.2.3.4",
    "::ffff:1.2.3",
    "i".repeat(4096),
    "203.0.113.7, 10.0.0.1",
  ])("%j is refused", (raw) => {
    const r = clientAddress(raw);
    expect(r.ok).toBe(false);
  });

  it("a missing header is named as missing, not as invalid", () => {
    expect(clientAddress(undefined)).toEqual({ ok: false, reason: "client_address_missing" });
    expect(clientAddress("nonsense")).toEqual({ ok: false, reason: "client_address_invalid" });
  });
});
