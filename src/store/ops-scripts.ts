/**
 * The operators' Lua scripts: the per-minute metrics rollup and the reads behind the admin
 * console (metrics, audit trail). Kept apart from scripts.ts, whose scripts change sessions and
 * accounts; the audit appends those make live with them there (AUDIT_LUA).
 */
import type { StoreScript } from "./redis.js";

/**
 * Adds one isolate's counts to the minute's and the ten minutes' hashes, and notes the signing
 * key this isolate uses: a key never seen before is a rotation, appended to the audit stream.
 * One command per isolate per rollup interval, whatever the traffic.
 * KEYS: minute hash, ten-minute hash, seen-keys hash ('' = skip), audit stream ('' = no audit).
 * ARGV: minute ttl ms, ten-minute ttl ms, primary kid, now ms, audit MINID, then field, increment, ….
 * Returns 1 when the key was new.
 */
export const METRICS_ROLLUP: StoreScript = {
  name: "metrics-rollup",
  source: `
for i = 6, #ARGV - 1, 2 do
  redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1])
  redis.call('HINCRBY', KEYS[2], ARGV[i], ARGV[i + 1])
end
if #ARGV >= 7 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  redis.call('PEXPIRE', KEYS[2], ARGV[2])
end
if KEYS[3] ~= '' and redis.call('HSETNX', KEYS[3], ARGV[3], ARGV[4]) == 1 then
  if KEYS[4] ~= '' and redis.call('HLEN', KEYS[3]) > 1 then
    redis.call('XADD', KEYS[4], 'MINID', '~', ARGV[5], '*', 'type', 'key.rotation', 'kid', ARGV[3])
  end
  return 1
end
return 0
`,
};

/** KEYS: the rollup hashes to read, oldest first. Returns {flat HGETALL, …} in the same order. */
export const READ_METRICS: StoreScript = {
  name: "read-metrics",
  source: `
local out = {}
for i = 1, #KEYS do out[i] = redis.call('HGETALL', KEYS[i]) end
return out
`,
};

/**
 * The newest audit entries between two times, newest first.
 * KEYS: the stream (global or one user's). ARGV: end id ('+' or ms), start id ('-' or ms), count.
 * Returns {{id, {field, value, …}}, …}.
 */
export const READ_AUDIT: StoreScript = {
  name: "read-audit",
  source: `
return redis.call('XREVRANGE', KEYS[1], ARGV[1], ARGV[2], 'COUNT', ARGV[3])
`,
};
