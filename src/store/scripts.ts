/**
 * Every Lua script this product runs, sessions and accounts: the Redis-specific half of the store
 * seam (see redis.ts). The session writes must stay consistent: each runs atomically in Redis, so a
 * login, a logout and a "sign out everywhere" racing each other always leave the per-user
 * index and the session keys in agreement (no orphans, no missing entries, the cap held).
 *
 * The per-user index is a sorted set: member = session id, score = createdAt (oldest first).
 */
import type { StoreScript } from "./redis.js";
import { MARK, replayable } from "./replayable.js";

export { MARK_TTL_MS } from "./replayable.js";

/** Entries whose session key is gone (idle-expired, revoked) are pruned from the index. */
const PRUNE = `
local function prune(index, prefix, keep)
  local members = redis.call('ZRANGE', index, 0, -1)
  for _, m in ipairs(members) do
    if m ~= keep and redis.call('EXISTS', prefix .. m) == 0 then redis.call('ZREM', index, m) end
  end
end
`;

/**
 * Creates a session; for a password change, also replaces the password hash and bumps the
 * credential version in the same atomic step, so the change, the end of every other session
 * and the new session happen together or not at all (ASVS 7.4.3): a store fault cannot leave
 * a changed password with the old sessions alive.
 * KEYS: session key, user index, account key, operation key (replayable()).
 * ARGV: session id, record, ttl ms, createdAt, max sessions, session prefix, index ttl ms,
 *       expected credential version ('' = no account check), end all others first ('1'/'0'),
 *       new password hash ('' = no change), new credential version, mark prefix ('' = none),
 *       mark ttl ms.
 * Returns {1, ended ids…} or {0, 'disabled'|'stale'}.
 */
export const CREATE_SESSION: StoreScript = replayable(
  "create-session",
  `${PRUNE}${MARK}`,
  `local acct = redis.call('HMGET', KEYS[3], 'ver', 'disabled')
if acct[2] == '1' then return {0, 'disabled'} end
if ARGV[8] ~= '' and acct[1] ~= ARGV[8] then return {0, 'stale'} end
if ARGV[10] ~= '' then
  if ARGV[8] == '' then return {0, 'stale'} end
  redis.call('HSET', KEYS[3], 'hash', ARGV[10], 'ver', ARGV[11])
end
local ended = {1}
if ARGV[9] == '1' then
  local members = redis.call('ZRANGE', KEYS[2], 0, -1)
  for _, m in ipairs(members) do
    if redis.call('DEL', ARGV[6] .. m) == 1 then
      ended[#ended + 1] = m
      mark(ARGV[12], m, ARGV[13])
    end
  end
  redis.call('DEL', KEYS[2])
else
  prune(KEYS[2], ARGV[6], '')
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
local over = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[5])
if over > 0 then
  local oldest = redis.call('ZRANGE', KEYS[2], 0, over - 1)
  for _, m in ipairs(oldest) do
    redis.call('DEL', ARGV[6] .. m)
    redis.call('ZREM', KEYS[2], m)
    ended[#ended + 1] = m
    mark(ARGV[12], m, ARGV[13])
  end
end
local ttl = redis.call('PTTL', KEYS[2])
if ttl < tonumber(ARGV[7]) then redis.call('PEXPIRE', KEYS[2], ARGV[7]) end
return ended
`,
);

/**
 * Ends one session. A second run changes nothing (retry-safe), though it answers 0: the session
 * was no longer live when it ran.
 * KEYS: session key, user index. ARGV: session id, mark prefix ('' = none), mark ttl ms.
 * Returns 1 when it existed.
 */
export const END_SESSION: StoreScript = {
  name: "end-session",
  retrySafe: true,
  source: `${MARK}
redis.call('ZREM', KEYS[2], ARGV[1])
local n = redis.call('DEL', KEYS[1])
if n == 1 then mark(ARGV[2], ARGV[1], ARGV[3]) end
return n
`,
};

/**
 * Ends every session of a user except `keep`. With a `keep`, only while `keep` itself is live,
 * checked in the same atomic step: a request authenticated by a session that has ended since (a
 * password change, a logout, an admin) must not go on to end the sessions created after it.
 * KEYS: user index, operation key (replayable()). ARGV: session prefix, keep ('' = none),
 * mark prefix, mark ttl ms.
 * Returns {1, ids that were live…}, or {0} when `keep` no longer exists (nothing ended).
 */
export const END_USER_SESSIONS: StoreScript = replayable(
  "end-user-sessions",
  MARK,
  `
if ARGV[2] ~= '' and redis.call('EXISTS', ARGV[1] .. ARGV[2]) == 0 then return {0} end
local ended = {1}
local members = redis.call('ZRANGE', KEYS[1], 0, -1)
for _, m in ipairs(members) do
  if m ~= ARGV[2] then
    if redis.call('DEL', ARGV[1] .. m) == 1 then
      ended[#ended + 1] = m
      mark(ARGV[3], m, ARGV[4])
    end
    redis.call('ZREM', KEYS[1], m)
  end
end
return ended
`,
);

/**
 * Lists a user's live sessions, pruning dead index entries on the way.
 * KEYS: user index. ARGV: session prefix. Returns {id, record, id, record, …}.
 */
export const LIST_SESSIONS: StoreScript = {
  name: "list-sessions",
  retrySafe: true,
  source: `
local out = {}
local members = redis.call('ZRANGE', KEYS[1], 0, -1)
for _, m in ipairs(members) do
  local rec = redis.call('GET', ARGV[1] .. m)
  if rec then
    out[#out + 1] = m
    out[#out + 1] = rec
  else
    redis.call('ZREM', KEYS[1], m)
  end
end
return out
`,
};

/**
 * Accounts: see auth/accounts.ts for the hash layout. Retry-safe: the account id is random per
 * call, so an email key already naming it means this very registration ran before.
 */
export const REGISTER: StoreScript = {
  name: "register-account",
  retrySafe: true,
  source: `
if redis.call('GET', KEYS[1]) == ARGV[1] then return 1 end
if redis.call('SET', KEYS[1], ARGV[1], 'NX') == false then return 0 end
redis.call('HSET', KEYS[2], 'email', ARGV[2], 'hash', ARGV[3], 'roles', ARGV[4], 'disabled', '0', 'ver', '1', 'created', ARGV[5])
return 1
`,
};

export const FIND_BY_EMAIL: StoreScript = {
  name: "find-account",
  retrySafe: true,
  source: `
local id = redis.call('GET', KEYS[1])
if not id then return false end
return {id, redis.call('HGETALL', ARGV[1] .. id)}
`,
};

export const SET_DISABLED: StoreScript = {
  name: "set-disabled",
  retrySafe: true,
  source: `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'disabled', ARGV[1])
return 1
`,
};

/**
 * Disables a user and ends every one of their sessions, in one atomic step (ASVS 7.4.2): a store
 * fault cannot leave a disabled user whose tokens still work, and a login racing it either sees
 * the flag (CREATE_SESSION refuses) or has its session ended here. For every user id, with a
 * password account or not: users created by `createSession` (SSO, RPC, a library sign-in) get
 * a flag-only record, which CREATE_SESSION reads the same way. With an acting session, only
 * while that session is live: two admins disabling each other at once cannot both succeed (the
 * second one's session was ended by the first), so an enabled admin remains.
 * KEYS: account key, user index, acting session key ('' = no actor check), operation key
 * (replayable()). ARGV: session prefix, mark prefix, mark ttl ms.
 * Returns {1, ended ids…} or {0, 'revoked'}.
 */
export const DISABLE_ACCOUNT: StoreScript = replayable(
  "disable-account",
  MARK,
  `
if KEYS[3] ~= '' and redis.call('EXISTS', KEYS[3]) == 0 then return {0, 'revoked'} end
redis.call('HSET', KEYS[1], 'disabled', '1')
local ended = {1}
local members = redis.call('ZRANGE', KEYS[2], 0, -1)
for _, m in ipairs(members) do
  if redis.call('DEL', ARGV[1] .. m) == 1 then
    ended[#ended + 1] = m
    mark(ARGV[2], m, ARGV[3])
  end
end
redis.call('DEL', KEYS[2])
return ended
`,
);

/**
 * Lifts a disable. With an acting session, only while that session is live, in the same step:
 * an admin disabled while their enable was in flight enables nothing. A flag-only record (a
 * user without a password account) is removed; an account keeps everything but the flag.
 * KEYS: account key, acting session key ('' = no actor check).
 * Returns 1, or 0 when the acting session has ended (nothing changed).
 */
export const ENABLE_ACCOUNT: StoreScript = {
  name: "enable-account",
  source: `
if KEYS[2] ~= '' and redis.call('EXISTS', KEYS[2]) == 0 then return 0 end
if redis.call('HEXISTS', KEYS[1], 'email') == 1 then
  redis.call('HSET', KEYS[1], 'disabled', '0')
else
  redis.call('DEL', KEYS[1])
end
return 1
`,
};

/**
 * Issues a WebSocket ticket unless the user already has `max` outstanding (issued, unexpired,
 * unused).
 * KEYS: ticket key, the user's ticket index (member = ticket key, score = expiry ms).
 * ARGV: claims, ttl ms, now ms, max. Returns {1} or {0, earliest expiry ms}. Retry-safe: the
 * ticket is random per call, so its key existing means this very issue ran before (its holder
 * has not got it yet, so it cannot have been used).
 */
export const ISSUE_TICKET: StoreScript = {
  name: "issue-ticket",
  retrySafe: true,
  source: `
if redis.call('EXISTS', KEYS[1]) == 1 then return {1} end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[3])
local members = redis.call('ZRANGE', KEYS[2], 0, -1)
for _, m in ipairs(members) do
  if redis.call('EXISTS', m) == 0 then redis.call('ZREM', KEYS[2], m) end
end
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[4]) then
  local first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  return {0, first[2]}
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('ZADD', KEYS[2], tonumber(ARGV[3]) + tonumber(ARGV[2]), KEYS[1])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return {1}
`,
};

/**
 * Rate limits: a sliding window over two fixed buckets (the current window counts whole, the
 * previous one by the part of it still inside the window). Counting and deciding are one step,
 * so concurrent hits can never all pass; a negative rate gives an event back without a check.
 * KEYS: current bucket, previous bucket. ARGV: limit, now ms, window ms, rate (1 or -1).
 * Returns {remaining after this event (negative: refused, nothing counted), limit}.
 * Not retry-safe (a second run counts twice, or gives back twice): sent once.
 */
export const SLIDING_WINDOW: StoreScript = {
  name: "sliding-window",
  source: `
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[3])
local rate = tonumber(ARGV[4])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local previous = tonumber(redis.call('GET', KEYS[2]) or '0')
previous = math.floor((1 - (tonumber(ARGV[2]) % window) / window) * previous)
if rate > 0 and previous + current >= limit then return {-1, limit} end
local value = redis.call('INCRBY', KEYS[1], rate)
if value == rate then redis.call('PEXPIRE', KEYS[1], window * 2 + 1000) end
return {limit - (value + previous), limit}
`,
};
