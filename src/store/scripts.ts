/**
 * Every Lua script this product runs, sessions and accounts: the Redis-specific half of the store
 * seam (see redis.ts). The session writes must stay consistent: each runs atomically in Redis, so a
 * login, a logout and a "sign out everywhere" racing each other always leave the per-user
 * index and the session keys in agreement (no orphans, no missing entries, the cap held).
 *
 * The per-user index is a sorted set: member = session id, score = createdAt (oldest first).
 *
 * Every script that changes a session or an account appends its audit event in the same step
 * (audit-lua.ts): the audit KEYS come after the script's own (the operation key included), the
 * audit ARGV after its own, at the fixed positions each doc comment names.
 */
import { AUDIT } from "./audit-lua.js";
import type { StoreScript } from "./redis.js";
import { MARK, replayable } from "./replayable.js";

export { MARK_TTL_MS } from "./replayable.js";

/** Entries whose session key is gone (idle-expired, revoked) are pruned from the index; returns their ids. */
const PRUNE = `
local function prune(index, prefix, keep)
  local gone = {}
  local members = redis.call('ZRANGE', index, 0, -1)
  for _, m in ipairs(members) do
    if m ~= keep and redis.call('EXISTS', prefix .. m) == 0 then
      redis.call('ZREM', index, m)
      gone[#gone + 1] = m
    end
  end
  return gone
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
 * Audit (AUDIT): KEYS[5], KEYS[6]; ARGV[14], ARGV[15], then user id (16), how (17), device (18),
 * network (19).
 * Returns {1, ended ids…} or {0, 'disabled'|'stale'}.
 */
export const CREATE_SESSION: StoreScript = replayable(
  "create-session",
  `${PRUNE}${MARK}${AUDIT}`,
  `local bad = audit_check(5, 14) if bad then return bad end
local acct = redis.call('HMGET', KEYS[3], 'ver', 'disabled')
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
  if #ended > 1 then audit(5, 14, {'type', 'session.ended', 'user', ARGV[16], 'sessions', ids(ended, 2), 'why', 'password-change', 'by', ARGV[16]}) end
else
  local gone = prune(KEYS[2], ARGV[6], '')
  if #gone > 0 then audit(5, 14, {'type', 'session.ended', 'user', ARGV[16], 'sessions', ids(gone, 1), 'why', 'expiry', 'by', 'store'}) end
end
local before = #ended
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
audit(5, 14, {'type', 'session.created', 'user', ARGV[16], 'session', ARGV[1], 'how', ARGV[17] or '', 'device', ARGV[18] or '', 'net', ARGV[19] or ''})
if #ended > before then audit(5, 14, {'type', 'session.ended', 'user', ARGV[16], 'sessions', ids(ended, before + 1), 'why', 'cap', 'by', 'store'}) end
return ended
`,
  4,
);

/**
 * Ends one session. A second run changes nothing (retry-safe), though it answers 0: the session
 * was no longer live when it ran (and so appends no second event).
 * KEYS: session key, user index. ARGV: session id, mark prefix ('' = none), mark ttl ms.
 * Audit (AUDIT): KEYS[3], KEYS[4]; ARGV[4], ARGV[5], then user id (6), why (7), by (8).
 * Returns 1 when it existed.
 */
export const END_SESSION: StoreScript = {
  name: "end-session",
  retrySafe: true,
  source: `${MARK}${AUDIT}
local bad = audit_check(3, 4) if bad then return bad end
redis.call('ZREM', KEYS[2], ARGV[1])
local n = redis.call('DEL', KEYS[1])
if n == 1 then
  mark(ARGV[2], ARGV[1], ARGV[3])
  audit(3, 4, {'type', 'session.ended', 'user', ARGV[6], 'sessions', ARGV[1], 'why', ARGV[7], 'by', ARGV[8]})
end
return n
`,
};

/**
 * Ends every session of a user except `keep`. With a `keep`, only while `keep` itself is live,
 * checked in the same atomic step: a request authenticated by a session that has ended since (a
 * password change, a logout, an admin) must not go on to end the sessions created after it.
 * KEYS: user index, operation key (replayable()). ARGV: session prefix, keep ('' = none),
 * mark prefix, mark ttl ms.
 * Audit (AUDIT): KEYS[3], KEYS[4]; ARGV[5], ARGV[6], then user id (7), why (8), by (9).
 * Returns {1, ids that were live…}, or {0} when `keep` no longer exists (nothing ended).
 */
export const END_USER_SESSIONS: StoreScript = replayable(
  "end-user-sessions",
  `${MARK}${AUDIT}`,
  `local bad = audit_check(3, 5) if bad then return bad end
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
if #ended > 1 then audit(3, 5, {'type', 'session.ended', 'user', ARGV[7], 'sessions', ids(ended, 2), 'why', ARGV[8], 'by', ARGV[9]}) end
return ended
`,
  2,
);

/**
 * Lists a user's live sessions, pruning dead index entries on the way. Retry-safe: a second run
 * finds nothing more to prune (and so appends no second event).
 * KEYS: user index. ARGV: session prefix.
 * Audit (AUDIT) of the expired entries found: KEYS[2], KEYS[3]; ARGV[2], ARGV[3], then user id (4).
 * Returns {id, record, id, record, …}.
 */
export const LIST_SESSIONS: StoreScript = {
  name: "list-sessions",
  retrySafe: true,
  source: `${AUDIT}
local bad = audit_check(2, 2) if bad then return bad end
local out = {}
local gone = {}
local members = redis.call('ZRANGE', KEYS[1], 0, -1)
for _, m in ipairs(members) do
  local rec = redis.call('GET', ARGV[1] .. m)
  if rec then
    out[#out + 1] = m
    out[#out + 1] = rec
  else
    redis.call('ZREM', KEYS[1], m)
    gone[#gone + 1] = m
  end
end
if #gone > 0 then audit(2, 2, {'type', 'session.ended', 'user', ARGV[4], 'sessions', ids(gone, 1), 'why', 'expiry', 'by', 'store'}) end
return out
`,
};

/**
 * Accounts: see auth/accounts.ts for the hash layout. Retry-safe: the account id is random per
 * call, so an email key already naming it means this very registration ran before (answered
 * before the event: a retry appends none).
 * KEYS: email key, account key. ARGV: user id, email, password hash, roles, createdAt.
 * Audit (AUDIT): KEYS[3], KEYS[4]; ARGV[6], ARGV[7] (the event names the user id, not the email).
 */
export const REGISTER: StoreScript = {
  name: "register-account",
  retrySafe: true,
  source: `${AUDIT}
local bad = audit_check(3, 6) if bad then return bad end
if redis.call('GET', KEYS[1]) == ARGV[1] then return 1 end
if redis.call('SET', KEYS[1], ARGV[1], 'NX') == false then return 0 end
redis.call('HSET', KEYS[2], 'email', ARGV[2], 'hash', ARGV[3], 'roles', ARGV[4], 'disabled', '0', 'ver', '1', 'created', ARGV[5])
audit(3, 6, {'type', 'account.created', 'user', ARGV[1], 'roles', ARGV[4]})
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

/**
 * Sets an account's disabled flag (no session is ended: DISABLE_ACCOUNT does that). Retry-safe:
 * the event is appended only when the flag changed, so a second run appends none.
 * KEYS: account key. ARGV: '1' | '0'.
 * Audit (AUDIT): KEYS[2], KEYS[3]; ARGV[2], ARGV[3], then user id (4), by (5).
 * Returns 0 when the account does not exist.
 */
export const SET_DISABLED: StoreScript = {
  name: "set-disabled",
  retrySafe: true,
  source: `${AUDIT}
local bad = audit_check(2, 2) if bad then return bad end
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local was = redis.call('HGET', KEYS[1], 'disabled')
redis.call('HSET', KEYS[1], 'disabled', ARGV[1])
if was ~= ARGV[1] then audit(2, 2, {'type', ARGV[1] == '1' and 'account.disabled' or 'account.enabled', 'user', ARGV[4], 'by', ARGV[5]}) end
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
 * Audit (AUDIT): KEYS[5], KEYS[6]; ARGV[4], ARGV[5], then user id (6), by (7).
 * Returns {1, ended ids…} or {0, 'revoked'}.
 */
export const DISABLE_ACCOUNT: StoreScript = replayable(
  "disable-account",
  `${MARK}${AUDIT}`,
  `local bad = audit_check(5, 4) if bad then return bad end
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
audit(5, 4, {'type', 'account.disabled', 'user', ARGV[6], 'by', ARGV[7]})
if #ended > 1 then audit(5, 4, {'type', 'session.ended', 'user', ARGV[6], 'sessions', ids(ended, 2), 'why', 'disable', 'by', ARGV[7]}) end
return ended
`,
  4,
);

/**
 * Lifts a disable. With an acting session, only while that session is live, in the same step:
 * an admin disabled while their enable was in flight enables nothing. A flag-only record (a
 * user without a password account) is removed; an account keeps everything but the flag.
 * KEYS: account key, acting session key ('' = no actor check). ARGV: none of its own.
 * Audit (AUDIT), only when the user was disabled: KEYS[3], KEYS[4]; ARGV[1], ARGV[2], then
 * user id (3), by (4).
 * Returns 1, or 0 when the acting session has ended (nothing changed).
 */
export const ENABLE_ACCOUNT: StoreScript = {
  name: "enable-account",
  source: `${AUDIT}
local bad = audit_check(3, 1) if bad then return bad end
if KEYS[2] ~= '' and redis.call('EXISTS', KEYS[2]) == 0 then return 0 end
local was = redis.call('HGET', KEYS[1], 'disabled')
if redis.call('HEXISTS', KEYS[1], 'email') == 1 then
  redis.call('HSET', KEYS[1], 'disabled', '0')
else
  redis.call('DEL', KEYS[1])
end
if was == '1' then audit(3, 1, {'type', 'account.enabled', 'user', ARGV[3], 'by', ARGV[4]}) end
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
