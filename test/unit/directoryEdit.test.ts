/** The directory edits an admin may not make to a leaver (src/domain/directoryEdit.ts). */
import { describe, expect, it } from 'vitest';
import { directoryEditRefusal } from '../../src/domain/directoryEdit.ts';

const admin = { id: 'g-admin', privileged: true };
const reader = { id: 'g-read', privileged: false };

describe('directoryEditRefusal', () => {
  it('lets anything through for an active or scheduled person', () => {
    for (const status of ['active', 'scheduled'] as const) {
      expect(
        directoryEditRefusal('p', status, [], { active: true, grants: [admin, reader] }),
      ).toBeUndefined();
    }
  });

  it('refuses to enable a revoked person or grant them anything; disabling is fine', () => {
    expect(directoryEditRefusal('p/1', 'revoked', [], { active: true, grants: [] })).toMatch(
      /reinstatement.*\/v1\/people\/p%2F1\/reinstatement/,
    );
    expect(directoryEditRefusal('p', 'revoked', [], { active: false, grants: [reader] })).toBeDefined();
    expect(directoryEditRefusal('p', 'revoked', [reader], { active: false, grants: [] })).toBeUndefined();
  });

  it('refuses new privileged grants once reduced or frozen, keeps those already held', () => {
    for (const status of ['reduced', 'frozen'] as const) {
      expect(directoryEditRefusal('p', status, [reader], { active: true, grants: [reader, admin] })).toMatch(
        /g-admin/,
      );
      expect(
        directoryEditRefusal('p', status, [admin], { active: true, grants: [admin, reader] }),
      ).toBeUndefined();
      expect(directoryEditRefusal('p', status, [], { active: true, grants: [reader] })).toBeUndefined();
    }
  });
});
