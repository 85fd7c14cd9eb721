/**
 * The guard status of a person (domain/action.ts `guardStatus`) computed in
 * Lua from the person's keys, so a script can decide on it and write in the
 * same round trip (the gate's read, a registration) without shipping the
 * person's record to Node and back.
 *
 * It mirrors `guardStatus` and `statusOf` (domain/person.ts) line by line;
 * test/integration/guardStatusLua.test.ts runs both on the same records, so a
 * change to either (or to how the person is stored) that is not made in the
 * other fails there.
 */
import { MILESTONES } from '../../domain/milestone.ts';
import { MILESTONE_STATE_CODES, PERSON_SHAPE } from '../personCodec.ts';

const DONE_CODE = MILESTONE_STATE_CODES.indexOf('done');

/**
 * Lua: `person_fields(decoded)` → the fields guard_status reads, under the
 * record's own names, from either stored shape (../personCodec.ts: the compact
 * one, or the plain JSON of earlier versions). Milestones come back as
 * `{name, state}` with only `done` told apart.
 */
export const PERSON_FIELDS_LUA = `
local PERSON_MILESTONES = {${MILESTONES.map((m) => `'${m}'`).join(', ')}}
local function person_fields(r)
  if r['$'] ~= ${PERSON_SHAPE} then return r end
  local ms = {}
  if type(r.ms) == 'table' then
    for _, m in ipairs(r.ms) do
      if type(m) == 'table' and type(m[1]) == 'number' then
        ms[#ms + 1] = {name = PERSON_MILESTONES[m[1] + 1], state = (m[3] == ${DONE_CODE}) and 'done' or 'other'}
      else
        ms[#ms + 1] = m
      end
    end
  end
  local rs = r.ri
  if type(rs) == 'table' then rs = {cycle = rs.c} end
  return {reinstatementRequired = r.rr, cancelled = r.x, reinstatement = rs, milestones = ms,
    cycle = r.c or 1, planVersion = r.v, rev = r.r}
end
`;

/**
 * Lua: `guard_status(personJson|false, mark|false)` → 'active' | 'scheduled' |
 * 'reduced' | 'frozen' | 'revoked'. `personJson` is the person key's value
 * (a stored PersonRecord, either shape), `mark` the freeze mark's (the plan
 * version whose `freeze` has started).
 */
export const GUARD_STATUS_LUA = `${PERSON_FIELDS_LUA}
local function is_set(v) return v ~= nil and v ~= false and v ~= cjson.null end
local function guard_status(person_json, mark)
  if not person_json then return 'active' end
  local r = person_fields(cjson.decode(person_json))
  -- Revoked, then called off: still disabled until a person re-enables them.
  if is_set(r.reinstatementRequired) then return 'revoked' end
  local done = {}
  if type(r.milestones) == 'table' then
    for _, m in ipairs(r.milestones) do
      if type(m) == 'table' and m.state == 'done' and type(m.name) == 'string' then done[m.name] = true end
    end
  end
  local cancelled = is_set(r.cancelled)
  local status
  local rs = r.reinstatement
  if is_set(rs) and not cancelled and (rs.cycle == r.cycle or not (done.reduce or done.freeze or done.revoke)) then
    status = 'reinstated'
  elseif cancelled then
    return 'active'
  elseif done.revoke then status = 'revoked'
  elseif done.freeze then status = 'frozen'
  elseif done.reduce then status = 'reduced'
  else status = 'scheduled' end
  if (status == 'scheduled' or status == 'reduced' or status == 'reinstated')
    and mark and mark == tostring(r.planVersion) then
    return 'frozen'
  end
  if status == 'reinstated' then return 'active' end
  return status
end
`;
