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

  async read(person: PersonRef): Promise<AccessState> {
    const user = await this.store.get(person.id);
    if (!user) return { exists: false, active: false, grants: [] };
    return { exists: true, active: user.active, grants: user.grants };
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

  async disable(person: PersonRef): Promise<void> {
    await this.store.disable(person.id, this.now().toISOString());
  }
}
