/**
 * Scripts that change state and append its audit entry in one atomic step.
 *
 * The entry's seq and hash are computed in Node (../auditChain.ts) from the
 * head the appender expects; the script refuses, before it writes anything,
 * when the stored head is not that one (another process appended, or an
 * earlier script of the same batch did not append), answering
 * `LASTDAY_CHAIN_MOVED <seq> <hash>` with the head it found so the appender
 * can re-chain and send again, or `LASTDAY_CHAIN_LANDED <seq>` when the entry
 * at its planned seq is its own: it is being sent again after it ran (ioredis
 * re-sends what was unanswered when a connection dropped), and re-chaining it
 * would append it twice. It also refuses (`LASTDAY_CHAIN_BUSY`) while
 * another appender holds the chain's turn, a short lease an appender takes
 * when its writes keep losing to other processes' (see ../auditChain.ts). The
 * script's own preconditions (a person's revision, an action's state) run
 * after these checks, every time it is sent.
 *
 * Layout: the chain's CHAIN_KEYS keys and CHAIN_ARGS args come last, after the
 * script's own KEYS and ARGV. The body calls `audit_append()` (which returns
 * the seq) before its own writes, so an XADD that Redis refuses leaves nothing
 * half-written; the script replies `{appended (0|1), <the body's reply>}`.
 */
import { Script } from './script.ts';

/** KEYS, last: seq, head, log, turn, people index (hash), byAction index (the log when there is none). */
export const CHAIN_KEYS = 6;
/**
 * ARGV, last: seq, prevHash, hash, at, type, actor, personId, actionId, details,
 * appender id, the hash as stored in the entry (base64url, see auditHash.ts storedHash).
 */
export const CHAIN_ARGS = 11;

/** The error a script answers when the stored head is not the expected one. */
export const CHAIN_MOVED = 'LASTDAY_CHAIN_MOVED';
/** The error a script answers when its planned entry is already in the log (it ran before). */
export const CHAIN_LANDED = 'LASTDAY_CHAIN_LANDED';
/** The error a script answers while another appender holds the turn. */
export const CHAIN_BUSY = 'LASTDAY_CHAIN_BUSY';

const PRELUDE = `
local AK, AA = {}, {}
for i = 1, ${CHAIN_KEYS} do AK[i] = KEYS[#KEYS - ${CHAIN_KEYS} + i] end
for i = 1, ${CHAIN_ARGS} do AA[i] = ARGV[#ARGV - ${CHAIN_ARGS} + i] end
local state = redis.call('MGET', AK[4], AK[1], AK[2])
local head_seq = state[2] or '0'
local head_hash = state[3] or string.rep('0', 64)
-- Checked first: a script sent again after it ran must not be re-chained, whoever has the turn.
if (tonumber(head_seq) or -1) >= tonumber(AA[1]) then
  local mine = redis.call('XRANGE', AK[3], AA[1] .. '-0', AA[1] .. '-0')[1]
  if mine then
    for i = 1, #mine[2], 2 do
      if mine[2][i] == 'hash' and mine[2][i + 1] == AA[11] then
        return redis.error_reply('${CHAIN_LANDED} ' .. AA[1])
      end
    end
  end
end
local turn = state[1]
if turn and turn ~= AA[10] then return redis.error_reply('${CHAIN_BUSY} another appender has the turn') end
if (tonumber(head_seq) or -1) + 1 ~= tonumber(AA[1]) or head_hash ~= AA[2] then
  return redis.error_reply('${CHAIN_MOVED} ' .. head_seq .. ' ' .. head_hash)
end
local appended = 0
local function audit_append()
  -- No prevHash field: it is the previous entry's hash (auditHash.ts, prevHashes).
  redis.call('XADD', AK[3], AA[1] .. '-0', 'at', AA[4], 'type', AA[5], 'actor', AA[6],
    'personId', AA[7], 'actionId', AA[8], 'details', AA[9], 'hash', AA[11])
  redis.call('MSET', AK[1], AA[1], AK[2], AA[3])
  if AA[7] ~= '' then
    local seqs = redis.call('HGET', AK[5], AA[7])
    redis.call('HSET', AK[5], AA[7], seqs and (seqs .. ',' .. AA[1]) or AA[1])
  end
  if AA[8] ~= '' then redis.call('RPUSH', AK[6], AA[1]) end
  appended = 1
  return tonumber(AA[1])
end
`;

/** A script whose body may call `audit_append()`; run it through AuditStore.run. */
export function chainedScript(name: string, body: string): Script {
  return new Script(
    name,
    `${PRELUDE}
local function body()
${body}
end
local reply = body()
return {appended, reply}`,
  );
}

/**
 * The same body without an audit entry (`audit_append()` does nothing and
 * returns 0); it takes no chain KEYS or ARGV and replies with the body's reply.
 */
export function unchainedScript(name: string, body: string): Script {
  return new Script(
    name,
    `local function audit_append() return 0 end
${body}`,
  );
}

/**
 * The stored head and the stream's newest id, read atomically (verify compares
 * them). KEYS: seq, head, log. Returns {seq|nil, hash|nil, newestId|nil}.
 */
export const chainHeadScript = new Script(
  'chainHead',
  `local newest = redis.call('XREVRANGE', KEYS[3], '+', '-', 'COUNT', 1)[1]
return {redis.call('GET', KEYS[1]) or false, redis.call('GET', KEYS[2]) or false, newest and newest[1] or false}`,
);

/** Gives the turn back if this appender still holds it. KEYS: turn. ARGV: appender id. */
export const releaseTurnScript = new Script(
  'releaseTurn',
  `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`,
);
