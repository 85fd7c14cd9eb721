/**
 * Atomic operations on destructive actions. Each one writes the action, keeps
 * its indexes (by state, by initiator, the initiator's pending set) in step and
 * appends the audit entry, in one script, so the audit can never disagree with
 * the state and no index can lose an action.
 *
 * The chain's keys and args come last (./chain.ts); the replies documented
 * here are the body's.
 */
import { chainedScript } from './chain.ts';
import { GUARD_STATUS_LUA } from './guardStatus.ts';
import { Script } from './script.ts';

/** Lua helper: HSET every field of a JSON object of strings; a \`null\` field is removed. */
const HSET_JSON = `
local function hset_json(key, json)
  local flat, gone = {}, {}
  for k, v in pairs(cjson.decode(json)) do
    if v == cjson.null then gone[#gone + 1] = k else flat[#flat + 1] = k; flat[#flat + 1] = v end
  end
  if #flat > 0 then redis.call('HSET', key, unpack(flat)) end
  if #gone > 0 then redis.call('HDEL', key, unpack(gone)) end
end
`;

/**
 * Registers an action unless its id exists, if the initiator's guard status,
 * computed here from their record and freeze mark (./guardStatus.ts), is the
 * one the caller decided (and wrote the audit entry) on. So one round trip
 * decides and records; a registration racing a freeze sees the mark here, in
 * the same atomic step that adds the action to the pending set the freeze drains.
 * KEYS: action, person, freezeMark, stateIndex, byInitiator, pendingOf, [chain].
 * ARGV: expectedStatus ('' = not checked), requestHash, state, scoreMs, actionId,
 * fieldsJson, [chain].
 * Returns {'created'}, {'retry', status} (the status is another: decide again
 * on it) or {'exists', requestHash, state, reason}.
 */
export const registerActionScript = chainedScript(
  'registerAction',
  `${HSET_JSON}${GUARD_STATUS_LUA}
if redis.call('EXISTS', KEYS[1]) == 1 then
  local v = redis.call('HMGET', KEYS[1], 'requestHash', 'state', 'reason')
  return {'exists', v[1] or '', v[2] or '', v[3] or ''}
end
local status = guard_status(redis.call('GET', KEYS[2]), redis.call('GET', KEYS[3]))
if ARGV[1] ~= '' and status ~= ARGV[1] then return {'retry', status} end
audit_append()
hset_json(KEYS[1], ARGV[6])
redis.call('ZADD', KEYS[4], ARGV[4], ARGV[5])
redis.call('ZADD', KEYS[5], ARGV[4], ARGV[5])
if ARGV[3] == 'pending' then redis.call('ZADD', KEYS[6], ARGV[4], ARGV[5]) end
return {'created'}`,
);

/**
 * The gate's read, in one round trip and a short reply: the action's decision
 * fields and its initiator's guard status, computed here (./guardStatus.ts)
 * from the initiator's record and freeze mark, whose keys are stored on the
 * action (so no second trip is needed to learn them).
 * KEYS: action. Returns false for an unknown action, else
 * {state, initiatorId, approvedBy, allowedAt, target, kind, initiatorStatus}.
 */
export const gateReadScript = new Script(
  'gateRead',
  `${GUARD_STATUS_LUA}
local a = redis.call('HMGET', KEYS[1], 'state', 'initiatorId', 'approvedBy', 'allowedAt', 'target', 'kind', 'personKey', 'markKey')
if not a[1] then return false end
return {a[1], a[2], a[3] or '', a[4] or '', a[5] or '', a[6] or '', guard_status(redis.call('GET', a[7]), redis.call('GET', a[8]))}`,
);

/** A person's guard status (./guardStatus.ts). KEYS: person, freezeMark. Returns the status. */
export const guardStatusScript = new Script(
  'guardStatus',
  `${GUARD_STATUS_LUA}
return guard_status(redis.call('GET', KEYS[1]), redis.call('GET', KEYS[2]))`,
);

/**
 * Moves one action from one of the allowed states to a new one (or, with the
 * same state, records fields once: `onceField` must then be absent).
 * KEYS: action, idx:pending, idx:held, idx:approved, idx:executed, idx:cancelled,
 * pendingOf, [chain]. ARGV: allowedFrom (comma list), newState, scoreMs,
 * actionId, fieldsJson, onceField ('' for none), [chain].
 * Returns {'ok', oldState}, {'state', currentState} (not allowed from there),
 * {'noop'} (onceField already set) or {'missing'}.
 */
export const transitionActionScript = chainedScript(
  'transitionAction',
  `${HSET_JSON}
local cur = redis.call('HGET', KEYS[1], 'state')
if not cur then return {'missing'} end
local allowed = false
for s in string.gmatch(ARGV[1], '[^,]+') do if s == cur then allowed = true end end
if not allowed then return {'state', cur} end
if ARGV[6] ~= '' and redis.call('HEXISTS', KEYS[1], ARGV[6]) == 1 then return {'noop'} end
local idx = {pending = KEYS[2], held = KEYS[3], approved = KEYS[4], executed = KEYS[5], cancelled = KEYS[6]}
local new = ARGV[2]
audit_append()
hset_json(KEYS[1], ARGV[5])
if new ~= cur then
  redis.call('HSET', KEYS[1], 'state', new)
  redis.call('ZREM', idx[cur], ARGV[4])
  redis.call('ZADD', idx[new], ARGV[3], ARGV[4])
  if cur == 'pending' then redis.call('ZREM', KEYS[7], ARGV[4]) end
end
return {'ok', cur}`,
);

/**
 * One batch of a freeze, all or nothing: if every listed action is still
 * `pending`, each becomes `held` or `cancelled` (decided by the caller) and the
 * batch gets ONE audit entry naming them all, indexed under each action (one
 * entry per batch keeps the chain and the freeze short). If any listed action
 * has moved on (approved or cancelled in between), nothing is converted: the
 * moved ones leave the pending set and the caller reads a fresh batch, so the
 * audit entry always matches what happened.
 * KEYS: pendingOf, idx:pending, idx:held, idx:cancelled, then per action:
 * action, auditByAction; then [chain] (indexed under the person, not an action).
 * ARGV: scoreMs, n, at, then per action: actionId, newState, reason; then [chain].
 * Returns {held, cancelled} or {-1, moved}.
 */
export const freezeBatchScript = chainedScript(
  'freezeBatch',
  `local n, at = tonumber(ARGV[2]), ARGV[3]
local moved = 0
for i = 1, n do
  if redis.call('HGET', KEYS[4 + 2 * i - 1], 'state') ~= 'pending' then
    redis.call('ZREM', KEYS[1], ARGV[3 + (i - 1) * 3 + 1])
    moved = moved + 1
  end
end
if moved > 0 then return {-1, moved} end
local seq = audit_append()
local held, cancelled = 0, 0
for i = 1, n do
  local ak = KEYS[4 + 2 * i - 1]
  local b = 3 + (i - 1) * 3
  local id, new, reason = ARGV[b + 1], ARGV[b + 2], ARGV[b + 3]
  if new == 'held' then
    redis.call('HSET', ak, 'state', 'held', 'reason', reason, 'heldAt', at, 'updatedAt', at)
    redis.call('ZADD', KEYS[3], ARGV[1], id)
    held = held + 1
  else
    redis.call('HSET', ak, 'state', 'cancelled', 'reason', reason, 'cancelledAt', at, 'cancelledBy', 'lastday', 'updatedAt', at)
    redis.call('ZADD', KEYS[4], ARGV[1], id)
    cancelled = cancelled + 1
  end
  redis.call('ZREM', KEYS[2], id)
  redis.call('ZREM', KEYS[1], id)
  redis.call('RPUSH', KEYS[4 + 2 * i], seq)
end
return {held, cancelled}`,
);

/**
 * Marks a managed action's callback as being sent (`callStartedAt`), only
 * while the action is still in the state its executor read: a call is never
 * marked for an action that moved on in between (cancelled, executed).
 * KEYS: action. ARGV: expected state, callStartedAt. Returns 1 or 0.
 */
export const markCallStartedScript = new Script(
  'markCallStarted',
  `if redis.call('HGET', KEYS[1], 'state') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'callStartedAt', ARGV[2])
return 1`,
);
