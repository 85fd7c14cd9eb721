/**
 * Built-in directory users for people about to leave: each active with one
 * privileged and one ordinary grant (what reduce and revoke then remove).
 * Shared by the fault tests and the bench (no vitest import here).
 */
import type { DirectoryStore, Grant } from '../../src/store/directory.ts';

export const LEAVER_GRANTS: readonly Grant[] = [
  { id: 'g-admin', system: 'cms', role: 'admin', privileged: true },
  { id: 'g-read', system: 'cms', role: 'reader', privileged: false },
];

/** Puts a directory user with LEAVER_GRANTS for each of `ids`, 500 at a time. */
export async function putLeavers(
  ctx: { directory: Pick<DirectoryStore, 'put'> },
  ids: readonly string[],
): Promise<void> {
  const at = new Date().toISOString();
  for (let i = 0; i < ids.length; i += 500) {
    await Promise.all(
      ids
        .slice(i, i + 500)
        .map((id) => ctx.directory.put(id, { active: true, grants: [...LEAVER_GRANTS] }, at)),
    );
  }
}
