-- One app's request budget for one endpoint group, run atomically by Redis (EVALSHA).
--
-- GCRA by reservation: the group's "theoretical arrival time" (tat) is the next free slot;
-- `acquire` hands the caller the slot max(now, tat, blocked-until) and moves tat one interval
-- past it, so every caller of every process gets its own slot and sleeps until it. All times
-- come from the Redis server's clock (TIME), in microseconds, so the hosts' clocks never matter.
--
-- KEYS[1]  tat: the group's next free slot (µs)
-- KEYS[2]  blocked-until: no slot before this (µs), set from a server's rate-limit reset
-- KEYS[3]  AIMD hash {fraction (thousandths of the rate), last_decrease (µs)}
-- KEYS[4]  daily quota hash {day, used, exhausted}
-- KEYS[5]  participants: sorted set of participant id -> last acquire (µs)
-- ARGV[1]  command: acquire | throttle | success | quota_exhausted | remaining
-- ARGV[2]  spacing at the full rate (µs)
-- ARGV[3]  daily quota (-1: none)
-- ARGV[4]  the quota day's start, seconds east of UTC (Beijing: 28800)
-- ARGV[5]  participant id
-- ARGV[6]  throttle: the server's reset (µs; 0: none, slow down instead)
-- ARGV[7]  AIMD: decrease hold-off (µs), ARGV[8] lowest fraction, ARGV[9] recovery step
--
-- Reply: {status (0 ok, 1 quota exhausted), wait µs, quota left (-1: none), day end (unix s),
--         fraction, participants}

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local cmd = ARGV[1]
local interval = tonumber(ARGV[2])
local quota = tonumber(ARGV[3])
local offset = tonumber(ARGV[4])
local day = math.floor((tonumber(t[1]) + offset) / 86400)
local day_end = (day + 1) * 86400 - offset

local function fmt(x) return string.format('%.0f', x) end

local fraction = tonumber(redis.call('HGET', KEYS[3], 'fraction') or 1000)

-- Today's quota state; a hash of another day counts as empty.
local function today()
  if tonumber(redis.call('HGET', KEYS[4], 'day') or -1) ~= day then
    redis.call('HSET', KEYS[4], 'day', day, 'used', 0, 'exhausted', 0)
    redis.call('EXPIREAT', KEYS[4], day_end + 3600)
  end
  local used = tonumber(redis.call('HGET', KEYS[4], 'used') or 0)
  local exhausted = redis.call('HGET', KEYS[4], 'exhausted') == '1'
  return used, exhausted
end

local function left(used, exhausted)
  if exhausted then return 0 end
  if quota < 0 then return -1 end
  return math.max(quota - used, 0)
end

if cmd == 'acquire' then
  local used, exhausted = today()
  local remaining = left(used, exhausted)
  if remaining == 0 then
    return {1, 0, 0, day_end, fraction, 0}
  end
  local tat = tonumber(redis.call('GET', KEYS[1]) or 0)
  local blocked = tonumber(redis.call('GET', KEYS[2]) or 0)
  local slot = math.max(now, tat, blocked)
  local next_slot = slot + math.floor(interval * 1000 / fraction)
  redis.call('SET', KEYS[1], fmt(next_slot), 'PX', math.floor((next_slot - now) / 1000) + 1000)
  used = redis.call('HINCRBY', KEYS[4], 'used', 1)
  redis.call('ZADD', KEYS[5], fmt(now), ARGV[5])
  redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', fmt(now - 30000000))
  redis.call('PEXPIRE', KEYS[5], 60000)
  local members = redis.call('ZCARD', KEYS[5])
  return {0, slot - now, left(used, false), day_end, fraction, members}
elseif cmd == 'throttle' then
  local reset = tonumber(ARGV[6])
  if reset > 0 then
    local blocked = math.max(tonumber(redis.call('GET', KEYS[2]) or 0), now + reset)
    redis.call('SET', KEYS[2], fmt(blocked), 'PX', math.floor((blocked - now) / 1000) + 1)
    return {0, blocked - now, -1, day_end, fraction, 0}
  end
  local last = tonumber(redis.call('HGET', KEYS[3], 'last_decrease') or 0)
  if now - last >= tonumber(ARGV[7]) then
    fraction = math.max(math.floor(fraction / 2), tonumber(ARGV[8]))
    redis.call('HSET', KEYS[3], 'fraction', fraction, 'last_decrease', fmt(now))
    redis.call('PEXPIRE', KEYS[3], 600000)
  end
  return {0, 0, -1, day_end, fraction, 0}
elseif cmd == 'success' then
  if fraction < 1000 then
    fraction = math.min(fraction + tonumber(ARGV[9]), 1000)
    if fraction >= 1000 then
      redis.call('DEL', KEYS[3])
    else
      redis.call('HSET', KEYS[3], 'fraction', fraction)
      redis.call('PEXPIRE', KEYS[3], 600000)
    end
  end
  return {0, 0, -1, day_end, fraction, 0}
elseif cmd == 'quota_exhausted' then
  today()
  redis.call('HSET', KEYS[4], 'exhausted', 1)
  return {0, 0, 0, day_end, fraction, 0}
elseif cmd == 'remaining' then
  local used, exhausted = today()
  return {0, 0, left(used, exhausted), day_end, fraction, 0}
end
return redis.error_reply('unknown budget command ' .. tostring(cmd))
