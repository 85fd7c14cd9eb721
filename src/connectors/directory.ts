/** The built-in directory connector, backed by lastday's own Redis (store/directory.ts). */
import type { DirectoryStore } from '../store/directory.ts';
import type { AccessState, Connector, Grant, PersonRef } from './connector.ts';

export class DirectoryConnector implements Connector {
  readonly type = 'directory';
  constructor(
    private readonly store: DirectoryStore,
    private readonly now: () => Date,
    readonly name = 'directory',
  ) {}

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
