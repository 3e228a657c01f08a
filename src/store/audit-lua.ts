/**
 * The audit trail's Lua building blocks (docs/OPERATIONS.md, "Audit trail"), shared by the
 * session and account scripts (scripts.ts): each script that changes a session or an account
 * appends its event in the same atomic step, so there is no event without its change and no
 * change without its event, at no extra store command. Two streams: every event, and the user's
 * own (for "what happened to this user"), both trimmed by time (MINID); the user's stream also
 * expires with its last event.
 *
 * Each script calls `audit_check` first, before any write: Lua does not roll back, so a stream
 * that cannot take the event must stop the change itself. It calls `audit` only after the checks
 * that may refuse. In a replayable() script a replayed run answers the recorded reply before the
 * body runs, so it appends nothing twice.
 *
 * Callers pass, after the script's own KEYS and ARGV (session/audit.ts auditKeys, auditArgs):
 * KEYS[k] = all events, KEYS[k + 1] = the user's ('' = none); ARGV[a] = MINID in ms ('' or
 * absent: audit off), ARGV[a + 1] = the user stream's time to live in ms.
 */
export const AUDIT = `
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
