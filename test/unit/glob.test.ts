/** Glob matching for protectedTargets, cancelOnFreeze and callbackAllowlist. */
import { describe, expect, it } from 'vitest';
import { callbackAllowed, canonicalRequest } from '../../src/domain/action.ts';
import { firstMatch, matchesGlob } from '../../src/domain/glob.ts';

describe('glob', () => {
  it.each([
    ['account:@vip-*', 'account:@vip-head-of-state', true],
    ['account:@vip-*', 'account:@vip-', true],
    ['account:@vip-*', 'account:@VIP-x', false],
    ['account:@vip-*', 'xaccount:@vip-x', false],
    ['*', '', true],
    ['a.b', 'axb', false],
    ['a.b', 'a.b', true],
    ['(x|y)+', '(x|y)+', true],
    ['(x|y)+', 'x', false],
    ['data.*', 'data.delete', true],
    ['*:prod/*', 'db:prod/users', true],
    ['a*b*c', 'a-line\nb-c', true],
    ['[abc]', 'a', false],
    ['[abc]', '[abc]', true],
    ['\\d', '\\d', true],
  ])('%s vs %j → %s', (pattern, value, match) => {
    expect(matchesGlob(pattern, value)).toBe(match);
  });

  it('finds the first matching pattern', () => {
    expect(firstMatch(['x*', 'a*', 'ab*'], 'abc')).toBe('a*');
    expect(firstMatch([], 'abc')).toBeUndefined();
  });

  it('matches callback origins against the allowlist', () => {
    const list = ['https://*.corp.example'];
    expect(callbackAllowed('https://tools.corp.example/hook?x=1', list)).toBe(true);
    expect(callbackAllowed('http://tools.corp.example/hook', list)).toBe(false);
    expect(callbackAllowed('https://corp.example.evil.test/hook', list)).toBe(false);
    expect(callbackAllowed('https://tools.corp.example:8443/hook', list)).toBe(false);
    expect(callbackAllowed('http://127.0.0.1:9/x', undefined)).toBe(true);
  });

  it('compares registrations regardless of key order and offset spelling', () => {
    const a = canonicalRequest({
      actionId: '1',
      initiatorId: 'p',
      kind: 'k',
      target: 't',
      executeAt: '2026-12-04T17:00:00+01:00',
      payload: { b: 1, a: [1, { d: 2, c: 3 }] },
    });
    const b = canonicalRequest({
      payload: { a: [1, { c: 3, d: 2 }], b: 1 },
      executeAt: '2026-12-04T16:00:00Z',
      target: 't',
      kind: 'k',
      initiatorId: 'p',
      actionId: '1',
    });
    expect(a).toBe(b);
  });
});
