import type { Interaction } from '@affinity/contracts';
import { SeededRandom } from '@affinity/contracts';
import { Ranker, easeWeights, invertSpd, type ItemInfo, type RankerConfigInput } from '@affinity/recommend';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Aggregator, ContextMatrix, loadDataset, CoCountBaseline, EaseBaseline, ItemKnnBaseline, buildTasks, fitRanker, logisticRegression, objective, scoreQuery, timeSplit, type FitList, type Query } from '../src';

let n = 0;
const ev = (userId: string, productId: string, ts: number, extra: Partial<Interaction> = {}): Interaction => ({
  type: 'purchase',
  eventId: `e${n++}`,
  userId,
  productId,
  sessionId: extra.orderId ?? `s-${userId}`,
  ts,
  ...extra,
});

describe('time split', () => {
  it('splits by event time at the fraction, and never cuts an order in two', () => {
    const events = [
      ev('u1', 'a', 1, { orderId: 'o1' }),
      ev('u1', 'b', 2, { orderId: 'o1' }),
      ev('u2', 'a', 3, { orderId: 'o2' }),
      ev('u2', 'c', 8, { orderId: 'o2' }), // late line of an order that started before the split
      ev('u3', 'b', 5, { type: 'view' }),
      ev('u3', 'c', 6, { type: 'view' }),
      ev('u4', 'a', 7, { orderId: 'o3' }),
      ev('u4', 'd', 7, { orderId: 'o3' }),
      ev('u1', 'd', 9, { orderId: 'o4' }),
      ev('u1', 'e', 10, { orderId: 'o4' }),
    ];
    const s = timeSplit([...events].reverse(), 0.6);
    expect(s.splitTs).toBe(7);
    expect(s.train.map((e) => e.ts)).toEqual([1, 2, 3, 5, 6, 8]);
    expect(s.test.map((e) => e.orderId)).toEqual(['o3', 'o3', 'o4', 'o4']);
    for (const e of s.train) expect(e.orderId === undefined ? e.ts : [1, 3].includes(e.ts) || e.orderId !== 'o3').toBeTruthy();
  });
});

describe('tasks', () => {
  const train = [ev('u1', 'a', 1, { orderId: 'o1' }), ev('u1', 'b', 1, { orderId: 'o1' }), ev('u2', 'b', 2, { orderId: 'o2' })];
  const test = [
    ev('u1', 'a', 10, { orderId: 'o3' }),
    ev('u1', 'b', 10, { orderId: 'o3' }),
    ev('u1', 'new', 10, { orderId: 'o3' }),
    ev('u9', 'b', 11, { orderId: 'o4' }),
    ev('u2', 'x', 12, { type: 'view', sessionId: 's9' }),
    ev('u2', 'y', 13, { type: 'view', sessionId: 's9' }),
    ev('u2', 'y', 14, { type: 'view', sessionId: 's9' }),
  ];
  const tasks = buildTasks(train, test);

  it('hides each item of a held-out basket in turn, anchored on the rest', () => {
    const basket = tasks.get('basket')!;
    expect(basket).toHaveLength(3);
    const hideNew = basket.find((q) => q.targets.has('new'))!;
    expect(hideNew.list).toEqual({ kind: 'complementary', anchors: ['a', 'b'] });
    expect([...hideNew.known]).toEqual(['a', 'b']);
    expect(hideNew.segment).toBe('item new');
  });

  it('asks for cold items’ own lists, shoppers’ next basket and items, cold shoppers, and the next click', () => {
    expect(tasks.get('cold-items')!.map((q) => [q.list, [...q.targets]])).toEqual([[{ kind: 'complementary', anchors: ['new'] }, ['a', 'b']]]);
    expect(tasks.get('next-basket')!.map((q) => [q.list, [...q.targets].sort()])).toEqual([[{ kind: 'personalized', user: 'u1' }, ['a', 'b', 'new']]]);
    expect(tasks.get('next-items')!.map((q) => (q.list.kind === 'personalized' ? q.list.user : '')).sort()).toEqual(['u1', 'u2']);
    expect(tasks.get('cold-users')!.map((q) => (q.list.kind === 'personalized' ? q.list.user : ''))).toEqual(['u9']);
    // x is new (never seen in training), so its transition is a cold-start question — but this log has baskets, which ask about cold items.
    expect(tasks.get('session')).toBeUndefined();
  });
});

describe('metrics', () => {
  const q: Query = { task: 'basket', list: { kind: 'complementary', anchors: ['k'] }, targets: new Set(['t1', 't2']), known: new Set(['k']), segment: 's' };
  const list = (ids: string[]) => ids.map((productId, i) => ({ productId, score: 10 - i }));

  it('removes what the shopper has in view, then scores recall, NDCG and MRR at 10 and 20', () => {
    const { metrics, shown } = scoreQuery(q, list(['k', 'x', 't1', 'x', ...Array.from({ length: 12 }, (_, i) => `f${i}`), 't2']));
    expect(shown[0]).toBe('x');
    expect(shown).toHaveLength(15);
    // t1 at rank 2, t2 at rank 15.
    expect(metrics['recall@10']).toBe(0.5);
    expect(metrics['recall@20']).toBe(1);
    expect(metrics['mrr@10']).toBe(0.5);
    expect(metrics['ndcg@10']).toBeCloseTo(1 / Math.log2(3) / (1 + 1 / Math.log2(3)), 12);
    expect(metrics['ndcg@20']).toBeCloseTo((1 / Math.log2(3) + 1 / Math.log2(16)) / (1 + 1 / Math.log2(3)), 12);
  });

  it('aggregates empty lists, coverage, popularity bias and the recall curve', () => {
    const agg = new Aggregator(100, (id) => (id === 't1' ? 1 : 0));
    agg.add(q, list(['t1', 'a']));
    agg.add(q, []);
    const r = agg.result();
    expect(r.queries).toBe(2);
    expect(r.emptyShare).toBe(0.5);
    expect(r.coverage).toBe(0.02);
    expect(r.popularityBias).toBe(0.5);
    expect(r.metrics['recall@10']).toBe(0.25);
    expect(r.recallCurve[0]).toBe(0.25);
    expect(r.recallCurve.every((v, i) => i === 0 || v >= r.recallCurve[i - 1]!)).toBe(true);
  });
});

describe('baselines', () => {
  // Three baskets: {a,b,c}, {a,b}, {a,d}.
  const events = [
    ...['a', 'b', 'c'].map((p) => ev('u1', p, 1, { orderId: 'o1' })),
    ...['a', 'b'].map((p) => ev('u2', p, 2, { orderId: 'o2' })),
    ...['a', 'd'].map((p) => ev('u3', p, 3, { orderId: 'o3' })),
  ];
  const training = { products: [], events, splitTs: 4 };
  const basketQuery = (anchors: string[]): Query => ({ task: 'basket', list: { kind: 'complementary', anchors }, targets: new Set(), known: new Set(anchors), segment: '' });

  it('count co-occurrence per context', () => {
    const m = new ContextMatrix(events, 'basket');
    const a = m.index.get('a')!;
    expect(m.support(a)).toBe(3);
    expect(Object.fromEntries([...m.row(a)].map(([j, c]) => [m.itemIds[j], c]))).toEqual({ b: 2, c: 1, d: 1 });
  });

  it('score by raw counts and by cosine, filling with popularity', async () => {
    const counts = new CoCountBaseline();
    await counts.fit(training);
    expect((await counts.recommend(basketQuery(['a']), 3)).map((r) => r.productId)).toEqual(['b', 'c', 'd']);
    const knn = new ItemKnnBaseline();
    await knn.fit(training);
    const r = await knn.recommend(basketQuery(['b']), 3);
    // cos(b,a) = 2/√6, cos(b,c) = 1/√2, d never with b: filled by popularity at score 0.
    expect(r.map((x) => x.productId)).toEqual(['a', 'c', 'd']);
    expect(r[0]!.score).toBeCloseTo(2 / Math.sqrt(6), 12);
    expect(r[2]!.score).toBe(0);
  });

  it('EASE^R is the closed form: B = I − P·diag(1/diag P), P = (XᵀX + λI)⁻¹', async () => {
    // Items with support ≥ 2: a (3), b (2). G = [[3,2],[2,2]], λ = 1 × mean support = 2.5.
    const ease = new EaseBaseline({ lambdaFactor: 1 });
    await ease.fit(training);
    const [[g00, g01], [, g11]] = [
      [3 + 2.5, 2],
      [2, 2 + 2.5],
    ];
    const det = g00 * g11 - g01 * g01;
    const p00 = g11 / det;
    const p01 = -g01 / det;
    const r = await ease.recommend(basketQuery(['a']), 1);
    expect(r[0]!.productId).toBe('b');
    // B[a][b] = −P[a][b] / P[b][b] with P[b][b] = g00/det.
    expect(r[0]!.score).toBeCloseTo(-p01 / (g00 / det), 12);
    expect(p00).toBeGreaterThan(0);
  });
});

describe('linear algebra', () => {
  it('inverts a symmetric positive definite matrix', () => {
    const rng = new SeededRandom(5);
    const size = 30;
    const x = Array.from({ length: 60 }, () => Float64Array.from({ length: size }, () => (rng.next() < 0.3 ? 1 : 0)));
    const a = new Float64Array(size * size);
    for (const row of x) for (let i = 0; i < size; i++) for (let j = 0; j < size; j++) a[i * size + j]! += row[i]! * row[j]!;
    for (let i = 0; i < size; i++) a[i * size + i]! += 1;
    const inv = Float64Array.from(a);
    invertSpd(inv, size);
    for (let i = 0; i < size; i++) {
      for (let j = 0; j < size; j++) {
        let s = 0;
        for (let k = 0; k < size; k++) s += a[i * size + k]! * inv[k * size + j]!;
        expect(s).toBeCloseTo(i === j ? 1 : 0, 9);
      }
    }
    expect(() => invertSpd(Float64Array.from([0, 1, 1, 0]), 2)).toThrow(RangeError);
    const b = easeWeights(Float64Array.from(a), size, 2);
    for (let i = 0; i < size; i++) expect(b[i * size + i]).toBe(0);
  });

  it('logistic regression recovers the weights that generated the labels', () => {
    const rng = new SeededRandom(9);
    const rows: Float64Array[] = [];
    const labels: number[] = [];
    for (let i = 0; i < 6000; i++) {
      const x = Float64Array.from([rng.next() * 4, rng.next() * 2 - 1, rng.next() * 10]);
      const p = 1 / (1 + Math.exp(-(-2 + 1.5 * x[0]! - 1 * x[1]! + 0 * x[2]!)));
      rows.push(x);
      labels.push(rng.next() < p ? 1 : 0);
    }
    const { bias, w } = logisticRegression(
      rows,
      labels,
      rows.map(() => 1),
      0.01,
    );
    expect(bias).toBeCloseTo(-2, 0);
    expect(w[0]).toBeCloseTo(1.5, 0);
    expect(w[1]).toBeCloseTo(-1, 0);
    expect(Math.abs(w[2]!)).toBeLessThan(0.1);
  });
});

describe('fitting the ranker', () => {
  it('learns a warm model from behaviour-rich lists, and new subjects keep ranking with the base model', () => {
    // 150 similar lists where the item chosen next is the one with co-purchases; content is noise.
    const rng = new SeededRandom(3);
    const info = (productId: string): ItemInfo => ({ productId, title: productId, categoryPath: [], availability: 'in_stock' });
    const lists = new Map<string, FitList>();
    const queries: Query[] = [];
    for (let i = 0; i < 150; i++) {
      const subject = `s${i}`;
      const target = `t${i}`;
      const candidates = [{ productId: target, features: { copurchase: 2 + rng.next(), content: rng.next() * 3 }, evidence: {} }];
      for (let j = 0; j < 8; j++) candidates.push({ productId: `n${i}_${j}`, features: { copurchase: rng.next() * 0.5, content: rng.next() * 3 }, evidence: {} });
      const items = new Map(candidates.map((c) => [c.productId, info(c.productId)]));
      lists.set(`similar:${subject}`, { kind: 'similar', subject, targets: new Set([target]), request: { kind: 'similar', subject: info(subject), candidates, items } });
      queries.push({ task: 'session', list: { kind: 'similar', item: subject }, targets: new Set([target]), known: new Set([subject]), segment: 'all' });
    }
    const base = structuredClone(new Ranker().config) as RankerConfigInput;
    base.kinds.similar = { bias: -5, weights: { content: 0.8 }, threshold: 0.05 };
    const { config } = fitRanker(base, [{ dataset: 'synthetic', lists, queries: new Map([['similar', queries]]) }], 'test');
    const similar = config.kinds.similar;
    expect(similar.weights.copurchase ?? 0).toBeGreaterThan(0.5);
    expect(objective(config, [{ dataset: 'synthetic', lists, queries: new Map([['similar', queries]]) }], 'similar')).toBe(1);
    // No cold-start questions: a product without behaviour ranks as it did before the fit.
    expect(similar.cold).toEqual({ bias: -5, weights: { content: 0.8 }, threshold: 0.05 });
  });
});

describe('your own log', () => {
  it('reads products.csv, events.csv and dataset.json, validates every row with the topic schemas, and orders events by time', () => {
    const dir = mkdtempSync(join(tmpdir(), 'affinity-log-'));
    try {
      writeFileSync(join(dir, 'products.csv'), 'productId,title,category,brand\nm1,"Alien, the film",Films > Sci-fi,Fox\nm2,Heat,Films > Crime,\n');
      writeFileSync(join(dir, 'events.csv'), 'userId,productId,type,ts,rating\nu1,m2,rating,2024-01-02T00:00:00Z,4\nu1,m1,rating,1704067200000,5\nu2,m1,rating,2024-02-30T00:00:00Z,3\nu2,m1,purchase,1704067200000,\n');
      writeFileSync(join(dir, 'dataset.json'), JSON.stringify({ description: 'films', main: { task: 'next-items', metric: 'recall@20' }, tasks: ['next-items', 'cold-users'] }));
      const { dataset, rejected } = loadDataset(dir);
      expect(dataset.products.map((p) => [p.productId, p.title, p.categoryPath, p.brand])).toEqual([
        ['m1', 'Alien, the film', ['Films', 'Sci-fi'], 'Fox'],
        ['m2', 'Heat', ['Films', 'Crime'], undefined],
      ]);
      // 30 February does not exist: rejected and counted, the rest kept in time order.
      expect(rejected.events).toBe(1);
      expect(rejected.firstReason).toMatch(/ts/);
      expect(dataset.events.map((e) => [e.userId, e.productId, e.type, e.rating ?? null])).toEqual([
        ['u1', 'm1', 'rating', 5],
        ['u2', 'm1', 'purchase', null],
        ['u1', 'm2', 'rating', 4],
      ]);
      expect(dataset.events[0]!.sessionId).toBe('u1');
      expect(dataset.main).toEqual({ task: 'next-items', metric: 'recall@20' });
      expect(dataset.tasks).toEqual(['next-items', 'cold-users']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
