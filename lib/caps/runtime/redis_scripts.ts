/**
 * The server-side scripts of the Redis/Valkey backend (run with
 * `EVALSHA`, loaded by `SCRIPT LOAD`). Each one is the server twin of an
 * embedded-backend operation: same keys, fields and rules. Every script
 * replies `{1, "OK", …}` on success and `{0, code, detail}` on a refusal.
 * Time is `ARGV`'s `now` when given (an injected clock), else server
 * `TIME`.
 *
 * Claims and scans build execution keys from the ids they read, so they
 * need a single node (as the reference's registry scripts do).
 *
 * @module
 */

const PRELUDE = `
local function now_ms(arg)
  if arg ~= nil and arg ~= '' then return tonumber(arg) end
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function int(n) return string.format('%d', n) end
local function refuse(code, detail) return {0, code, detail or ''} end
local function tokens(csv)
  local out = {}
  for t in string.gmatch(csv or '', '[^,]+') do out[#out + 1] = t end
  return out
end
local function satisfies(required, worker_csv)
  if required == nil or required == '' then return true end
  local have = {}
  for _, t in ipairs(tokens(worker_csv)) do have[t] = true end
  for _, t in ipairs(tokens(required)) do
    if not have[t] then return false end
  end
  return true
end
local function core_key(eid) return 'ff:exec:' .. eid .. ':core' end
local function lane_key(p, lane, which)
  return 'ff:idx:{fp:' .. p .. '}:lane:' .. lane .. ':' .. which
end
local function expiry_key(p) return 'ff:idx:{fp:' .. p .. '}:lease_expiry' end
local function leases_key(p, iid)
  return 'ff:idx:{fp:' .. p .. '}:worker:' .. iid .. ':leases'
end
local function partition_of(eid)
  return tonumber(string.match(eid, '^{fp:(%d+)}:'))
end
local function score(priority, created)
  return -(tonumber(priority) * 1000000000000) + tonumber(created)
end
local function capable_worker_exists(ns, required, cache)
  local list = cache[ns]
  if list == nil then
    list = {}
    local ids = redis.call('SMEMBERS', 'ff:idx:' .. ns .. ':workers')
    for _, id in ipairs(ids) do
      local csv = redis.pcall('HGET', 'ff:worker:' .. ns .. ':' .. id .. ':caps', 'caps_csv')
      if type(csv) == 'table' and csv.err then
        list[#list + 1] = true
      elseif csv then
        list[#list + 1] = csv
      end
    end
    cache[ns] = list
  end
  for _, csv in ipairs(list) do
    if csv == true or satisfies(required, csv) then return true end
  end
  return false
end
local LEASE_FIELDS = {'lifecycle_phase', 'ownership_state', 'current_lease_id',
  'current_lease_epoch', 'lease_expires_at', 'lane_id',
  'current_worker_instance_id', 'attempts', 'max_attempts', 'priority',
  'created_at'}
local function read_lease(eid)
  local v = redis.call('HMGET', core_key(eid), unpack(LEASE_FIELDS))
  if not v[1] then return nil end
  return {phase = v[1], owner = v[2], lease_id = v[3], epoch = v[4],
    expires = tonumber(v[5]), lane = v[6], iid = v[7],
    attempts = tonumber(v[8]), max_attempts = tonumber(v[9]),
    priority = v[10], created = v[11]}
end
local function check_lease(eid, lease_id, epoch, now)
  local c = read_lease(eid)
  if c == nil then return nil, refuse('execution_not_found', eid) end
  if c.phase ~= 'active' or c.owner ~= 'leased' then
    return nil, refuse('execution_not_active', eid)
  end
  if c.lease_id ~= lease_id or c.epoch ~= epoch then
    return nil, refuse('stale_lease', eid)
  end
  if c.expires <= now then return nil, refuse('lease_expired', eid) end
  return c
end
local function release(eid, p, c)
  redis.call('ZREM', lane_key(p, c.lane, 'active'), eid)
  redis.call('ZREM', expiry_key(p), eid)
  redis.call('SREM', leases_key(p, c.iid), eid)
end
local function requeue(eid, p, c, note)
  redis.call('HSET', core_key(eid), 'lifecycle_phase', 'runnable',
    'eligibility_state', 'eligible_now', 'ownership_state', 'unowned',
    'public_state', 'waiting', 'blocking_reason', 'waiting_for_worker',
    'blocking_detail', '', 'current_lease_id', '', 'lease_expires_at', '0',
    'lease_renewal_deadline', '0', 'result', note)
  redis.call('ZADD', lane_key(p, c.lane, 'eligible'), score(c.priority, c.created), eid)
end
local function finish(eid, p, c, outcome, result, now)
  local public = 'failed'
  if outcome == 'success' then public = 'completed' end
  redis.call('HSET', core_key(eid), 'lifecycle_phase', 'terminal',
    'eligibility_state', 'not_applicable', 'ownership_state', 'unowned',
    'public_state', public, 'terminal_outcome', outcome,
    'blocking_reason', '', 'current_lease_id', '', 'lease_expires_at', '0',
    'lease_renewal_deadline', '0', 'result', result,
    'completed_at', int(now))
  redis.call('ZADD', lane_key(p, c.lane, 'terminal'), now, eid)
end
`;

/** KEYS alive, caps, index; ARGV iid, worker_id, lanes, caps, ttl, now, exclusive. */
const REGISTER = `
local ttl = tonumber(ARGV[5])
if not ttl or ttl <= 0 then return refuse('invalid_input', 'ttl_ms') end
local now = now_ms(ARGV[6])
local existed = redis.call('EXISTS', KEYS[1]) == 1
if existed and ARGV[7] == '1' then return {1, 'OK', 'duplicate'} end
redis.call('SET', KEYS[1], '1', 'PX', ttl)
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[2], 'worker_id', ARGV[2], 'lanes_csv', ARGV[3],
  'caps_csv', ARGV[4], 'ttl_ms', int(ttl), 'registered_at_ms', int(now),
  'last_heartbeat_ms', int(now))
redis.call('PEXPIRE', KEYS[2], ttl)
redis.call('SADD', KEYS[3], ARGV[1])
if existed then return {1, 'OK', 'refreshed'} end
return {1, 'OK', 'registered'}
`;

/** KEYS alive, caps; ARGV now. */
const HEARTBEAT = `
local now = now_ms(ARGV[1])
local ttl = tonumber(redis.call('HGET', KEYS[2], 'ttl_ms') or '')
if not ttl or ttl <= 0 then return {1, 'OK', 'not_registered'} end
if redis.call('PEXPIRE', KEYS[1], ttl) == 0 then
  return {1, 'OK', 'not_registered'}
end
redis.call('PEXPIRE', KEYS[2], ttl)
redis.call('HSET', KEYS[2], 'last_heartbeat_ms', int(now))
return {1, 'OK', 'refreshed', ttl}
`;

/** KEYS alive, caps, index; ARGV iid. */
const MARK_DEAD = `
local a = redis.call('DEL', KEYS[1])
local c = redis.call('DEL', KEYS[2])
redis.call('SREM', KEYS[3], ARGV[1])
if a + c == 0 then return {1, 'OK', 'not_registered'} end
return {1, 'OK', 'marked'}
`;

/** KEYS core, eligible, lanes; ARGV eid, ns, lane, required, priority, payload, max_attempts, now. */
const SUBMIT = `
if redis.call('EXISTS', KEYS[1]) == 1 then
  return refuse('execution_exists', ARGV[1])
end
local now = now_ms(ARGV[8])
redis.call('HSET', KEYS[1], 'execution_id', ARGV[1], 'namespace', ARGV[2],
  'lane_id', ARGV[3], 'required_capabilities', ARGV[4], 'priority', ARGV[5],
  'payload', ARGV[6], 'max_attempts', ARGV[7], 'attempts', '0',
  'created_at', int(now), 'lifecycle_phase', 'runnable',
  'eligibility_state', 'eligible_now', 'ownership_state', 'unowned',
  'public_state', 'waiting', 'terminal_outcome', 'none',
  'blocking_reason', 'waiting_for_worker', 'blocking_detail', '',
  'current_lease_id', '', 'current_lease_epoch', '0',
  'current_worker_instance_id', '', 'current_worker_id', '',
  'lease_expires_at', '0', 'lease_renewal_deadline', '0',
  'last_capability_mismatch_at', '0', 'result', '')
redis.call('ZADD', KEYS[2], score(ARGV[5], now), ARGV[1])
redis.call('SADD', KEYS[3], ARGV[3])
return {1, 'OK', redis.call('HGETALL', KEYS[1])}
`;

/**
 * ARGV ns, worker_id, iid, lane, caps, ttl, max, depth, lease_base, now,
 * partitions CSV, route detail.
 */
const CLAIM = `
local ns, wid, iid, lane, wcaps = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local ttl, max, depth = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
local base = ARGV[9]
local now = now_ms(ARGV[10])
local leases, blocked, mismatched, cache = {}, {}, 0, {}
local n = 0
for p in string.gmatch(ARGV[11], '[^,]+') do
  if n >= max then break end
  local ekey = lane_key(p, lane, 'eligible')
  local cands = redis.call('ZRANGEBYSCORE', ekey, '-inf', '+inf', 'LIMIT', 0, depth)
  for _, eid in ipairs(cands) do
    if n >= max then break end
    local ck = core_key(eid)
    local f = redis.call('HMGET', ck, 'namespace', 'lifecycle_phase',
      'eligibility_state', 'required_capabilities', 'current_lease_epoch',
      'attempts', 'payload')
    if not f[2] then
      redis.call('ZREM', ekey, eid)
    elseif f[1] == ns and f[2] == 'runnable' and f[3] == 'eligible_now' then
      local required = f[4] or ''
      if not satisfies(required, wcaps) then
        mismatched = mismatched + 1
        redis.call('HSET', ck, 'last_capability_mismatch_at', int(now))
        if not capable_worker_exists(ns, required, cache) then
          redis.call('HSET', ck, 'eligibility_state', 'blocked_by_route',
            'blocking_reason', 'waiting_for_capable_worker',
            'blocking_detail', ARGV[12], 'public_state', 'rate_limited')
          redis.call('ZREM', ekey, eid)
          redis.call('ZADD', lane_key(p, lane, 'blocked:route'), now, eid)
          blocked[#blocked + 1] = eid
        end
      else
        local epoch = tonumber(f[5] or '0') + 1
        local attempt = tonumber(f[6] or '0') + 1
        local expires = now + ttl
        local renewal = now + math.floor(ttl * 2 / 3)
        local lease_id = base .. '-' .. n
        redis.call('HSET', ck, 'lifecycle_phase', 'active',
          'eligibility_state', 'not_applicable', 'ownership_state', 'leased',
          'public_state', 'active', 'blocking_reason', '', 'blocking_detail', '',
          'current_lease_id', lease_id, 'current_lease_epoch', int(epoch),
          'current_worker_instance_id', iid, 'current_worker_id', wid,
          'lease_expires_at', int(expires), 'lease_renewal_deadline', int(renewal),
          'attempts', int(attempt))
        redis.call('ZREM', ekey, eid)
        redis.call('ZADD', lane_key(p, lane, 'active'), expires, eid)
        redis.call('ZADD', expiry_key(p), expires, eid)
        redis.call('SADD', leases_key(p, iid), eid)
        n = n + 1
        leases[#leases + 1] = {eid, lease_id, epoch, expires, attempt,
          f[7] or '', required}
      end
    end
  end
end
return {1, 'OK', mismatched, blocked, leases}
`;

/** ARGV eid, lease_id, epoch, ttl, now. */
const RENEW = `
local now = now_ms(ARGV[5])
local c, refusal = check_lease(ARGV[1], ARGV[2], ARGV[3], now)
if c == nil then return refusal end
local ttl = tonumber(ARGV[4])
local p = partition_of(ARGV[1])
local expires = now + ttl
local renewal = now + math.floor(ttl * 2 / 3)
redis.call('HSET', core_key(ARGV[1]), 'lease_expires_at', int(expires),
  'lease_renewal_deadline', int(renewal))
redis.call('ZADD', expiry_key(p), expires, ARGV[1])
redis.call('ZADD', lane_key(p, c.lane, 'active'), expires, ARGV[1])
return {1, 'OK', expires}
`;

/** ARGV eid, lease_id, epoch, now, result. */
const COMPLETE = `
local now = now_ms(ARGV[4])
local c, refusal = check_lease(ARGV[1], ARGV[2], ARGV[3], now)
if c == nil then return refusal end
local p = partition_of(ARGV[1])
release(ARGV[1], p, c)
finish(ARGV[1], p, c, 'success', ARGV[5], now)
return {1, 'OK'}
`;

/** ARGV eid, lease_id, epoch, now, reason, retry. */
const FAIL = `
local now = now_ms(ARGV[4])
local c, refusal = check_lease(ARGV[1], ARGV[2], ARGV[3], now)
if c == nil then return refusal end
local p = partition_of(ARGV[1])
release(ARGV[1], p, c)
if ARGV[6] == '1' and c.attempts < c.max_attempts then
  requeue(ARGV[1], p, c, ARGV[5])
  return {1, 'OK', 'requeued'}
end
finish(ARGV[1], p, c, 'failed', ARGV[5], now)
return {1, 'OK', 'failed'}
`;

/** ARGV partitions, now, batch. */
const EXPIRE = `
local n = tonumber(ARGV[1])
local now = now_ms(ARGV[2])
local batch = tonumber(ARGV[3])
local moved, failed = {}, {}
for p = 0, n - 1 do
  local xkey = expiry_key(p)
  local due = redis.call('ZRANGEBYSCORE', xkey, '-inf', now, 'LIMIT', 0, batch)
  for _, eid in ipairs(due) do
    local c = read_lease(eid)
    if c == nil or c.owner ~= 'leased' or c.phase ~= 'active' then
      redis.call('ZREM', xkey, eid)
    elseif c.expires <= now then
      release(eid, p, c)
      if c.attempts >= c.max_attempts then
        finish(eid, p, c, 'failed', 'lease expired', now)
        failed[#failed + 1] = eid
      else
        requeue(eid, p, c, 'lease expired')
        moved[#moved + 1] = eid
      end
    end
  end
end
return {1, 'OK', moved, failed}
`;

/** ARGV partitions, batch. */
const UNBLOCK = `
local n = tonumber(ARGV[1])
local batch = tonumber(ARGV[2])
local lanes = redis.call('SMEMBERS', 'ff:idx:lanes')
local moved, cache = {}, {}
for p = 0, n - 1 do
  for _, lane in ipairs(lanes) do
    local bkey = lane_key(p, lane, 'blocked:route')
    local ids = redis.call('ZRANGEBYSCORE', bkey, '-inf', '+inf', 'LIMIT', 0, batch)
    for _, eid in ipairs(ids) do
      local ck = core_key(eid)
      local f = redis.call('HMGET', ck, 'lifecycle_phase', 'namespace',
        'blocking_reason', 'required_capabilities', 'priority', 'created_at')
      if not f[1] then
        redis.call('ZREM', bkey, eid)
      elseif f[2] and f[2] ~= '' and f[3] == 'waiting_for_capable_worker'
        and capable_worker_exists(f[2], f[4] or '', cache) then
        redis.call('HSET', ck, 'eligibility_state', 'eligible_now',
          'blocking_reason', 'waiting_for_worker', 'blocking_detail', '',
          'public_state', 'waiting')
        redis.call('ZREM', bkey, eid)
        redis.call('ZADD', lane_key(p, lane, 'eligible'), score(f[5], f[6]), eid)
        moved[#moved + 1] = eid
      end
    end
  end
end
return {1, 'OK', moved}
`;

/**
 * Every script, by operation, with the shared prelude prepended.
 *
 * @example
 * ```ts
 * import { CAPS_SCRIPTS } from "./redis_scripts.ts";
 * console.assert(CAPS_SCRIPTS.claim.includes("ZRANGEBYSCORE"));
 * ```
 */
export const CAPS_SCRIPTS = {
  register: PRELUDE + REGISTER,
  heartbeat: PRELUDE + HEARTBEAT,
  markDead: PRELUDE + MARK_DEAD,
  submit: PRELUDE + SUBMIT,
  claim: PRELUDE + CLAIM,
  renew: PRELUDE + RENEW,
  complete: PRELUDE + COMPLETE,
  fail: PRELUDE + FAIL,
  expire: PRELUDE + EXPIRE,
  unblock: PRELUDE + UNBLOCK,
} as const;

/** A script name. */
export type CapsScriptName = keyof typeof CAPS_SCRIPTS;
