/**
 * The store scripts of device binding (issue 24), kept apart from scripts.ts: each is one
 * command, and none runs on the per-request path (binding and refresh only, plus the slide that
 * already was one `SET`).
 */
import type { StoreScript } from "./redis.js";

/**
 * Compare-and-set of a session record: writes the new record only while the stored one is
 * exactly the one read (a DBSC key is bound once, and never over a concurrent change), keeping
 * the key's TTL. KEYS: session key. ARGV: expected record, new record. Returns 1 when written.
 */
export const SWAP_RECORD: StoreScript = {
  name: "swap-record",
  source: `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
return 1
`,
};

/**
 * The sliding-expiry write (`SET … PX XX`), except that an unbound record (`[1,…`) never
 * replaces a bound one (`[2,…`): a copy read before a DBSC registration, slid later by another
 * isolate, would otherwise erase the binding and make the long-lived token usable again.
 * KEYS: session key. ARGV: record, ttl ms. Returns 1 when written.
 */
export const SLIDE_RECORD: StoreScript = {
  name: "slide-record",
  source: `
local cur = redis.call('GET', KEYS[1])
if not cur then return 0 end
if string.sub(cur, 1, 3) == '[2,' and string.sub(ARGV[1], 1, 3) ~= '[2,' then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`,
};

/**
 * A DBSC refresh's one command: the session record, and the proof's challenge marked used
 * (`SET NX` with the challenge's remaining life), so a captured proof refreshes nothing twice.
 * KEYS: session key, used-challenge key. ARGV: ttl ms of the marker.
 * Returns {0} (no session), {2} (challenge already used) or {1, record}.
 */
export const DBSC_REFRESH: StoreScript = {
  name: "dbsc-refresh",
  source: `
local record = redis.call('GET', KEYS[1])
if not record then return {0} end
if not redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[1]) then return {2} end
return {1, record}
`,
};
