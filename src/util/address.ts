/**
 * The client's address (`CF-Connecting-IP`), validated, and the group per-address limits key
 * on. One IPv4 address is one group; IPv6 is grouped by /64, the smallest block a single
 * subscriber is normally given (RFC 6177): keying on the /128 would give anyone holding a /64
 * 2^64 fresh buckets. IPv4-mapped IPv6 (`::ffff:192.0.2.1`) is the IPv4 address.
 *
 * Pure: the HTTP answer to a missing or malformed address is the caller's (see
 * `middleware/client-address.ts`).
 */

export type ClientAddress =
  | { ok: true; address: string; group: string }
  | { ok: false; reason: "client_address_missing" | "client_address_invalid" };

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const HEXTET = /^[0-9a-fA-F]{1,4}$/;

/** Longest textual IPv6 address (with an embedded IPv4 tail). */
const MAX_LENGTH = 45;

function ipv4Words(s: string): number[] | null {
  if (!IPV4.test(s)) return null;
  const b = s.split(".").map(Number);
  return [(b[0]! << 8) | b[1]!, (b[2]! << 8) | b[3]!];
}

/** Eight 16-bit words, or null. No zone ids, no brackets, at most one `::`. */
export function parseIPv6(s: string): number[] | null {
  if (s.length > MAX_LENGTH || !s.includes(":")) return null;
  const halves = s.split("::");
  if (halves.length > 2) return null;
  const side = (part: string, allowV4Tail: boolean): number[] | null => {
    if (part === "") return [];
    const words: number[] = [];
    const pieces = part.split(":");
    for (let i = 0; i < pieces.length; i++) {
      const p = pieces[i]!;
      if (allowV4Tail && i === pieces.length - 1 && p.includes(".")) {
        const v4 = ipv4Words(p);
        if (!v4) return null;
        words.push(...v4);
      } else if (HEXTET.test(p)) words.push(parseInt(p, 16));
      else return null;
    }
    return words;
  };
  if (halves.length === 1) {
    const words = side(halves[0]!, true);
    return words && words.length === 8 ? words : null;
  }
  const head = side(halves[0]!, false);
  const tail = side(halves[1]!, true);
  if (!head || !tail || head.length + tail.length > 7) return null;
  return [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
}

/** Validates `raw` and names its group: `4:<a.b.c.d>` or `6:<first four words>::/64`. */
export function clientAddress(raw: string | null | undefined): ClientAddress {
  if (raw === null || raw === undefined || raw === "") return { ok: false, reason: "client_address_missing" };
  const s = raw.trim();
  if (IPV4.test(s)) return { ok: true, address: s, group: `4:${s}` };
  const w = parseIPv6(s);
  if (!w) return { ok: false, reason: "client_address_invalid" };
  if (w[0] === 0 && w[1] === 0 && w[2] === 0 && w[3] === 0 && w[4] === 0 && w[5] === 0xffff) {
    const v4 = `${w[6]! >> 8}.${w[6]! & 255}.${w[7]! >> 8}.${w[7]! & 255}`;
    return { ok: true, address: v4, group: `4:${v4}` };
  }
  return { ok: true, address: s.toLowerCase(), group: `6:${w.slice(0, 4).map((n) => n.toString(16)).join(":")}::/64` };
}
