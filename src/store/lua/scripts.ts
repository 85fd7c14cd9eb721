/**
 * The atomic operations that must not interleave with anything else: saving a
 * person together with its audit entry, recording an effect exactly once
 * together with its audit entry, and a bare audit entry.
 *
 * Chained scripts (./chain.ts) take the chain's keys and args last and reply
 * `{appended, reply}`; the replies documented here are the body's.
 */
import { chainedScript, unchainedScript } from './chain.ts';
import { PERSON_FIELDS_LUA } from './guardStatus.ts';
import { Script } from './script.ts';

/**
 * Sets a key unless it exists and reads another: the HR event worker's intake
 * mark and person read in one round trip (PeopleStore.getMarking).
 * KEYS: mark, person. ARGV: the mark's value. Returns the person's text or nil.
 */
export const markAndGetScript = new Script(
  'markAndGet',
  `redis.call('SET', KEYS[1], ARGV[1], 'NX')
return redis.call('GET', KEYS[2])`,
);

/** KEYS: [chain]. ARGV: [chain]. Returns the new seq. */
export const auditAppendScript = chainedScript('auditAppend', `return audit_append()`);

/**
 * Saves a person record if its stored revision is still the expected one and
 * keeps the by-end and next-due indexes in step (with its audit entry in the
 * chained form), and, when asked, the snapshot-retention index
 * (EffectsStore.keepSnapshotsUntil) in the same step.
 * KEYS: person, peopleByEnd, peopleByNextDue, snapshotsUntil, [chain]. ARGV: json, expectedRev,
 * personId, endsAtMs ('' = +inf), nextDueMs ('' = drop from the next-due index),
 * snapshots-until ms ('' = leave the index alone), its member, [chain].
 * Returns 1 when saved, 0 on a revision conflict.
 */
const SAVE_PERSON = `${PERSON_FIELDS_LUA}
local cur = redis.call('GET', KEYS[1])
local rev = 0
if cur then rev = person_fields(cjson.decode(cur)).rev or 0 end
if tostring(rev) ~= ARGV[2] then return 0 end
audit_append()
redis.call('SET', KEYS[1], ARGV[1])
-- A person with nothing planned (a lone cancellation) still belongs in the index.
local score = ARGV[4]
if score == '' then score = '+inf' end
redis.call('ZADD', KEYS[2], score, ARGV[3])
if ARGV[5] == '' then redis.call('ZREM', KEYS[3], ARGV[3]) else redis.call('ZADD', KEYS[3], ARGV[5], ARGV[3]) end
if ARGV[6] ~= '' then redis.call('ZADD', KEYS[4], ARGV[6], ARGV[7]) end
return 1`;
export const savePersonScript = chainedScript('savePerson', SAVE_PERSON);
/** savePersonScript without an audit entry (and without the chain's keys and args). */
export const savePersonQuietScript = unchainedScript('savePersonQuiet', SAVE_PERSON);

/**
 * Records a state transition of one effect exactly once: if the field already
 * holds the new state, nothing happens (a repeated job run), else the state and
 * its data are written and the audit entry appended, atomically.
 * KEYS: effects hash, [chain]. ARGV: field, newState, dataJson, [chain].
 * Returns the audit seq, or 0 when it was already recorded.
 */
export const effectTransitionScript = chainedScript(
  'effectTransition',
  `local stateField = ARGV[1] .. ':state'
if redis.call('HGET', KEYS[1], stateField) == ARGV[2] then return 0 end
local seq = audit_append()
redis.call('HSET', KEYS[1], stateField, ARGV[2], ARGV[1] .. ':data', ARGV[3])
return seq`,
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
