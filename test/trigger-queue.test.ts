import { KeySpace } from '@affinity/store';
import { describe, expect, it } from 'vitest';
import { TriggerQueue } from '../services/recommender/src/trigger-queue';
import { redisSuite } from './support/harness';

const suite = redisSuite('triggers');


describe('recommender trigger queue on real Redis', () => {
  it('merges triggers per list, leases them, and survives a crashed worker', async () => {
    const q = new TriggerQueue(suite.redis, { keys: new KeySpace(`${suite.prefix}:a`), leaseMs: 500 });
    const t0 = 1_000_000;
    await q.add([{ listId: 'personalized:u1', eventId: 'e1', ts: 10 }], t0 + 100);
    await q.add([{ listId: 'personalized:u1', eventId: 'e2', ts: 5 }, { listId: 'similar:p1', eventId: 'e3', ts: 20 }], t0 + 200);
    expect(await q.size('high')).toBe(2);
    // Not due yet.
    expect(await q.claim(10, t0 + 50)).toEqual([]);
    const first = await q.claim(10, t0 + 150);
    expect(first.map((c) => c.listId)).toEqual(['personalized:u1']);
    expect(first[0]!.causes).toEqual(['e1', 'e2']);
    expect(first[0]!.causeTs).toBe(5);
    // A claimed trigger is invisible until its lease ends...
    expect((await q.claim(10, t0 + 250)).map((c) => c.listId)).toEqual(['similar:p1']);
    // ...and comes back if the worker never completes (crash).
    const again = await q.claim(10, t0 + 250 + 600);
    expect(again.map((c) => c.listId).sort()).toEqual(['personalized:u1', 'similar:p1']);
    for (const c of again) expect(await q.complete(c)).toBe(true);
    expect(await q.size('high')).toBe(0);
  });

  it('a failed recompute comes back after the retry delay with its causes, not after the lease', async () => {
    const q = new TriggerQueue(suite.redis, { keys: new KeySpace(`${suite.prefix}:retry`), leaseMs: 30_000 });
    const t0 = 2_000_000;
    await q.add([{ listId: 'personalized:u9', eventId: 'e9', ts: 7 }], t0);
    const [claimed] = await q.claim(10, t0);
    expect(claimed?.listId).toBe('personalized:u9');
    await q.retryAt(claimed!, t0 + 500);
    expect(await q.claim(10, t0 + 400)).toEqual([]);
    const retried = await q.claim(10, t0 + 500);
    expect(retried.map((c) => [c.listId, c.causes, c.causeTs])).toEqual([['personalized:u9', ['e9'], 7]]);
    // A retry for a lease that is no longer current (re-triggered meanwhile) changes nothing.
    await q.add([{ listId: 'personalized:u9', eventId: 'e10', ts: 8 }], t0 + 600);
    await q.retryAt(retried[0]!, t0 + 100_000);
    expect((await q.claim(10, t0 + 600)).map((c) => c.causes)).toEqual([['e9', 'e10']]);
  });

  it('a list pending in both queues keeps each queue\'s causes: completing one does not drop the other\'s', async () => {
    const q = new TriggerQueue(suite.redis, { keys: new KeySpace(`${suite.prefix}:both`), leaseMs: 30_000 });
    const t0 = 3_000_000;
    // A behaviour wave is being computed when the shopper clicks.
    await q.add([{ listId: 'personalized:u5', eventId: 'wave', ts: 1 }], t0, 'low');
    const [low] = await q.claim(10, t0);
    expect(low).toMatchObject({ priority: 'low', causes: ['wave'] });
    await q.add([{ listId: 'personalized:u5', eventId: 'click', ts: 2 }], t0 + 100, 'high');
    expect(await q.complete(low!)).toBe(true);
    const [high] = await q.claim(10, t0 + 100);
    expect(high).toMatchObject({ priority: 'high', listId: 'personalized:u5', causes: ['click'], causeTs: 2 });
  });

  it('serves high priority first; low priority waits (and merges) under load', async () => {
    const q = new TriggerQueue(suite.redis, { keys: new KeySpace(`${suite.prefix}:c`) });
    await q.add([{ listId: 'similar:bg1', eventId: 'b1', ts: 1 }, { listId: 'similar:bg2', eventId: 'b2', ts: 1 }], 0, 'low');
    await q.add([{ listId: 'personalized:u9', eventId: 'click', ts: 5 }], 10, 'high');
    const first = await q.claim(2, 20);
    expect(first.map((c) => [c.listId, c.priority])).toEqual([
      ['personalized:u9', 'high'],
      ['similar:bg1', 'low'],
    ]);
    for (const c of first) expect(await q.complete(c)).toBe(true);
    expect(await q.size('low')).toBe(1);
  });

  it('re-runs a list triggered again while it was being computed, with only the new causes', async () => {
    const q = new TriggerQueue(suite.redis, { keys: new KeySpace(`${suite.prefix}:b`), leaseMs: 10_000 });
    await q.add([{ listId: 'similar:p1', eventId: 'e1', ts: 1 }], 0);
    const [c] = await q.claim(10, 1);
    await q.add([{ listId: 'similar:p1', eventId: 'e2', ts: 2 }], 5);
    expect(await q.complete(c!)).toBe(false);
    const [rerun] = await q.claim(10, 10);
    expect(rerun!.causes).toEqual(['e2']);
    expect(await q.complete(rerun!)).toBe(true);
    expect(await q.size('high')).toBe(0);
  });
});
