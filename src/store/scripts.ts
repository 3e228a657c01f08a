/**
 * Every Lua script this product runs, sessions and accounts: the Redis-specific half of the store
 * seam (see redis.ts). The session writes must stay consistent: each runs atomically in Redis, so a
 * login, a logout and a "sign out everywhere" racing each other always leave the per-user
 * index and the session keys in agreement (no orphans, no missing entries, the cap held).
 *
 * The per-user index is a sorted set: member = session id, score = createdAt (oldest first).
 */
import type { StoreScript } from "./redis.js";

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
 * The audit trail (docs/OPERATIONS.md, "Audit trail"): each script that changes a session or an
 * account appends its event here, in the same atomic step, so there is no event without its
 * change and no change without its event, at no extra store command. Two streams: every event,
 * and the user's own (for "what happened to this user"), both trimmed by time (MINID); the
 * user's stream also expires with its last event. Each script checks the streams first
 * (audit_check), before any write: Lua does not roll back, so a stream that cannot take the event
 * must stop the change itself. Callers pass, after the script's own:
 * KEYS[k] = all events, KEYS[k + 1] = the user's ('' = none); ARGV[a] = MINID in ms ('' or absent:
 * audit off), ARGV[a + 1] = the user stream's time to live in ms.
 */
const AUDIT = `
local function audit_check(k, a)
  if ARGV[a] == nil or ARGV[a] == '' then return end
  for i = k, k + 1 do
    local key = KEYS[i]
    if key ~= nil and key ~= '' then
      local t = redis.call('TYPE', key)['ok']
      if t ~= 'stream' and t ~= 'none' then return redis.error_reply('WRONGTYPE audit key ' .. key .. ' is not a stream') end
    end
  end
end
local function audit(k, a, fields)
  if ARGV[a] == nil or ARGV[a] == '' then return end
  redis.call('XADD', KEYS[k], 'MINID', '~', ARGV[a], '*', unpack(fields))
  local u = KEYS[k + 1]
  if u ~= nil and u ~= '' then
    redis.call('XADD', u, 'MINID', '~', ARGV[a], '*', unpack(fields))
    redis.call('PEXPIRE', u, ARGV[a + 1])
  end
end
local function ids(list, from)
  local out = {}
  for i = from, #list do out[#out + 1] = list[i] end
  return table.concat(out, ',')
end
`;

/**
 * Creates a session; for a password change, also replaces the password hash and bumps the
 * credential version in the same atomic step, so the change, the end of every other session
 * and the new session happen together or not at all (ASVS 7.4.3): a store fault cannot leave
 * a changed password with the old sessions alive.
 * KEYS: session key, user index, account key.
 * ARGV: session id, record, ttl ms, createdAt, max sessions, session prefix, index ttl ms,
 *       expected credential version ('' = no account check), end all others first ('1'/'0'),
 *       new password hash ('' = no change), new credential version.
 * Audit (AUDIT): KEYS[4], KEYS[5]; ARGV[12], ARGV[13], then user id, how, device, network.
 * Returns {1, ended ids…} or {0, 'disabled'|'stale'}.
 */
export const CREATE_SESSION: StoreScript = {
  name: "create-session",
  source: `${PRUNE}${AUDIT}
local bad = audit_check(4, 12) if bad then return bad end
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
    if redis.call('DEL', ARGV[6] .. m) == 1 then ended[#ended + 1] = m end
  end
  redis.call('DEL', KEYS[2])
  if #ended > 1 then audit(4, 12, {'type', 'session.ended', 'user', ARGV[14], 'sessions', ids(ended, 2), 'why', 'password-change', 'by', ARGV[14]}) end
else
  local gone = prune(KEYS[2], ARGV[6], '')
  if #gone > 0 then audit(4, 12, {'type', 'session.ended', 'user', ARGV[14], 'sessions', ids(gone, 1), 'why', 'expiry', 'by', 'store'}) end
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
  end
end
local ttl = redis.call('PTTL', KEYS[2])
if ttl < tonumber(ARGV[7]) then redis.call('PEXPIRE', KEYS[2], ARGV[7]) end
audit(4, 12, {'type', 'session.created', 'user', ARGV[14], 'session', ARGV[1], 'how', ARGV[15] or '', 'device', ARGV[16] or '', 'net', ARGV[17] or ''})
if #ended > before then audit(4, 12, {'type', 'session.ended', 'user', ARGV[14], 'sessions', ids(ended, before + 1), 'why', 'cap', 'by', 'store'}) end
return ended
`,
};

/**
 * Ends one session.
 * KEYS: session key, user index. ARGV: session id. Returns 1 when it existed.
 * Audit (AUDIT): KEYS[3], KEYS[4]; ARGV[2], ARGV[3], then user id, why, by.
 */
export const END_SESSION: StoreScript = {
  name: "end-session",
  source: `${AUDIT}
local bad = audit_check(3, 2) if bad then return bad end
redis.call('ZREM', KEYS[2], ARGV[1])
local n = redis.call('DEL', KEYS[1])
if n == 1 then audit(3, 2, {'type', 'session.ended', 'user', ARGV[4], 'sessions', ARGV[1], 'why', ARGV[5], 'by', ARGV[6]}) end
return n
`,
};

/**
 * Ends every session of a user except `keep`. With a `keep`, only while `keep` itself is live,
 * checked in the same atomic step: a request authenticated by a session that has ended since (a
 * password change, a logout, an admin) must not go on to end the sessions created after it.
 * KEYS: user index. ARGV: session prefix, keep ('' = none).
 * Audit (AUDIT): KEYS[2], KEYS[3]; ARGV[3], ARGV[4], then user id, why, by.
 * Returns {1, ids that were live…}, or {0} when `keep` no longer exists (nothing ended).
 */
export const END_USER_SESSIONS: StoreScript = {
  name: "end-user-sessions",
  source: `${AUDIT}
local bad = audit_check(2, 3) if bad then return bad end
if ARGV[2] ~= '' and redis.call('EXISTS', ARGV[1] .. ARGV[2]) == 0 then return {0} end
local ended = {1}
local members = redis.call('ZRANGE', KEYS[1], 0, -1)
for _, m in ipairs(members) do
  if m ~= ARGV[2] then
    if redis.call('DEL', ARGV[1] .. m) == 1 then ended[#ended + 1] = m end
    redis.call('ZREM', KEYS[1], m)
  end
end
if #ended > 1 then audit(2, 3, {'type', 'session.ended', 'user', ARGV[5], 'sessions', ids(ended, 2), 'why', ARGV[6], 'by', ARGV[7]}) end
return ended
`,
};

/**
 * Lists a user's live sessions, pruning dead index entries on the way.
 * KEYS: user index. ARGV: session prefix. Returns {id, record, id, record, …}.
 * Audit (AUDIT) of the expired entries found: KEYS[2], KEYS[3]; ARGV[2], ARGV[3], then user id.
 */
export const LIST_SESSIONS: StoreScript = {
  name: "list-sessions",
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
 * Accounts: see auth/accounts.ts for the hash layout.
 * Audit (AUDIT): KEYS[3], KEYS[4]; ARGV[6], ARGV[7] (the event names the user id, not the email).
 */
export const REGISTER: StoreScript = {
  name: "register-account",
  source: `${AUDIT}
local bad = audit_check(3, 6) if bad then return bad end
if redis.call('SET', KEYS[1], ARGV[1], 'NX') == false then return 0 end
redis.call('HSET', KEYS[2], 'email', ARGV[2], 'hash', ARGV[3], 'roles', ARGV[4], 'disabled', '0', 'ver', '1', 'created', ARGV[5])
audit(3, 6, {'type', 'account.created', 'user', ARGV[1], 'roles', ARGV[4]})
return 1
`,
};

export const FIND_BY_EMAIL: StoreScript = {
  name: "find-account",
  source: `
local id = redis.call('GET', KEYS[1])
if not id then return false end
return {id, redis.call('HGETALL', ARGV[1] .. id)}
`,
};

/** Audit (AUDIT): KEYS[2], KEYS[3]; ARGV[2], ARGV[3], then user id, by. */
export const SET_DISABLED: StoreScript = {
  name: "set-disabled",
  source: `${AUDIT}
local bad = audit_check(2, 2) if bad then return bad end
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'disabled', ARGV[1])
audit(2, 2, {'type', ARGV[1] == '1' and 'account.disabled' or 'account.enabled', 'user', ARGV[4], 'by', ARGV[5]})
return 1
`,
};

/**
 * Disables an account and ends every one of its sessions, in one atomic step (ASVS 7.4.2): a
 * store fault cannot leave a disabled account whose tokens still work, and a login racing it
 * either sees the flag (CREATE_SESSION refuses) or has its session ended here. With an acting
 * session, only while that session is live: two admins disabling each other at once cannot
 * both succeed (the second one's session was ended by the first), so an enabled admin remains.
 * KEYS: account key, user index, acting session key ('' = no actor check).
 * ARGV: session prefix.
 * Audit (AUDIT): KEYS[4], KEYS[5]; ARGV[2], ARGV[3], then user id, by.
 * Returns {1, ended ids…}, {0, 'not_found'} or {0, 'revoked'}.
 */
export const DISABLE_ACCOUNT: StoreScript = {
  name: "disable-account",
  source: `${AUDIT}
local bad = audit_check(4, 2) if bad then return bad end
if KEYS[3] ~= '' and redis.call('EXISTS', KEYS[3]) == 0 then return {0, 'revoked'} end
if redis.call('EXISTS', KEYS[1]) == 0 then return {0, 'not_found'} end
redis.call('HSET', KEYS[1], 'disabled', '1')
local ended = {1}
local members = redis.call('ZRANGE', KEYS[2], 0, -1)
for _, m in ipairs(members) do
  if redis.call('DEL', ARGV[1] .. m) == 1 then ended[#ended + 1] = m end
end
redis.call('DEL', KEYS[2])
audit(4, 2, {'type', 'account.disabled', 'user', ARGV[4], 'by', ARGV[5]})
if #ended > 1 then audit(4, 2, {'type', 'session.ended', 'user', ARGV[4], 'sessions', ids(ended, 2), 'why', 'disable', 'by', ARGV[5]}) end
return ended
`,
};

/**
 * Issues a WebSocket ticket unless the user already has `max` outstanding (issued, unexpired,
 * unused).
 * KEYS: ticket key, the user's ticket index (member = ticket key, score = expiry ms).
 * ARGV: claims, ttl ms, now ms, max. Returns {1} or {0, earliest expiry ms}.
 */
export const ISSUE_TICKET: StoreScript = {
  name: "issue-ticket",
  source: `
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
