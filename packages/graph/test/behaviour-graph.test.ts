import { ConfigError, ValidationError, type Interaction } from '@affinity/contracts';
import { describe, expect, it } from 'vitest';
import { BehaviourGraph } from '../src/index';
import { loadDiginetica } from './support/diginetica';

const DAY = 24 * 3600 * 1000;
let seq = 0;
function ev(type: Interaction['type'], userId: string, productId: string, ts: number, extra: Partial<Interaction> = {}): Interaction {
  return { type, eventId: `e${++seq}`, userId, productId, sessionId: `s-${userId}`, ts, ...(type === 'rating' ? { rating: 5 } : {}), ...extra };
}

describe('BehaviourGraph', () => {
  it('weighs event types view < click < add_to_cart < purchase and ratings by value', () => {
    const g = new BehaviourGraph({ halfLifeMs: Infinity });
    g.apply([ev('view', 'a', 'v', 0), ev('click', 'a', 'c', 0), ev('add_to_cart', 'a', 't', 0), ev('purchase', 'a', 'p', 0)]);
    g.apply([ev('rating', 'b', 'r1', 0, { rating: 1 }), ev('rating', 'b', 'r5', 0, { rating: 5 }), ev('rating', 'b', 'r35', 0, { rating: 3.5 })]);
    const w = (u: string, i: string): number => g.edgeWeight(u, i);
    expect([w('a', 'v'), w('a', 'c'), w('a', 't'), w('a', 'p')]).toEqual([1, 2, 4, 8]);
    expect([w('b', 'r1'), w('b', 'r5'), w('b', 'r35')]).toEqual([0.5, 6, 3]);
    g.apply([ev('purchase', 'q', 'p', 0, { quantity: 4 })]);
    expect(w('q', 'p')).toBe(8 * 3);
  });

  it('decays weights with the half-life, lazily: the stored ratio is the ratio at any later time', () => {
    const g = new BehaviourGraph({ halfLifeMs: 7 * DAY });
    g.apply([ev('purchase', 'u', 'old', 0)]);
    g.apply([ev('purchase', 'u', 'new', 14 * DAY), ev('view', 'u', 'old', 14 * DAY)]);
    // At day 14 the first purchase is worth 8 / 4 = 2, plus the new view's 1.
    expect(g.edgeWeight('u', 'old', 14 * DAY)).toBeCloseTo(3, 5);
    expect(g.edgeWeight('u', 'new', 14 * DAY)).toBeCloseTo(8, 5);
    expect(g.edgeWeight('u', 'new', 21 * DAY)).toBeCloseTo(4, 5);
    expect(g.degree(g.nodeIndex('user', 'u')!, 14 * DAY)).toBeCloseTo(11, 5);
  });

  it('re-bases the reference time when the exponent grows, preserving every ratio', () => {
    const g = new BehaviourGraph({ halfLifeMs: DAY });
    g.apply([ev('purchase', 'u', 'a', 0)]);
    const d = g.apply([ev('purchase', 'u', 'b', 100 * DAY)]);
    expect(d.rescale).toBeCloseTo(2 ** -100, 40);
    expect(g.referenceTime).toBe(100 * DAY);
    expect(g.edgeWeight('u', 'b', 100 * DAY)).toBeCloseTo(8, 5);
    expect(g.edgeWeight('u', 'a', 100 * DAY) / g.edgeWeight('u', 'b', 100 * DAY)).toBeCloseTo(2 ** -100, 40);
  });

  it('a rebase over a long gap leaves rows whose weights underflowed with degree 0, as its snapshot has', () => {
    const g = new BehaviourGraph({ halfLifeMs: DAY });
    g.apply([ev('purchase', 'u', 'a', 0)]);
    g.apply([ev('purchase', 'v', 'b', 400 * DAY)]); // 8·2^-400 is 0 in float32
    const a = g.nodeIndex('item', 'a')!;
    expect(g.edgeWeight('u', 'a')).toBe(0);
    expect(g.degree(a)).toBe(0);
    expect(BehaviourGraph.restore(g.snapshot()).degree(a)).toBe(0);
    expect(g.degree(g.nodeIndex('item', 'b')!)).toBe(8);
  });

  it('never double counts a replayed event id', () => {
    const g = new BehaviourGraph();
    const batch = [ev('purchase', 'u', 'a', 0), ev('view', 'u', 'b', 10)];
    const first = g.apply(batch);
    const again = g.apply(batch);
    expect(first.applied).toBe(2);
    expect(again).toMatchObject({ applied: 0, duplicates: 2 });
    expect(again.touched.length).toBe(0);
    expect(g.edgeWeight('u', 'a')).toBe(8);
    // The window survives a snapshot, so a replay after a restart is still a no-op.
    const restored = BehaviourGraph.restore(g.snapshot());
    expect(restored.apply(batch).duplicates).toBe(2);
  });

  it('reports touched nodes, new nodes and the edge increments of a batch', () => {
    const g = new BehaviourGraph({ halfLifeMs: Infinity });
    g.apply([ev('view', 'u1', 'a', 0)]);
    const d = g.apply([ev('view', 'u1', 'b', 1), ev('purchase', 'u2', 'b', 2)]);
    expect(d.firstNewNode).toBe(2);
    expect([...d.touched].map((i) => g.nodeRef(i))).toEqual([
      { kind: 'user', id: 'u1' },
      { kind: 'item', id: 'b' },
      { kind: 'user', id: 'u2' },
    ]);
    expect([...d.edgeWeight]).toEqual([1, 8]);
  });

  it('counts co-purchases per order and co-session pairs, with lift and PMI', () => {
    const g = new BehaviourGraph();
    const buy = (order: string, items: string[]): Interaction[] =>
      items.map((p, k) => ev('purchase', `buyer-${order}`, p, k, { orderId: order, sessionId: `s${order}` }));
    g.apply([...buy('o1', ['a', 'b']), ...buy('o2', ['a', 'b', 'c']), ...buy('o3', ['c', 'd']), ...buy('o4', ['d'])]);
    // 4 baskets; a in 2, b in 2, ab in 2 → lift = 2·4/(2·2) = 2.
    const ab = g.pairStats('a', 'b');
    expect(ab.count).toBe(2);
    expect(ab.lift).toBeCloseTo(2);
    expect(ab.pmi).toBeCloseTo(Math.log(2));
    const top = g.coOccurrences('a', { minCount: 1 });
    expect(top.map((c) => c.productId)).toEqual(['b', 'c']);
    expect(top[1]!.lift).toBeCloseTo((1 * 4) / (2 * 2));
    // A repeated item in a basket counts once.
    g.apply(buy('o1', ['a']));
    expect(g.pairStats('a', 'b').count).toBe(2);
    // Views make co-session pairs but not co-purchases.
    g.apply([ev('view', 'v', 'x', 0, { sessionId: 'S' }), ev('view', 'v', 'y', 1, { sessionId: 'S' })]);
    expect(g.pairStats('x', 'y', 'session').count).toBe(1);
    expect(g.pairStats('x', 'y', 'purchase').count).toBe(0);
  });

  it('rebuilds the same state from a snapshot, from Redis-sized chunks, and by replaying the events', () => {
    const events = loadDiginetica().slice(0, 4000);
    const live = new BehaviourGraph({ compactMinDelta: 64 });
    for (let i = 0; i < 3000; i += 100) live.apply(events.slice(i, i + 100));
    const chunks = live.snapshotChunks(64 * 1024);
    expect(chunks.length).toBeGreaterThan(1);
    const restored = BehaviourGraph.fromChunks(chunks);
    const replayed = new BehaviourGraph({ compactMinDelta: 64 });
    replayed.apply(events.slice(0, 3000));
    for (const g of [live, restored, replayed]) g.apply(events.slice(3000));
    const fingerprint = (g: BehaviourGraph): string => {
      g.compact();
      const keys = Array.from({ length: g.nodeCount }, (_, i) => g.nodeKey(i));
      const rows = keys.map((k, i) => {
        const nb: string[] = [];
        g.adjacency.forEachNeighbor(i, (v, w) => nb.push(`${g.nodeKey(v)}=${w.toPrecision(6)}`));
        return `${k}:${nb.sort().join(',')}`;
      });
      return rows.sort().join('\n');
    };
    const f = fingerprint(live);
    expect(fingerprint(restored)).toBe(f);
    expect(fingerprint(replayed)).toBe(f);
    const { memoryBytes: _a, ...restoredStats } = restored.stats();
    const { memoryBytes: _b, ...liveStats } = live.stats();
    expect(restoredStats).toEqual(liveStats);
    expect(restored.coOccurrences('25911', { by: 'session', minCount: 1 })).toEqual(live.coOccurrences('25911', { by: 'session', minCount: 1 }));
  });

  it('refuses a corrupted or truncated snapshot', () => {
    const g = new BehaviourGraph();
    g.apply([ev('view', 'u', 'a', 0)]);
    const buf = g.snapshot();
    const bad = Buffer.from(buf);
    bad[bad.length - 40]! ^= 1;
    expect(() => BehaviourGraph.restore(bad)).toThrow(ValidationError);
    expect(() => BehaviourGraph.fromChunks(g.snapshotChunks(100).slice(1))).toThrow(ValidationError);
  });

  it('fails fast on options that cannot work', () => {
    expect(() => new BehaviourGraph({ typeWeights: { view: 5 } })).toThrow(ConfigError);
    expect(() => new BehaviourGraph({ halfLifeMs: -1 })).toThrow(/halfLifeMs/);
  });
});
