/**
 * The atomic operations that must not interleave with anything else:
 * appending to the hash chain, saving a person together with its audit entry,
 * and recording an effect exactly once together with its audit entry.
 *
 * Audit arguments are always the last 7 ARGV and the last 5 KEYS of a script
 * (see AUDIT_KEYS / auditArgs in ../audit.ts).
 */

import { Script } from './script.ts';
import { SHA256_LUA } from './sha256.ts';

/** Lua prelude: `audit_append(keys, args)` and `tail(t, from, n)`, for scripts that audit what they write. */
export const AUDIT_LUA = `
${SHA256_LUA}
-- ks: seq, head, log, byPerson, byAction; a: at, type, actor, personId, actionId, details, contentHash
local function audit_append(ks, a)
  local seq = redis.call('INCR', ks[1])
  local prev = redis.call('GET', ks[2]) or string.rep('0', 64)
  local hash = sha256(prev .. '|' .. seq .. '|' .. a[7])
  redis.call('XADD', ks[3], seq .. '-0', 'at', a[1], 'type', a[2], 'actor', a[3], 'personId', a[4],
    'actionId', a[5], 'details', a[6], 'prevHash', prev, 'hash', hash)
  redis.call('SET', ks[2], hash)
  if a[4] ~= '' then redis.call('RPUSH', ks[4], seq) end
  if a[5] ~= '' then redis.call('RPUSH', ks[5], seq) end
  return seq
end
local function tail(t, from, n)
  local out = {}
  for i = 1, n do out[i] = t[from + i - 1] end
  return out
end
`;

/** KEYS: 5 audit keys. ARGV: 7 audit args. Returns the new seq. */
export const auditAppendScript = new Script(
  'auditAppend',
  `${AUDIT_LUA}
return audit_append(KEYS, ARGV)`,
);

/**
 * Saves a person record if its stored revision is still the expected one, keeps
 * the by-end index in step, and appends an audit entry when one is given.
 * KEYS: person, peopleByEnd, [5 audit keys]. ARGV: json, expectedRev, personId,
 * endsAtMs ('' = drop from index), hasAudit ('1'|'0'), [7 audit args].
 * Returns 1 when saved, 0 on a revision conflict.
 */
export const savePersonScript = new Script(
  'savePerson',
  `${AUDIT_LUA}
local cur = redis.call('GET', KEYS[1])
local rev = 0
if cur then rev = cjson.decode(cur).rev or 0 end
if tostring(rev) ~= ARGV[2] then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
-- A person with nothing planned (a lone cancellation) still belongs in the index.
local score = ARGV[4]
if score == '' then score = '+inf' end
redis.call('ZADD', KEYS[2], score, ARGV[3])
if ARGV[5] == '1' then audit_append(tail(KEYS, 3, 5), tail(ARGV, 6, 7)) end
return 1`,
);

/**
 * Records a state transition of one effect exactly once: if the field already
 * holds the new state, nothing happens (a repeated job run), else the state and
 * its data are written and the audit entry appended, atomically.
 * KEYS: effects hash, [5 audit keys]. ARGV: field, newState, dataJson, [7 audit args].
 * Returns the audit seq, or 0 when it was already recorded.
 */
export const effectTransitionScript = new Script(
  'effectTransition',
  `${AUDIT_LUA}
local stateField = ARGV[1] .. ':state'
if redis.call('HGET', KEYS[1], stateField) == ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], stateField, ARGV[2], ARGV[1] .. ':data', ARGV[3])
return audit_append(tail(KEYS, 2, 5), tail(ARGV, 4, 7))`,
);

/**
 * Records an effect's intent (`pending`) unless the effect already finished.
 * Two runs of the same job can overlap (a lock that expired under a long pause):
 * the late one must not turn a `done` back into `pending`, or its own `done`
 * would be recorded and audited a second time.
 * KEYS: effects hash. ARGV: field, state, dataJson. Returns 1 when written, 0 when finished already.
 */
export const effectIntentScript = new Script(
  'effectIntent',
  `local cur = redis.call('HGET', KEYS[1], ARGV[1] .. ':state')
if cur == 'done' or cur == 'not_found' then return 0 end
redis.call('HSET', KEYS[1], ARGV[1] .. ':state', ARGV[2], ARGV[1] .. ':data', ARGV[3])
return 1`,
);
