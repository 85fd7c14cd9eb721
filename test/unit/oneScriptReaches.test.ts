/**
 * Which keys one script may touch (src/store/redisClient.ts): any on a single
 * Redis, only keys of one slot on a cluster — the HR event worker folds its
 * intake mark into the person read only then (PeopleStore.getMarking).
 */
import { Cluster, Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createKeys } from '../../src/store/keys.ts';
import { oneScriptReaches } from '../../src/store/redisClient.ts';

// Never connected: only their kind is asked.
const single = new Redis({ lazyConnect: true });
const cluster = new Cluster([{ host: '127.0.0.1', port: 1 }], { lazyConnect: true });
afterAll(() => {
  single.disconnect();
  cluster.disconnect();
});

describe('oneScriptReaches', () => {
  const tagged = createKeys('{lastday}');
  const ownSlots = createKeys('{lastday}', { ownSlots: true });

  it('takes any keys on a single Redis', () => {
    expect(oneScriptReaches(single, [ownSlots.eventSeen('e-1'), ownSlots.person('p-1')])).toBe(true);
  });

  it('takes keys of one slot on a cluster, and no others', () => {
    expect(oneScriptReaches(cluster, [tagged.eventSeen('e-1'), tagged.person('p-1')])).toBe(true);
    expect(oneScriptReaches(cluster, [ownSlots.eventSeen('e-1'), ownSlots.person('p-1')])).toBe(false);
    expect(oneScriptReaches(cluster, [ownSlots.person('p-1')])).toBe(true);
  });
});
