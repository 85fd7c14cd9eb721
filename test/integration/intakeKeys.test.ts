/**
 * Where intake's per-event keys live (src/store/keys.ts `ownSlots`): on a
 * cluster each event id's and webhook id's key is in a slot of its own
 * (`{<name>:event:<id>}`), not the global one; a key an earlier build wrote
 * under the global name still makes the event (or delivery) a duplicate.
 * Run on a single Redis with a tagged prefix: slots are a cluster's matter,
 * the names and the dedup are the same.
 */
import calculateSlot from 'cluster-key-slot';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { EventsStore } from '../../src/store/events.ts';
import { createKeys } from '../../src/store/keys.ts';
import { testPrefix } from '../helpers/lastday.ts';

const redis = new Redis(inject('redisUrl'));
afterAll(() => redis.disconnect());

const at = '2026-12-01T09:00:00.000Z';

describe('intake keys in slots of their own', () => {
  it('names each event id and webhook id its own tag; a single Redis keeps the plain names', () => {
    const keys = createKeys('{lastday}', { ownSlots: true });
    expect(keys.eventSeen('e/1:x')).toBe('{lastday:event:e%2F1%3Ax}');
    expect(keys.webhookSeen('msg_1')).toBe('{lastday:webhook-id:msg_1}');
    // Not the global slot, and spread: 200 ids fall on many slots.
    const slots = new Set(Array.from({ length: 200 }, (_, i) => calculateSlot(keys.eventSeen(`ev-${i}`))));
    expect(slots.has(calculateSlot('{lastday}'))).toBe(false);
    expect(slots.size).toBeGreaterThan(190);
    // Braces in an id are encoded: the tag is always the whole name.
    expect(keys.eventSeen('a}b{c')).toBe('{lastday:event:a%7Db%7Bc}');
    expect(createKeys('lastday', { ownSlots: true }).eventSeen('e1')).toBe('lastday:event:e1');
    expect(createKeys('{lastday}').eventSeen('e1')).toBe('{lastday}:event:e1');
  });

  it('one SET NX per event: the second is a duplicate', async () => {
    const prefix = `{${testPrefix()}}`;
    const events = new EventsStore(redis, createKeys(prefix, { ownSlots: true }));
    expect(await events.markAccepted('e1', at)).toBe(true);
    expect(await events.markAccepted('e1', at)).toBe(false);
    expect(await events.isAccepted('e1')).toBe(true);
    expect(await redis.exists(`${prefix}:event:e1`)).toBe(0);
    expect(await redis.get(createKeys(prefix, { ownSlots: true }).eventSeen('e1'))).toBe(at);
  });

  it('honours keys an earlier build wrote under the global names', async () => {
    const prefix = `{${testPrefix()}}`;
    const old = createKeys(prefix);
    await redis.set(old.eventSeen('old-accepted'), at);
    await redis.set(old.eventSeen('old-applied'), 'applied');
    await redis.set(old.webhookSeen('msg_old'), '1', 'EX', 60);
    const events = new EventsStore(redis, createKeys(prefix, { ownSlots: true }), old);
    expect(await events.isAccepted('old-accepted')).toBe(true);
    expect(await events.markAccepted('old-accepted', at)).toBe(false);
    expect(await events.markAccepted('old-accepted', at)).toBe(false);
    expect(await events.isApplied('old-applied')).toBe(true);
    expect(await events.isApplied('old-accepted')).toBe(false);
    expect(await events.markWebhookId('msg_old')).toBe(false);
    // New ids are accepted once, written under the new name only.
    expect(await events.markAccepted('new', at)).toBe(true);
    expect(await events.markAccepted('new', at)).toBe(false);
    expect(await redis.exists(old.eventSeen('new'))).toBe(0);
    expect(await events.markWebhookId('msg_new')).toBe(true);
    expect(await events.markWebhookId('msg_new')).toBe(false);
  });
});
