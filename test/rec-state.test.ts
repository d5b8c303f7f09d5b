/**
 * The recommender's statistics in a real Redis: history co-occurrence over a sliding window of
 * first touches, the rebuy rate, popularity overall and per category, the calibration sample,
 * brand and delete bookkeeping, and the linear item–item model refitted from the counts.
 */
import type { EnrichedProduct, Interaction } from '@affinity/contracts';
import { RecState, refreshLinearModel } from '@affinity/lists';
import { easeWeights, sampleHash } from '@affinity/recommend';
import { KeySpace } from '@affinity/store';
import { describe, expect, it } from 'vitest';
import { redisSuite } from './support/harness';

const suite = redisSuite('recstate');
let seq = 0;
const state = (label: string, historyWindow = 2) => new RecState(suite.redis, { keys: new KeySpace(`${suite.prefix}-${label}`), historyWindow });
const ev = (userId: string, productId: string, basket: string, type: Interaction['type'] = 'purchase'): Interaction => ({ type, eventId: `e${seq++}`, userId, productId, sessionId: basket, orderId: basket, ts: 1_700_000_000_000 + seq });
const product = (id: string, extra: Partial<EnrichedProduct['product']> = {}, updatedAt = 1): EnrichedProduct => ({
  type: 'product.enriched',
  eventId: `p-${id}-${updatedAt}`,
  sourceEventId: `s-${id}`,
  productId: id,
  product: { productId: id, eventId: `s-${id}`, title: `Item ${id}`, description: '', categoryPath: ['Food', 'Fruit'], price: 1, currency: 'EUR', availability: 'in_stock', seller: 'x', updatedAt, ...extra },
  contentHash: id,
  attributes: [],
  embedding: { modelId: 'm', dim: 2, vector: Float32Array.from([1, 0]) },
  sourceTs: updatedAt,
  enrichedAt: updatedAt,
});

async function apply(s: RecState, events: Interaction[]): Promise<void> {
  for (const e of events) expect(await s.applyInteraction(e)).toBe(true);
}

describe('RecState statistics', () => {
  it('pairs each first touch with the shopper’s last few first-touched items, once per shopper', async () => {
    const s = state('history', 2);
    await apply(s, [ev('u1', 'a', 'b1', 'view'), ev('u1', 'b', 'b1', 'view'), ev('u1', 'c', 'b1', 'view'), ev('u1', 'a', 'b2', 'view'), ev('u1', 'd', 'b2', 'view')]);
    await apply(s, [ev('u2', 'a', 'b3', 'view'), ev('u2', 'b', 'b3', 'view')]);
    const rows = await s.neighbours('history', ['a', 'b', 'c', 'd'], 10);
    const asObject = (id: string) => Object.fromEntries(rows.get(id)!.map((r) => [r.productId, r.both]));
    // Window 2: c pairs with b and a; d (after re-touching a, which adds nothing) pairs with c and b only.
    expect(asObject('a')).toEqual({ b: 2, c: 1 });
    expect(asObject('c')).toEqual({ a: 1, b: 1, d: 1 });
    expect(asObject('d')).toEqual({ b: 1, c: 1 });
    expect(Object.fromEntries(await s.supports('history', ['a', 'b', 'c', 'd']))).toEqual({ a: 2, b: 2, c: 1, d: 1 });
    expect(Object.fromEntries(await s.userItems('u1'))).toEqual({ a: 2, b: 1, c: 1, d: 1 });
    expect((await s.popular(2)).map((p) => p.productId).sort()).toEqual(['a', 'b']);
  });

  it('measures the rebuy rate on returning shoppers’ later baskets, shrunk over the first 50 items', async () => {
    const s = state('rebuy');
    // First baskets never count; u1's second basket has 4 items, 3 of them bought before.
    const last = ev('u1', 'd', 'o2');
    await apply(s, [ev('u1', 'a', 'o1'), ev('u1', 'b', 'o1'), ev('u1', 'c', 'o1'), ev('u1', 'a', 'o2'), ev('u1', 'b', 'o2'), ev('u1', 'c', 'o2'), last]);
    await apply(s, [ev('u2', 'a', 'o3'), ev('u2', 'a', 'o3')]); // a duplicate line in one basket is not a rebuy
    expect(await s.repeatRate()).toBeCloseTo(3 / (4 + 50), 12);
    // A replayed event changes nothing.
    expect(await s.applyInteraction(last)).toBe(false);
    expect(await s.repeatRate()).toBeCloseTo(3 / 54, 12);
  });

  it('keeps popularity per category, a deterministic calibration sample, and brand and delete bookkeeping', async () => {
    const s = state('catalog');
    const ids = Array.from({ length: 40 }, (_, i) => `p${i}`);
    for (const id of ids) await s.upsertItem(product(id, { brand: 'Acme', categoryPath: id === 'p1' ? ['Food', 'Veg'] : ['Food', 'Fruit'] }), 1);
    await apply(s, [ev('u1', 'p0', 'o1'), ev('u2', 'p0', 'o2'), ev('u2', 'p1', 'o2')]);
    expect(await s.popular(5, { path: ['Food', 'Fruit'], depth: 2 })).toEqual([{ productId: 'p0', shoppers: 2 }]);
    expect((await s.popular(5, { path: ['Food'], depth: 1 })).map((p) => p.productId)).toEqual(['p0', 'p1']);
    // Leaf categories bought together, once per basket: fruit in o1 and o2, vegetables with it in o2.
    await apply(s, [ev('u2', 'p3', 'o2')]);
    const { rows, baskets } = await s.categoryAssociations(['food > fruit'], 5);
    expect(rows.get('food > fruit')).toEqual([{ category: 'food > veg', both: 1 }]);
    expect(Object.fromEntries(baskets)).toEqual({ 'food > fruit': 2, 'food > veg': 1 });
    // The calibration sample is the bottom-k of the id hash, whatever the arrival order.
    const expected = [...ids].sort((a, b) => sampleHash(a) - sampleHash(b) || (a < b ? -1 : 1)).slice(0, 8);
    expect(await s.sampleItemIds(8)).toEqual(expected);
    // A brand change leaves the old brand's set.
    await s.upsertItem(product('p2', { brand: 'Other' }, 2), 2);
    expect(await s.itemsOfBrand('acme', 100)).not.toContain('p2');
    expect(await s.itemsOfBrand('other', 100)).toEqual(['p2']);
    // A delete leaves popularity and category popularity.
    expect(await s.deleteItem('p0', 3)).toBe(true);
    expect((await s.popular(5)).map((p) => p.productId).sort()).toEqual(['p1', 'p3']);
    expect(await s.popular(5, { path: ['Food', 'Fruit'], depth: 2 })).toEqual([{ productId: 'p3', shoppers: 1 }]);
    expect(await s.sampleItemIds(100)).not.toContain('p0');
  });

  it('refits the linear model from the basket counts, exactly the closed form, as a new version', async () => {
    const s = state('linear');
    const baskets = [['a', 'b', 'c'], ['a', 'b'], ['a', 'd'], ['b', 'c'], ['a', 'b', 'd'], ['c', 'd']];
    await apply(
      s,
      baskets.flatMap((b, i) => b.map((p) => ev(`u${i}`, p, `o${i}`))),
    );
    const r = await refreshLinearModel(s, 'basket', { lambdaFactor: 1 });
    expect(r.items).toBe(4);
    // The same model from the counts by hand: items by support desc, then id (a 4, b 4, c 3, d 3).
    const items = ['a', 'b', 'c', 'd'];
    const count = (x: string, y: string) => baskets.filter((b) => b.includes(x) && b.includes(y)).length;
    const gram = Float64Array.from(items.flatMap((x) => items.map((y) => count(x, y))));
    const b = easeWeights(gram, 4, (4 + 4 + 3 + 3) / 4);
    const stored = await s.linearNeighbours('basket', items, 10);
    items.forEach((x, i) => {
      const want = items.map((y, j) => [y, b[i * 4 + j]!] as const).filter(([, w]) => w > 0);
      const got = stored.get(x)!;
      expect(got.map((g) => g.productId).sort()).toEqual(want.map(([y]) => y).sort());
      for (const g of got) expect(g.weight).toBeCloseTo(want.find(([y]) => y === g.productId)![1], 9);
    });
    // A second fit is a new version; the first version's keys expire soon instead of lingering.
    await refreshLinearModel(s, 'basket', { lambdaFactor: 4 });
    const base = new KeySpace(`${suite.prefix}-linear`).key('linear', 'basket');
    expect(await suite.redis.get(`${base}:current`)).toBe('2');
    const ttl = await suite.redis.ttl(`${base}:v1:a`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(600);
  });
});
