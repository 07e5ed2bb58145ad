#include "jobs/redis_job_scripts.h"

// Keys (P = the prefix): P job:<id> hash (the record; spec and stages as JSON, as the SQLite store
// keeps them) · P seq counter · P jobs zset(seq) · P idem hash(<key hash>\n<idempotency key> → id) ·
// P active:<key hash> set (queued + in_progress ids) · P queued zset(seq) · P order:<model>
// zset(-priority·1e10 + seq: the claim order) · P tierq:<tier> zset(created_at) · P running:<tier>
// set · P tiers set · P streams:<model> zset(tier → priority) · P streams set · P stream:<model>:<tier>
// stream with group "workers" · P held zset(seq) · P webhooks zset(next_at) · P expiry zset(expires_at)
// · P dead stream (dead letters).
// A job's hash also holds its stream, entry (the stream entry id, "" once acknowledged), claim
// ("<consumer>#<attempt>": the fence of the run that may finish it) and lost (interrupted runs).

namespace frugal::jobs::redis_scripts {
namespace {

constexpr const char kPrelude[] = R"lua(
local P = ARGV[1]
local G = 'workers'
local function jk(id) return P .. 'job:' .. id end
local function field(id, f) return redis.call('HGET', jk(id), f) end
local function num(x) return string.format('%.0f', x) end
local function record(id) local r = redis.call('HGETALL', jk(id)); table.insert(r, 1, 'job'); return r end
local function queue_indexes(id)
  local h = redis.call('HMGET', jk(id), 'model', 'tier', 'priority', 'seq', 'created_at')
  redis.call('ZADD', P .. 'queued', h[4], id)
  redis.call('ZADD', P .. 'order:' .. h[1], num(-tonumber(h[3]) * 1e10 + tonumber(h[4])), id)
  redis.call('ZADD', P .. 'tierq:' .. h[2], h[5], id)
end
local function unqueue(id)
  local h = redis.call('HMGET', jk(id), 'model', 'tier')
  redis.call('ZREM', P .. 'queued', id)
  redis.call('ZREM', P .. 'order:' .. h[1], id)
  redis.call('ZREM', P .. 'tierq:' .. h[2], id)
end
local function inactive(id)
  local h = redis.call('HMGET', jk(id), 'tier', 'api_key_hash')
  redis.call('SREM', P .. 'running:' .. h[1], id)
  redis.call('SREM', P .. 'active:' .. h[2], id)
end
local function ack(id)
  local h = redis.call('HMGET', jk(id), 'stream', 'entry')
  if h[1] and h[2] and h[2] ~= '' then
    redis.call('XACK', h[1], G, h[2])
    redis.call('XDEL', h[1], h[2])
  end
  redis.call('HSET', jk(id), 'entry', '')
end
local function webhook_due(id, now)
  if field(id, 'webhook_state') == 'waiting' then
    redis.call('HSET', jk(id), 'webhook_state', 'pending', 'webhook_next_at', now)
    redis.call('ZADD', P .. 'webhooks', now, id)
  end
end
local function fenced(id, token, target)
  if redis.call('EXISTS', jk(id)) == 0 then return {'not_found'} end
  local h = redis.call('HMGET', jk(id), 'state', 'claim')
  if token == '' then
    if h[1] == 'in_progress' then return {'conflict', 'in_progress (run by another worker)'} end
    return {'conflict', h[1]}
  end
  if h[2] ~= token then return {'lost', h[1]} end
  if h[1] == target then return {'ok'} end
  if h[1] ~= 'in_progress' then return {'conflict', h[1]} end
  return nil
end
local function requeue(id, consumer, lease)
  redis.call('HSET', jk(id), 'state', 'queued', 'progress', '0', 'claim', '')
  redis.call('SREM', P .. 'running:' .. field(id, 'tier'), id)
  queue_indexes(id)
  local h = redis.call('HMGET', jk(id), 'stream', 'entry')
  if h[2] and h[2] ~= '' then
    redis.call('XCLAIM', h[1], G, consumer, 0, h[2], 'IDLE', num(tonumber(lease) * 1000 + 1000), 'JUSTID')
  end
end
local function dead_letter(id, now, lost)
  local h = redis.call('HMGET', jk(id), 'tier', 'attempts')
  redis.call('HSET', jk(id), 'state', 'failed', 'completed_at', now, 'error_code', 'attempts_exhausted',
             'error_message', 'the job was interrupted ' .. lost ..
             ' times (its worker stopped or lost its lease before finishing); it is not retried')
  inactive(id)
  unqueue(id)
  ack(id)
  webhook_due(id, now)
  redis.call('XADD', P .. 'dead', '*', 'id', id, 'tier', h[1], 'attempts', h[2], 'at', now)
end
local function start(id, now, consumer)
  local attempts = redis.call('HINCRBY', jk(id), 'attempts', 1)
  redis.call('HSET', jk(id), 'state', 'in_progress', 'started_at', now, 'progress', '0',
             'claim', consumer .. '#' .. attempts)
  unqueue(id)
  redis.call('SADD', P .. 'running:' .. field(id, 'tier'), id)
  return record(id)
end
)lua";

}  // namespace

const std::string kSubmit = std::string(kPrelude) + R"lua(
local id, model, tier, priority, idem, keyhash = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
if idem ~= '' then
  local existing = redis.call('HGET', P .. 'idem', keyhash .. '\n' .. idem)
  if existing and redis.call('EXISTS', jk(existing)) == 1 then return {'existing', existing} end
end
if redis.call('EXISTS', jk(id)) == 1 then return {'ok', id} end
local per_key = tonumber(ARGV[12])
if per_key > 0 then
  local n = redis.call('SCARD', P .. 'active:' .. keyhash)
  if n >= per_key then return {'per_key', tostring(n)} end
end
local max_queued = tonumber(ARGV[11])
if max_queued > 0 and redis.call('ZCARD', P .. 'queued') >= max_queued then return {'full'} end
local seq = redis.call('INCR', P .. 'seq')
local stream = P .. 'stream:' .. model .. ':' .. tier
redis.call('HSET', jk(id), 'id', id, 'model', model, 'tier', tier, 'priority', priority, 'idempotency_key', idem,
           'api_key_hash', keyhash, 'spec', ARGV[8], 'state', 'queued', 'progress', '0', 'created_at', ARGV[9],
           'started_at', '0', 'completed_at', '0', 'expires_at', '0', 'attempts', '0', 'completions', '0',
           'error_code', '', 'error_message', '', 'compute_seconds', '0', 'cost_usd', '0', 'stages', '{}',
           'webhook_state', ARGV[10], 'webhook_attempts', '0', 'webhook_next_at', '0', 'hold_reason', '',
           'review', '', 'seq', seq, 'stream', stream, 'entry', '', 'claim', '', 'lost', '0')
redis.call('ZADD', P .. 'jobs', seq, id)
queue_indexes(id)
redis.call('SADD', P .. 'active:' .. keyhash, id)
redis.call('SADD', P .. 'tiers', tier)
redis.call('ZADD', P .. 'streams:' .. model, priority, tier)
redis.call('SADD', P .. 'streams', stream)
redis.pcall('XGROUP', 'CREATE', stream, G, '0', 'MKSTREAM')
local entry = redis.call('XADD', stream, '*', 'id', id)
redis.call('HSET', jk(id), 'entry', entry)
if idem ~= '' then redis.call('HSET', P .. 'idem', keyhash .. '\n' .. idem, id) end
return {'ok', id}
)lua";

const std::string kClaim = std::string(kPrelude) + R"lua(
local model, now, consumer, lease, max_lost = ARGV[2], ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[6])
local caps = {}
for i = 7, #ARGV - 1, 2 do caps[ARGV[i]] = tonumber(ARGV[i + 1]) end
-- This worker's entries pending in the stream: its running jobs of the tier (the caps are per worker).
local function running_here(stream)
  local summary = redis.call('XPENDING', stream, G)
  for _, c in ipairs(summary[4] or {}) do
    if c[1] == consumer then return tonumber(c[2]) end
  end
  return 0
end
local function drop(stream, entry)
  redis.call('XACK', stream, G, entry)
  redis.call('XDEL', stream, entry)
end
-- An entry whose lease lapsed: its job was released (queued), or its worker died (in_progress).
local function take_over(stream, entry, id)
  local state = id and field(id, 'state')
  if (not state) or field(id, 'entry') ~= entry then drop(stream, entry); return nil end
  if state == 'queued' then return start(id, now, consumer) end
  if state == 'in_progress' then
    local lost = redis.call('HINCRBY', jk(id), 'lost', 1)
    if lost >= max_lost then dead_letter(id, now, lost); return nil end
    return start(id, now, consumer)
  end
  ack(id)
  return nil
end
for _, tier in ipairs(redis.call('ZREVRANGE', P .. 'streams:' .. model, 0, -1)) do
  local stream = P .. 'stream:' .. model .. ':' .. tier
  local cap = caps[tier]
  if redis.call('EXISTS', stream) == 1 and not (cap and cap < 0) then
    local cursor = '0-0'
    for _ = 1, 8 do
      local r = redis.call('XAUTOCLAIM', stream, G, consumer, lease, cursor, 'COUNT', 1)
      cursor = r[1]
      for _, e in ipairs(r[2]) do
        local id = (type(e[2]) == 'table') and e[2][2] or nil
        local job = take_over(stream, e[1], id)
        if job then return job end
      end
      if cursor == '0-0' then break end
    end
    if (not cap) or cap == 0 or running_here(stream) < cap then
      for _ = 1, 32 do
        local r = redis.call('XREADGROUP', 'GROUP', G, consumer, 'COUNT', 1, 'STREAMS', stream, '>')
        if not r then break end
        local e = r[1][2][1]
        local id = (type(e[2]) == 'table') and e[2][2] or nil
        if id and field(id, 'state') == 'queued' and field(id, 'entry') == e[1] then return start(id, now, consumer) end
        drop(stream, e[1])
      end
    end
  end
end
return {'none'}
)lua";

const std::string kProgress = std::string(kPrelude) + R"lua(
local id, progress, token, consumer = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
if redis.call('EXISTS', jk(id)) == 0 then return {'not_found'} end
local h = redis.call('HMGET', jk(id), 'state', 'claim', 'stream', 'entry')
if h[1] ~= 'in_progress' or token == '' then return {'not_found'} end
if h[2] ~= token then return {'lost'} end
redis.call('HSET', jk(id), 'progress', progress)
if h[4] and h[4] ~= '' then redis.call('XCLAIM', h[3], G, consumer, 0, h[4], 'JUSTID') end
return {'ok'}
)lua";

const std::string kTouch = std::string(kPrelude) + R"lua(
local id, token, consumer = ARGV[2], ARGV[3], ARGV[4]
local h = redis.call('HMGET', jk(id), 'state', 'claim', 'stream', 'entry')
if h[1] ~= 'in_progress' or h[2] ~= token then return {'lost'} end
if h[4] and h[4] ~= '' then redis.call('XCLAIM', h[3], G, consumer, 0, h[4], 'JUSTID') end
return {'ok'}
)lua";

const std::string kComplete = std::string(kPrelude) + R"lua(
local id, token, now, expires_at = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local f = fenced(id, token, 'completed')
if f then return f end
redis.call('HSET', jk(id), 'state', 'completed', 'progress', '100', 'completed_at', now, 'expires_at', expires_at,
           'compute_seconds', ARGV[6], 'cost_usd', ARGV[7], 'stages', ARGV[8])
redis.call('HINCRBY', jk(id), 'completions', 1)
inactive(id)
ack(id)
webhook_due(id, now)
if tonumber(expires_at) > 0 then redis.call('ZADD', P .. 'expiry', expires_at, id) end
return {'ok'}
)lua";

const std::string kFail = std::string(kPrelude) + R"lua(
local id, token, now = ARGV[2], ARGV[3], ARGV[4]
local f = fenced(id, token, 'failed')
if f then return f end
redis.call('HSET', jk(id), 'state', 'failed', 'completed_at', now, 'error_code', ARGV[5], 'error_message', ARGV[6])
inactive(id)
ack(id)
webhook_due(id, now)
return {'ok'}
)lua";

const std::string kHold = std::string(kPrelude) + R"lua(
local id, token = ARGV[2], ARGV[3]
local f = fenced(id, token, 'held_for_review')
if f then return f end
redis.call('HSET', jk(id), 'state', 'held_for_review', 'progress', '99', 'compute_seconds', ARGV[5],
           'cost_usd', ARGV[6], 'stages', ARGV[7], 'hold_reason', ARGV[8], 'review', ARGV[9])
inactive(id)
ack(id)
redis.call('ZADD', P .. 'held', field(id, 'seq'), id)
return {'ok'}
)lua";

const std::string kDecide = std::string(kPrelude) + R"lua(
local id, approve, reason, review, expires_at, now = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
if redis.call('EXISTS', jk(id)) == 0 then return {'not_found'} end
local state = field(id, 'state')
if state ~= 'held_for_review' then return {'conflict', state} end
if approve == '1' then
  redis.call('HSET', jk(id), 'state', 'completed', 'progress', '100', 'expires_at', expires_at)
  redis.call('HINCRBY', jk(id), 'completions', 1)
  if tonumber(expires_at) > 0 then redis.call('ZADD', P .. 'expiry', expires_at, id) end
else
  redis.call('HSET', jk(id), 'state', 'failed', 'error_code', 'content_rejected', 'error_message', reason,
             'expires_at', '0')
end
redis.call('HSET', jk(id), 'completed_at', now, 'review', review)
redis.call('ZREM', P .. 'held', id)
webhook_due(id, now)
return {'ok'}
)lua";

const std::string kRelease = std::string(kPrelude) + R"lua(
local id, token, consumer, lease = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
if redis.call('EXISTS', jk(id)) == 0 then return {'not_found'} end
local h = redis.call('HMGET', jk(id), 'state', 'claim')
if h[1] == 'queued' then return {'ok'} end
if h[2] ~= token then return {'lost', h[1]} end
if h[1] ~= 'in_progress' then return {'conflict', h[1]} end
requeue(id, consumer, lease)
return {'ok'}
)lua";

const std::string kRecover = std::string(kPrelude) + R"lua(
local consumer, lease, max_lost, now = ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5]
local n = 0
for _, stream in ipairs(redis.call('SMEMBERS', P .. 'streams')) do
  if redis.call('EXISTS', stream) == 1 then
    for _, p in ipairs(redis.call('XPENDING', stream, G, '-', '+', 1000, consumer)) do
      local entry = p[1]
      local rows = redis.call('XRANGE', stream, entry, entry)
      local id = rows[1] and rows[1][2][2]
      if (not id) or field(id, 'entry') ~= entry then
        redis.call('XACK', stream, G, entry)
        redis.call('XDEL', stream, entry)
      elseif field(id, 'state') == 'in_progress' then
        n = n + 1
        local lost = redis.call('HINCRBY', jk(id), 'lost', 1)
        if lost >= max_lost then dead_letter(id, now, lost) else requeue(id, consumer, lease) end
      end
    end
  end
end
return {'ok', tostring(n)}
)lua";

const std::string kRemove = std::string(kPrelude) + R"lua(
local id = ARGV[2]
if redis.call('EXISTS', jk(id)) == 0 then return {'not_found'} end
local h = redis.call('HMGET', jk(id), 'api_key_hash', 'idempotency_key')
ack(id)
unqueue(id)
inactive(id)
for _, z in ipairs({'jobs', 'held', 'webhooks', 'expiry'}) do redis.call('ZREM', P .. z, id) end
if h[2] ~= '' and redis.call('HGET', P .. 'idem', h[1] .. '\n' .. h[2]) == id then
  redis.call('HDEL', P .. 'idem', h[1] .. '\n' .. h[2])
end
redis.call('DEL', jk(id))
return {'ok'}
)lua";

const std::string kWebhookAttempt = std::string(kPrelude) + R"lua(
local id, state, next_at = ARGV[2], ARGV[3], ARGV[4]
if redis.call('EXISTS', jk(id)) == 0 then return {'not_found'} end
redis.call('HSET', jk(id), 'webhook_state', state, 'webhook_next_at', next_at)
redis.call('HINCRBY', jk(id), 'webhook_attempts', 1)
if state == 'pending' then redis.call('ZADD', P .. 'webhooks', next_at, id) else redis.call('ZREM', P .. 'webhooks', id) end
return {'ok'}
)lua";

}  // namespace frugal::jobs::redis_scripts
