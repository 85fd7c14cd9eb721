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

/**
 * Lua: `guard_status(personJson|false, mark|false)` → 'active' | 'scheduled' |
 * 'reduced' | 'frozen' | 'revoked'. `personJson` is the person key's value
 * (JSON PersonRecord), `mark` the freeze mark's (the plan version whose
 * `freeze` has started).
 */
export const GUARD_STATUS_LUA = `
local function is_set(v) return v ~= nil and v ~= false and v ~= cjson.null end
local function guard_status(person_json, mark)
  if not person_json then return 'active' end
  local r = cjson.decode(person_json)
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
