/**
 * Lua scripts of the Redis RPC queue (redis-rpc-queue.ts; keys in keys.ts). Device scripts take
 * KEYS in this order, all under the device's hash tag: rpcQueueByEndpoint (list of ids),
 * rpcEntriesByEndpoint (id → entry JSON), rpcFlightByEndpoint (id, by, until), and for ENQUEUE
 * rpcSeenByEndpoint. An entry is in the hash exactly while it is queued or in flight, so
 * "HDEL returned 1" is the claim that lets one caller answer it (rpc/rpc-queue.ts).
 */
import { LuaScript } from './scripts';

const FMT = `local function fmt(n) return string.format('%.0f', n) end
local function deadline_of(e)
  local ok, v = pcall(cjson.decode, e)
  if ok and type(v) == 'table' then return tonumber(v.deadline) end
  return nil
end
`;

/**
 * RPC_ENQUEUE. KEYS: queue, entries, seen. ARGV[1] id, ARGV[2] entry JSON, ARGV[3] now,
 * ARGV[4] dedup window (ms), ARGV[5] the entry's deadline.
 * Returns 0 when the id was taken within the window, else 1. The keys expire a window after the
 * latest deadline they hold, so a queue whose index entry was lost cannot stay forever.
 */
export const RPC_ENQUEUE = new LuaScript(
  'rpc-enqueue',
  `${FMT}
if redis.call('ZSCORE', KEYS[3], ARGV[1]) then return 0 end
local now = tonumber(ARGV[3])
local window = tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', '(' .. fmt(now - window))
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('RPUSH', KEYS[1], ARGV[1])
local ttl = math.max(tonumber(ARGV[5]) - now, 0) + window
for _, k in ipairs(KEYS) do
  if redis.call('PTTL', k) < ttl then redis.call('PEXPIRE', k, fmt(ttl)) end
end
return 1
`,
);

/**
 * RPC_LEASE. KEYS: queue, entries, flight. ARGV[1] holder, ARGV[2] now, ARGV[3] longest
 * exchange (ms), ARGV[4] margin (ms), ARGV[5] a holder known to be gone ('' for none), whose live
 * lease is taken over. Lease deadline = min(deadline, now + longest) + margin (rpc-queue.ts
 * leaseUntil). Returns {0} empty, {1, holder} busy (live lease), {2, entry, until, id} leased,
 * {3} an id without entry was dropped (call again).
 */
export const RPC_LEASE = new LuaScript(
  'rpc-lease',
  `${FMT}
local now = tonumber(ARGV[2])
local cur = redis.call('HMGET', KEYS[3], 'id', 'until', 'by')
local id
if cur[1] then
  if tonumber(cur[2]) and tonumber(cur[2]) > now and (ARGV[5] == '' or cur[3] ~= ARGV[5]) then return {1, cur[3] or ''} end
  id = cur[1]
else
  id = redis.call('LPOP', KEYS[1])
  if not id then return {0} end
end
local e = redis.call('HGET', KEYS[2], id)
if not e then
  redis.call('DEL', KEYS[3])
  return {3}
end
local d = deadline_of(e) or now
local untilv = math.min(d, now + tonumber(ARGV[3])) + tonumber(ARGV[4])
redis.call('HSET', KEYS[3], 'id', id, 'by', ARGV[1], 'until', fmt(untilv))
redis.call('PEXPIRE', KEYS[3], fmt(untilv - now + 86400000))
return {2, e, fmt(untilv), id}
`,
);

/**
 * RPC_COMPLETE: the claim. KEYS: queue, entries, flight. ARGV[1] id. Removes the request,
 * queued or in flight; returns 1 to the one caller that removed it, else 0.
 */
export const RPC_COMPLETE = new LuaScript(
  'rpc-complete',
  `
if redis.call('HDEL', KEYS[2], ARGV[1]) == 0 then return 0 end
if redis.call('HGET', KEYS[3], 'id') == ARGV[1] then redis.call('DEL', KEYS[3]) else redis.call('LREM', KEYS[1], 1, ARGV[1]) end
return 1
`,
);

/** RPC_RELEASE: puts the in-flight request back at the head. KEYS: queue, entries, flight. ARGV[1] id. */
export const RPC_RELEASE = new LuaScript(
  'rpc-release',
  `
if redis.call('HGET', KEYS[3], 'id') ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[3])
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then redis.call('LPUSH', KEYS[1], ARGV[1]) end
return 1
`,
);

/** RPC_TAKE_ALL: removes every request of the device. KEYS: queue, entries, flight. Returns the entries, in-flight first. */
export const RPC_TAKE_ALL = new LuaScript(
  'rpc-take-all',
  `
local out = {}
local f = redis.call('HGET', KEYS[3], 'id')
if f then
  local e = redis.call('HGET', KEYS[2], f)
  if e then out[#out + 1] = e end
end
for _, id in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
  local e = redis.call('HGET', KEYS[2], id)
  if e then out[#out + 1] = e end
end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
return out
`,
);

/**
 * RPC_EXPIRE: one device's part of the sweep. KEYS: queue, entries, flight. ARGV[1] now.
 * A passed lease puts its request back at the head (stalled) or, past its deadline, expires it;
 * queued requests past their deadline (or unreadable) are removed. Returns {expired entries,
 * next due ("" when nothing is left), stalled (0|1)}.
 */
export const RPC_EXPIRE = new LuaScript(
  'rpc-expire',
  `${FMT}
local now = tonumber(ARGV[1])
local expired = {}
local stalled = 0
local next_due = nil
local function due(x) if next_due == nil or x < next_due then next_due = x end end
local f = redis.call('HMGET', KEYS[3], 'id', 'until')
if f[1] then
  local untilv = tonumber(f[2]) or 0
  if untilv <= now then
    redis.call('DEL', KEYS[3])
    local e = redis.call('HGET', KEYS[2], f[1])
    if e then
      local d = deadline_of(e)
      if d and d > now then
        redis.call('LPUSH', KEYS[1], f[1])
        stalled = 1
      else
        redis.call('HDEL', KEYS[2], f[1])
        expired[#expired + 1] = e
      end
    end
  else
    due(untilv)
  end
end
for _, id in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
  local e = redis.call('HGET', KEYS[2], id)
  local d = e and deadline_of(e)
  if d and d > now then
    due(d)
  else
    redis.call('LREM', KEYS[1], 1, id)
    if e then
      redis.call('HDEL', KEYS[2], id)
      expired[#expired + 1] = e
    end
  end
end
return {expired, next_due and fmt(next_due) or '', stalled}
`,
);

/** RPC_NEXT_DUE: when the device's queue next needs the sweep, "" when empty. KEYS: queue, entries, flight. */
export const RPC_NEXT_DUE = new LuaScript(
  'rpc-next-due',
  `${FMT}
local next_due = nil
local function due(x) if x and (next_due == nil or x < next_due) then next_due = x end end
due(tonumber(redis.call('HGET', KEYS[3], 'until')))
for _, e in ipairs(redis.call('HVALS', KEYS[2])) do due(deadline_of(e)) end
return next_due and fmt(next_due) or ''
`,
);

/**
 * RPC_DUE_SETTLE: after a sweep, per member: its next due (or "" to remove it) when its score is
 * still the sweep's lease; otherwise only lowered to it (an enqueue re-scored it meanwhile).
 * KEYS: rpcDueByShard. ARGV[1] lease score, ARGV[2..] member, next due pairs.
 * Returns the members removed (the caller re-checks them: an enqueue may have raced the removal).
 */
export const RPC_DUE_SETTLE = new LuaScript(
  'rpc-due-settle',
  `
local lease = tonumber(ARGV[1])
local removed = {}
for i = 2, #ARGV, 2 do
  local s = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if s and tonumber(s) == lease then
    if ARGV[i + 1] == '' then
      redis.call('ZREM', KEYS[1], ARGV[i])
      removed[#removed + 1] = ARGV[i]
    else
      redis.call('ZADD', KEYS[1], ARGV[i + 1], ARGV[i])
    end
  elseif ARGV[i + 1] ~= '' then
    redis.call('ZADD', KEYS[1], 'LT', ARGV[i + 1], ARGV[i])
  end
end
return removed
`,
);
