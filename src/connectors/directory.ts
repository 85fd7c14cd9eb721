/** The built-in directory connector, backed by lastday's own Redis (store/directory.ts). */
import type { DirectoryStore } from '../store/directory.ts';
import type { DirectoryRevoke } from '../store/directoryRevoke.ts';
import type { AccessState, Connector, Grant, PersonRef, RecordedRevoke, RevokeRecords } from './connector.ts';

export class DirectoryConnector implements Connector {
  readonly type = 'directory';
  constructor(
    private readonly store: DirectoryStore,
    private readonly now: () => Date,
    readonly name = 'directory',
    atomicRevoke?: DirectoryRevoke,
  ) {
    // With the atomic script, `revoke` here is one write (store/directoryRevoke.ts);
    // without it (tests of the step-by-step path) the generic steps run.
    if (atomicRevoke) {
      this.revokeRecorded = (person, records, read) =>
        atomicRevoke.run(
          {
            personId: person.id,
            connector: this.name,
            revokeEffect: records.revoke,
            disableEffect: records.disable,
            at: this.now().toISOString(),
          },
          read,
        );
      this.readForRevoke = (personId) => atomicRevoke.read(personId).catch(() => undefined);
    }
  }

  readonly revokeRecorded?: (
    person: PersonRef,
    records: RevokeRecords,
    read?: unknown,
  ) => Promise<RecordedRevoke>;
  readonly readForRevoke?: (personId: string) => Promise<unknown>;

  /**
   * A grant entry that does not parse cannot be classified for `reduce`
   * (`unresolved`); once the account is inactive it is simply something
   * `revoke` removes, like every other grant here.
   */
  async read(person: PersonRef): Promise<AccessState> {
    const user = await this.store.access(person.id);
    if (!user) return { exists: false, active: false, grants: [] };
    const unreadable = user.unreadable.map((id): Grant => ({
      id,
      system: this.name,
      role: id,
      privileged: false,
    }));
    if (!user.active) return { exists: true, active: false, grants: [...user.grants, ...unreadable] };
    return {
      exists: true,
      active: true,
      grants: user.grants,
      ...(unreadable.length > 0 ? { unresolved: unreadable } : {}),
    };
  }

  async removeGrants(person: PersonRef, grants: readonly Grant[]): Promise<void> {
    await this.store.removeGrants(
      person.id,
      grants.map((g) => g.id),
      this.now().toISOString(),
    );
  }

  async restoreGrants(person: PersonRef, grants: readonly Grant[]): Promise<void> {
    await this.store.addGrants(person.id, grants, this.now().toISOString());
  }

  disable(person: PersonRef): Promise<boolean> {
    return this.store.disable(person.id, this.now().toISOString());
  }

  enable(person: PersonRef): Promise<boolean> {
    return this.store.enable(person.id, this.now().toISOString());
  }
}
