/**
 * Whether an LDAP account can sign in, and switching it, per directory flavor:
 *
 * - Active Directory: bit 2 (ACCOUNTDISABLE, 0x2) of `userAccountControl`.
 *   The other bits (normal account, password never expires, smart card
 *   required, …) are kept. LDAP has no "set one bit", so the write is a
 *   test-and-set: one modify that deletes the value we read and adds the new
 *   one. If anyone changed the attribute since our read, the delete fails
 *   (noSuchAttribute) and we read again instead of overwriting their change.
 * - OpenLDAP: the ppolicy overlay's `pwdAccountLockedTime` set to
 *   `000001010000Z`, the value slapo-ppolicy(5) defines as "permanently
 *   locked, only an administrator unlocks it". Any other value is a temporary
 *   lockout (failed binds) that expires by itself, so it does not count as
 *   disabled and is replaced by the permanent one. Enabling deletes only the
 *   permanent value: a lockout the password policy set is not ours to lift.
 *   The lock is enforced only where the overlay runs with a policy whose
 *   `pwdLockout` is TRUE (see docs/connectors.md).
 */
import { Attribute, Change, type Client, type Entry } from 'ldapts';
import { ConnectorError } from './connector.ts';
import type { LdapFlavor } from './ldapFilter.ts';
import { LDAP_RESULT, resultCode } from './ldapSession.ts';

export const ACCOUNTDISABLE = 0x2;
export const PERMANENT_LOCK = '000001010000Z';

const UAC = 'userAccountControl';
const LOCKED = 'pwdAccountLockedTime';
/** Test-and-set tries when someone else keeps changing `userAccountControl`. */
const UAC_TRIES = 3;

/** The attributes `isActive` needs (the lock is operational: it must be asked for by name). */
export function accountAttributes(flavor: LdapFlavor): string[] {
  return flavor === 'ad' ? [UAC] : [LOCKED];
}

/** The values of one attribute, whatever case the server spelled its name in. */
export function values(entry: Entry, attribute: string): string[] {
  const want = attribute.toLowerCase();
  for (const [key, value] of Object.entries(entry)) {
    if (key.toLowerCase() !== want || key === 'dn') continue;
    const list = Array.isArray(value) ? value : [value];
    return list.map((v) => (Buffer.isBuffer(v) ? v.toString('utf8') : v));
  }
  return [];
}

export function isActive(flavor: LdapFlavor, entry: Entry): boolean {
  if (flavor === 'ad') {
    const uac = values(entry, UAC)[0];
    return uac === undefined || (Number.parseInt(uac, 10) & ACCOUNTDISABLE) === 0;
  }
  return values(entry, LOCKED)[0] !== PERMANENT_LOCK;
}

/**
 * Makes the account enabled or disabled; true when something was written.
 * `reread` fetches the user entry again (with `accountAttributes`) after a
 * lost test-and-set; undefined when the user is gone.
 */
export async function setAccountEnabled(
  connector: string,
  client: Client,
  flavor: LdapFlavor,
  user: Entry,
  enabled: boolean,
  reread: () => Promise<Entry | undefined>,
): Promise<boolean> {
  return flavor === 'ad'
    ? setUserAccountControl(connector, client, user, enabled, reread)
    : setLock(client, user, enabled);
}

async function setUserAccountControl(
  connector: string,
  client: Client,
  user: Entry,
  enabled: boolean,
  reread: () => Promise<Entry | undefined>,
): Promise<boolean> {
  let entry: Entry | undefined = user;
  for (let n = 0; n < UAC_TRIES && entry; n++) {
    const raw = values(entry, UAC)[0];
    if (raw === undefined || !/^-?\d+$/.test(raw)) {
      throw new ConnectorError(
        `${connector}: ${entry.dn} has no numeric ${UAC} (${raw ?? 'absent'}): is "flavor": "ad" right for this directory?`,
        false,
      );
    }
    const uac = Number.parseInt(raw, 10);
    const next = enabled ? uac & ~ACCOUNTDISABLE : uac | ACCOUNTDISABLE;
    if (next === uac) return false;
    try {
      await client.modify(entry.dn, [
        new Change({ operation: 'delete', modification: new Attribute({ type: UAC, values: [raw] }) }),
        new Change({ operation: 'add', modification: new Attribute({ type: UAC, values: [String(next)] }) }),
      ]);
      return true;
    } catch (err) {
      if (resultCode(err) !== LDAP_RESULT.noSuchAttribute) throw err;
      // Changed since our read (by someone else, or by our own try whose answer was lost).
      entry = await reread();
    }
  }
  if (!entry) return false;
  throw new ConnectorError(`${connector}: ${UAC} of ${entry.dn} kept changing under us; will retry`, true);
}

async function setLock(client: Client, user: Entry, enabled: boolean): Promise<boolean> {
  const locked = values(user, LOCKED)[0];
  if (!enabled) {
    if (locked === PERMANENT_LOCK) return false;
    await client.modify(
      user.dn,
      new Change({
        operation: 'replace',
        modification: new Attribute({ type: LOCKED, values: [PERMANENT_LOCK] }),
      }),
    );
    return true;
  }
  if (locked !== PERMANENT_LOCK) return false;
  try {
    await client.modify(
      user.dn,
      new Change({
        operation: 'delete',
        modification: new Attribute({ type: LOCKED, values: [PERMANENT_LOCK] }),
      }),
    );
    return true;
  } catch (err) {
    // Already unlocked (a retry after a lost answer, or an administrator).
    if (resultCode(err) === LDAP_RESULT.noSuchAttribute) return false;
    throw err;
  }
}
