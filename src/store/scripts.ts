/**
 * Lua scripts of the Redis stores. Each runs atomically on one node (Redis "EVAL": "no other
 * script or command runs while a script runs"), which is how a Register racing an Update or a
 * De-register never leaves a half-written session — no locks.
 *
 * Redis Cluster: every script declares all its keys in KEYS, and all KEYS of one call share a
 * hash tag — the device's `{ep:E}` (DEVICE scripts) or one index key's own tag — so a script
 * touches one slot. Cross-slot writes (indexes) are separate commands in the stores.
 * Numbers that can exceed 2^31 (ms timestamps) go through string.format('%.0f') since Lua 5.1's
 * tostring would print them as floats.
 *
 * Write version (`wv` of the device hash): every Register and Update gives the device state a
 * version greater than any before it, max(previous + 1, Redis TIME in µs) — so it keeps growing
 * across a De-register and a new Register too. Index entries that name a device carry the
 * version of the write that made them; SET_IF_NEWER and DELETE_IF_EQUAL use it so that index
 * writes arriving out of order (separate commands, separate connections, separate instances)
 * can never replace or delete a newer write's entry.
 */
import { createHash } from 'node:crypto';

export class LuaScript {
  readonly sha: string;
  constructor(
    readonly name: string,
    readonly lua: string,
  ) {
    this.sha = createHash('sha1').update(lua).digest('hex');
  }
}

const NEXT_VERSION = `
local function next_version(previous)
  local t = redis.call('TIME')
  local v = tonumber(t[1]) * 1000000 + tonumber(t[2])
  local p = tonumber(previous)
  if p and p + 1 > v then v = p + 1 end
  return string.format('%.0f', v)
end
`;

/**
 * REGISTER (LwM2M-Core 1.2 §6.2.1: a Register for a registered endpoint replaces the session).
 * KEYS: registrationByEndpoint, observationsByEndpoint. ARGV[1] index deadline (ms);
 * ARGV[2..] field/value pairs of the new registration (registration-codec.ts).
 * Returns {write version, the replaced registration's fields (flat; empty when none)}. The
 * replaced registration's observations stay until removeByRegistration(old id) takes them.
 */
export const REGISTER = new LuaScript(
  'register',
  `${NEXT_VERSION}
local old = redis.call('HGETALL', KEYS[1])
local v = next_version(redis.call('HGET', KEYS[1], 'wv'))
if #old > 0 then redis.call('DEL', KEYS[1]) end
redis.call('HSET', KEYS[1], 'wv', v, unpack(ARGV, 2))
redis.call('PEXPIREAT', KEYS[2], ARGV[1])
return {v, old}
`,
);

/**
 * UPDATE (LwM2M-Core 1.2 §6.2.2). Applies only when the registration id is still current — a
 * racing Register or De-register wins and the Update answers "unknown" (4.04).
 * KEYS: registrationByEndpoint, observationsByEndpoint. ARGV[1] id, ARGV[2] now (ms),
 * ARGV[3] grace (ms), ARGV[4] instance id, ARGV[5..] changed field/value pairs.
 * expiresAt = now + lifetime; deadline as keys.ts indexDeadline (kept in step).
 * Returns false (nil) when the id is not current, else {write version, deadline, before (flat), tokens}.
 */
export const UPDATE = new LuaScript(
  'update',
  `${NEXT_VERSION}
if redis.call('HGET', KEYS[1], 'id') ~= ARGV[1] then return false end
local before = redis.call('HGETALL', KEYS[1])
if #ARGV > 4 then redis.call('HSET', KEYS[1], unpack(ARGV, 5)) end
local lt = tonumber(redis.call('HGET', KEYS[1], 'lt'))
local ex = string.format('%.0f', tonumber(ARGV[2]) + lt * 1000)
local dl = string.format('%.0f', tonumber(ex) + tonumber(ARGV[3]) + lt * 1000)
local v = next_version(redis.call('HGET', KEYS[1], 'wv'))
redis.call('HSET', KEYS[1], 'wv', v, 'lu', ARGV[2], 'ex', ex, 'dl', dl, 'in', ARGV[4], 'sn', ARGV[2])
redis.call('PEXPIREAT', KEYS[2], dl)
return {v, dl, before, redis.call('HKEYS', KEYS[2])}
`,
);

/**
 * DEREGISTER (LwM2M-Core 1.2 §6.2.3), only when the id is current.
 * KEYS: registrationByEndpoint, observationsByEndpoint. ARGV[1] id, ARGV[2] retire ms.
 * The observations stay RETIRE_MS for removeByRegistration, then expire.
 * Returns false (nil) or the removed registration's fields (flat).
 */
export const DEREGISTER = new LuaScript(
  'deregister',
  `
if redis.call('HGET', KEYS[1], 'id') ~= ARGV[1] then return false end
local data = redis.call('HGETALL', KEYS[1])
redis.call('DEL', KEYS[1])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return data
`,
);

/**
 * CLAIM_EXPIRED: the exactly-once step of expiry. Deletes the registration only if it is
 * still due (expiresAt + grace < now); only the caller whose script deleted it announces it.
 * KEYS: registrationByEndpoint, observationsByEndpoint. ARGV[1] now, ARGV[2] grace, ARGV[3] retire ms.
 * Returns {0} gone, {1, fields (flat)} claimed, {2, expiresAt} still alive (refreshed).
 */
export const CLAIM_EXPIRED = new LuaScript(
  'claim-expired',
  `
local ex = redis.call('HGET', KEYS[1], 'ex')
if not ex then return {0} end
if tonumber(ex) + tonumber(ARGV[2]) >= tonumber(ARGV[1]) then return {2, ex} end
local data = redis.call('HGETALL', KEYS[1])
redis.call('DEL', KEYS[1])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return {1, data}
`,
);

/**
 * ADD_OBSERVATION: stores an observation only for the current registration, so that no
 * observation outlives its session. KEYS: registrationByEndpoint, observationsByEndpoint.
 * ARGV[1] registration id, ARGV[2] token, ARGV[3] serialised observation.
 * Returns false (nil) when the registration is not current, else the index deadline.
 */
export const ADD_OBSERVATION = new LuaScript(
  'add-observation',
  `
if redis.call('HGET', KEYS[1], 'id') ~= ARGV[1] then return false end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
local dl = redis.call('HGET', KEYS[1], 'dl')
redis.call('PEXPIREAT', KEYS[2], dl)
return dl
`,
);

/**
 * REMOVE_BY_REGISTRATION: takes every observation of one registration (field r of the JSON,
 * observation-codec.ts) out of the device's hash. Unreadable entries are left alone.
 * KEYS: registrationByEndpoint, observationsByEndpoint. ARGV[1] registration id.
 * Returns {live (1 when the registration is still current), {serialised observations}}.
 */
export const REMOVE_BY_REGISTRATION = new LuaScript(
  'remove-by-registration',
  `
local all = redis.call('HGETALL', KEYS[2])
local removed = {}
for i = 1, #all, 2 do
  local ok, o = pcall(cjson.decode, all[i + 1])
  if ok and type(o) == 'table' and o.r == ARGV[1] then
    redis.call('HDEL', KEYS[2], all[i])
    removed[#removed + 1] = all[i + 1]
  end
end
local live = 0
if redis.call('HGET', KEYS[1], 'id') == ARGV[1] then live = 1 end
return {live, removed}
`,
);

/**
 * MARK_SEEN: records which instance last saw the device, without creating a partial hash.
 * KEYS: registrationByEndpoint. ARGV[1] instance id, ARGV[2] now. Returns 1 (this instance had
 * it already), 2 (another instance had it), or 0 when absent.
 */
export const MARK_SEEN = new LuaScript(
  'mark-seen',
  `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local before = redis.call('HGET', KEYS[1], 'in')
redis.call('HSET', KEYS[1], 'in', ARGV[1], 'sn', ARGV[2])
if before == ARGV[1] then return 1 end
return 2
`,
);

/**
 * EXPIRY_LEASE: hands due members of one expiry shard to one sweeper. Their score becomes the
 * lease deadline, so other instances skip them until it passes (a crashed sweeper's members
 * come back then). Work distribution only: exactly-once is CLAIM_EXPIRED's job.
 * KEYS: expiryByShard. ARGV[1] due bound (exclusive: now - grace), ARGV[2] lease deadline, ARGV[3] limit.
 */
export const EXPIRY_LEASE = new LuaScript(
  'expiry-lease',
  `
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1], 'LIMIT', 0, ARGV[3])
for i = 1, #due do redis.call('ZADD', KEYS[1], 'XX', ARGV[2], due[i]) end
return due
`,
);

/**
 * EXPIRY_SETTLE: after the claims, removes (new score "") or re-scores each leased member —
 * only while its score is still this lease's, so a Register that re-scored it meanwhile wins.
 * KEYS: expiryByShard. ARGV[1] lease deadline, ARGV[2..] member, new score pairs.
 */
export const EXPIRY_SETTLE = new LuaScript(
  'expiry-settle',
  `
local lease = tonumber(ARGV[1])
for i = 2, #ARGV, 2 do
  local s = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if s and tonumber(s) == lease then
    if ARGV[i + 1] == '' then redis.call('ZREM', KEYS[1], ARGV[i]) else redis.call('ZADD', KEYS[1], ARGV[i + 1], ARGV[i]) end
  end
end
return 0
`,
);

/**
 * SET_IF_NEWER: writes an index entry (JSON [endpoint, write version], keys.ts) unless the key
 * holds an entry of a newer write — of this device, or of another device that took the address
 * since. KEYS: one index key. ARGV[1] entry, ARGV[2] its version, ARGV[3] PXAT deadline (ms).
 * Returns 1 when written.
 */
export const SET_IF_NEWER = new LuaScript(
  'set-if-newer',
  `
local cur = redis.call('GET', KEYS[1])
if cur then
  local ok, e = pcall(cjson.decode, cur)
  if ok and type(e) == 'table' and tonumber(e[2]) and tonumber(e[2]) >= tonumber(ARGV[2]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1], 'PXAT', ARGV[3])
return 1
`,
);

/**
 * DELETE_IF_EQUAL: removes an index entry only if it still holds the value we mean to remove
 * (a newer write's entry survives). KEYS: one index key. ARGV[1] the expected value.
 */
export const DELETE_IF_EQUAL = new LuaScript(
  'delete-if-equal',
  `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`,
);
