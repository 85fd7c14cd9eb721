/**
 * The token → principal lookup: principals built once per token set, found by
 * the digest of what is presented; it never holds a raw token, and a changed
 * set (a new TokenAuth) serves no principal of the old one.
 */
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { sha256Hex, TokenAuth } from '../../src/http/auth.ts';

const TOKEN = 'raw-token-never-kept-0123456789';
const entry = (name: string, token: string, role: 'viewer' | 'admin' | 'system', personId?: string) => ({
  name,
  role,
  sha256: sha256Hex(token),
  ...(personId ? { personId } : {}),
});

describe('TokenAuth', () => {
  it('answers the same principal for a token every time, and refuses unknown ones', () => {
    const auth = new TokenAuth([
      entry('tool', TOKEN, 'system'),
      entry('ana', 'other-token', 'viewer', 'p-1'),
    ]);
    const first = auth.authenticate(TOKEN);
    expect(first).toEqual({ name: 'tool', role: 'system' });
    expect(auth.authenticate(TOKEN)).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(auth.authenticate('other-token')).toEqual({ name: 'ana', role: 'viewer', personId: 'p-1' });
    expect(() => auth.authenticate('nope')).toThrow(/unknown token/);
    expect(auth.byDigest(sha256Hex(TOKEN).toUpperCase())).toBe(first);
  });

  it('never holds a raw token, before or after authenticating with it', () => {
    const auth = new TokenAuth([entry('tool', TOKEN, 'system')]);
    auth.authenticate(TOKEN);
    expect(() => auth.authenticate(`${TOKEN}x`)).toThrow();
    const dump = inspect(auth, { depth: 10, showHidden: true, maxArrayLength: null, maxStringLength: null });
    expect(dump).not.toContain(TOKEN);
    expect(dump).not.toContain(Buffer.from(TOKEN).toString('hex'));
  });

  it('serves nothing of a previous token set: a removed token is refused, a changed role applies', () => {
    const before = new TokenAuth([entry('tool', TOKEN, 'admin'), entry('old', 'old-token', 'viewer')]);
    expect(before.authenticate(TOKEN).role).toBe('admin');
    const after = new TokenAuth([entry('tool', TOKEN, 'viewer')]);
    expect(after.authenticate(TOKEN).role).toBe('viewer');
    expect(() => after.authenticate('old-token')).toThrow(/unknown token/);
    expect(after.byDigest(sha256Hex('old-token'))).toBeUndefined();
  });
});
