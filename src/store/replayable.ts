/**
 * Lua building blocks shared by the session scripts (scripts.ts): the revocation mark, and the
 * recorded reply that makes a script safe to run twice (the client's retry after a lost reply).
 */
import type { StoreScript } from "./redis.js";

/**
 * Revocation marks: each ended session leaves `<mark prefix><id>` = the primary's time (ms) for a
 * short while, read with the session record on a miss (one MGET), so a verifier that refuses a
 * token can say how long after its revocation it did (session/freshness.ts). Not part of any
 * decision: a mark missing or expired changes nothing but a measurement.
 */
export const MARK = `
local function mark(prefix, id, ttl)
  if prefix == '' then return end
  local t = redis.call('TIME')
  redis.call('SET', prefix .. id, tostring(tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)), 'PX', ttl)
end
`;

/** How long a revocation mark and a recorded reply are kept (ms). */
export const MARK_TTL_MS = 60_000;

/**
 * A script whose reply (a flat array) is recorded under an operation key, KEYS[opKey], so a
 * second run — the client re-sending after a `fetch` that failed once the first had reached
 * Redis — answers what the first did and changes nothing (nor appends an audit event: the body
 * does not run). The operation key sits at a fixed index, after the script's own keys and before
 * the audit streams (audit-lua.ts), which are present only when the trail is on. The caller
 * passes a fresh random operation id per call (keys.op()). Replies come back as strings on a
 * replay: callers read numbers with Number(). An error reply (a refused audit stream) is
 * returned as it is and recorded nowhere: nothing was changed.
 */
export function replayable(name: string, prelude: string, body: string, opKey: number): StoreScript {
  return {
    name,
    retrySafe: true,
    source: `${prelude}
local OP = KEYS[${opKey}]
local prior = redis.call('LRANGE', OP, 0, -1)
if #prior > 0 then return prior end
local function body()
${body}
end
local reply = body()
if reply.err then return reply end
redis.call('RPUSH', OP, unpack(reply))
redis.call('PEXPIRE', OP, ${MARK_TTL_MS})
return reply
`,
  };
}
