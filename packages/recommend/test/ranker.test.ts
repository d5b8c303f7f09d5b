import { describe, expect, it } from 'vitest';
import {
  Ranker,
  ScoreCalibrator,
  forwardDecayIncrement,
  forwardDecayValue,
  lift,
  mmrSelect,
  normalizeInPlace,
  npmi,
  sampleHash,
  userProfile,
  zScore,
  type Candidate,
  type ItemInfo,
  type RankerConfigInput,
} from '../src';

function rng(seed: number): () => number {
  return () => {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    return seed / 4294967296;
  };
}

function randomUnit(dim: number, r: () => number): Float32Array {
  const v = new Float32Array(dim);
  for (let i = 0; i < dim; i++) v[i] = r() * 2 - 1;
  return normalizeInPlace(v);
}

/** A unit vector at cosine ≈ c from `base`. */
function near(base: Float32Array, c: number, r: () => number): Float32Array {
  const noise = randomUnit(base.length, r);
  // Remove the component along base, then mix.
  let d = 0;
  for (let i = 0; i < base.length; i++) d += noise[i]! * base[i]!;
  for (let i = 0; i < base.length; i++) noise[i]! -= d * base[i]!;
  normalizeInPlace(noise);
  const out = new Float32Array(base.length);
  const s = Math.sqrt(1 - c * c);
  for (let i = 0; i < base.length; i++) out[i] = c * base[i]! + s * noise[i]!;
  return normalizeInPlace(out);
}

const info = (id: string, extra: Partial<ItemInfo> = {}): ItemInfo => ({ productId: id, title: `Item ${id}`, categoryPath: ['Home'], availability: 'in_stock', ...extra });

describe('co-occurrence statistics', () => {
  it('computes lift and NPMI as defined', () => {
    // 1000 baskets; x in 100, y in 50, both in 25: P(xy)=0.025, P(x)P(y)=0.005 → lift 5.
    const c = { both: 25, x: 100, y: 50, total: 1000 };
    expect(lift(c)).toBeCloseTo(5, 10);
    expect(npmi(c)).toBeCloseTo(Math.log(5) / -Math.log(0.025), 10);
    expect(npmi({ both: 0, x: 1, y: 1, total: 10 })).toBe(-1);
  });
});

describe('score calibration', () => {
  it('puts a true neighbour many σ above chance and a random item near 0', () => {
    const r = rng(7);
    const cal = new ScoreCalibrator({ sampleSize: 256 });
    for (let i = 0; i < 2000; i++) cal.offer(`i${i}`, randomUnit(64, r));
    expect(cal.size).toBe(256);
    const q = randomUnit(64, r);
    const stats = cal.background(q)!;
    expect(Math.abs(stats.mean)).toBeLessThan(0.05);
    expect(zScore(0.8, stats)).toBeGreaterThan(5);
    expect(Math.abs(zScore(0.01, stats))).toBeLessThan(1);
  });

  it('keeps the same sample whatever order the catalog arrives in (a bottom-k sketch, not a reservoir)', () => {
    const r = rng(3);
    const catalog = Array.from({ length: 600 }, (_, i) => [`p${i}`, randomUnit(16, r)] as const);
    const inOrder = new ScoreCalibrator({ sampleSize: 64 });
    const shuffled = new ScoreCalibrator({ sampleSize: 64 });
    for (const [id, v] of catalog) inOrder.offer(id, v);
    const order = [...catalog].sort((a, b) => sampleHash(a[0] + 'x') - sampleHash(b[0] + 'x'));
    for (const [id, v] of order) shuffled.offer(id, v);
    const q = randomUnit(16, r);
    expect(shuffled.background(q)).toEqual(inOrder.background(q));
    // The kept ids are exactly the 64 smallest hashes; removing one lets the 65th in only on a new offer.
    const smallest = [...catalog].sort((a, b) => sampleHash(a[0]) - sampleHash(b[0])).slice(0, 64);
    const fresh = new ScoreCalibrator({ sampleSize: 64 });
    for (const [id, v] of smallest) fresh.offer(id, v);
    expect(fresh.background(q)).toEqual(inOrder.background(q));
    inOrder.remove(smallest[0]![0]);
    expect(inOrder.size).toBe(63);
  });
});

describe('Ranker', () => {
  const r = rng(11);
  const dim = 64;
  const subjectVec = randomUnit(dim, r);
  /** A config with one weight per feature named, threshold 0 unless given. */
  const config = (kind: 'similar' | 'complementary' | 'personalized', bias: number, weights: Record<string, number>, threshold = 0, k = 20): RankerConfigInput => {
    const kinds = Object.fromEntries((['similar', 'complementary', 'personalized', 'trending'] as const).map((kd) => [kd, { bias: -10, weights: {}, threshold: 0 }]));
    kinds[kind] = { bias, weights, threshold };
    kinds.trending = { bias: 0, weights: { trending: 1 }, threshold: 0 };
    return { kinds: kinds as RankerConfigInput['kinds'], k };
  };
  const cand = (id: string, features: Candidate['features'], cos = 0.3, evidence: Candidate['evidence'] = {}): Candidate => ({ productId: id, features, evidence, vector: near(subjectVec, cos, r) });
  const subject = { ...info('s'), vector: subjectVec };

  it('ranks by the logistic blend of the features with the kind’s weights', () => {
    const ranker = new Ranker(config('similar', -2, { content: 0.5, cooccurrence: 1 }));
    const candidates = [cand('a', { content: 4 }), cand('b', { content: 1, cooccurrence: 3 }), cand('c', { content: 2 })];
    const list = ranker.rank({ kind: 'similar', subject, candidates, items: new Map(candidates.map((c) => [c.productId, info(c.productId)])) });
    // b: σ(−2 + 0.5 + 3) > a: σ(−2 + 2) > c: σ(−2 + 1)
    expect(list.map((x) => x.productId)).toEqual(['b', 'a', 'c']);
    expect(list[0]!.score).toBeCloseTo(1 / (1 + Math.exp(-1.5)), 6);
    expect(ranker.score('similar', { content: 4, popularity: 9 }).relevance).toBeCloseTo(0.5, 10);
  });

  it('cuts weak matches, then fills the list with labelled fillers ranked below every merit item', () => {
    const ranker = new Ranker(config('complementary', -3, { copurchase: 1 }, 0.5, 4));
    const candidates = [cand('strong', { copurchase: 5 }, 0.3, { boughtTogether: 140 }), cand('weak', { copurchase: 1 })];
    const items = new Map(['strong', 'weak', 'p1', 'p2', 'p3'].map((id) => [id, info(id)]));
    const list = ranker.rank({
      kind: 'complementary',
      subject,
      candidates,
      items,
      fallback: [
        { productId: 'p1', reason: 'category', label: 'Mugs', value: 30 },
        { productId: 'strong', reason: 'popular', value: 99 },
        { productId: 'p2', reason: 'popular', value: 20 },
        { productId: 'p3', reason: 'trending', value: 4.25 },
      ],
    });
    expect(list.map((x) => x.productId)).toEqual(['strong', 'p1', 'p2', 'p3']);
    expect(list[0]!.reasons[0]).toEqual({ code: 'bought_together', text: 'bought together 140 times', value: 140 });
    expect(list.slice(1).map((x) => x.reasons[0]!.code)).toEqual(['fallback_category', 'fallback_popular', 'fallback_trending']);
    expect(list[1]!.reasons[0]!.text).toBe('popular in Mugs');
    // Scores keep the order: fillers below the merit item and decreasing.
    for (let i = 1; i < list.length; i++) expect(list[i]!.score).toBeLessThan(list[i - 1]!.score);
    // Without fillers the cut-off leaves the list short rather than padding it with weak matches.
    expect(ranker.rank({ kind: 'complementary', subject, candidates, items }).map((x) => x.productId)).toEqual(['strong']);
  });

  it('applies business rules to merit items and fillers alike: subject, deleted, out of stock, excluded, same product', () => {
    const ranker = new Ranker(config('similar', 0, { content: 1 }));
    const candidates = [cand('s', { content: 5 }, 1), cand('gone', { content: 3 }), cand('oos', { content: 3 }), cand('bought', { content: 3 }), cand('dup', { content: 3 }, 0.99), cand('same-title', { content: 3 }), cand('ok', { content: 3 })];
    const items = new Map<string, ItemInfo>([
      ['s', info('s')],
      ['oos', info('oos', { availability: 'out_of_stock' })],
      ['bought', info('bought')],
      ['dup', info('dup')],
      ['same-title', info('same-title', { title: '  item S ' })],
      ['ok', info('ok')],
    ]);
    const fallback = ['gone', 'oos', 'bought', 's'].map((productId) => ({ productId, reason: 'popular' as const, value: 1 }));
    const list = ranker.rank({ kind: 'similar', subject, candidates, items, fallback, exclude: new Set(['bought']) });
    expect(list.map((x) => x.productId)).toEqual(['ok']);
  });

  it('decides substitute or complement from the fitted weights, not from a category rule', () => {
    // The same candidates under two catalogs' fitted weights: one where similar items are bought
    // together (matching sets), one where they replace each other.
    const candidates = [cand('same-kind', { copurchase: 2, content: 6, category: 1 }, 0.9), cand('other-kind', { copurchase: 2, content: 0 }, 0.1)];
    const items = new Map([
      ['same-kind', info('same-kind', { categoryPath: ['Kitchen', 'Mugs'] })],
      ['other-kind', info('other-kind', { categoryPath: ['Kitchen', 'Saucers'] })],
    ]);
    const mug = { ...info('mug', { categoryPath: ['Kitchen', 'Mugs'] }), vector: subjectVec };
    const sets = new Ranker(config('complementary', -2, { copurchase: 1, content: 0.3, category: 0.5 }));
    const substitutes = new Ranker(config('complementary', -2, { copurchase: 1, content: -0.4, category: -0.5 }));
    expect(sets.rank({ kind: 'complementary', subject: mug, candidates, items }).map((x) => x.productId)).toEqual(['same-kind', 'other-kind']);
    expect(substitutes.rank({ kind: 'complementary', subject: mug, candidates, items }).map((x) => x.productId)).toEqual(['other-kind', 'same-kind']);
  });

  it('names the sources that carried an item, strongest first, and not the weak ones', () => {
    const ranker = new Ranker(config('personalized', -3, { cooccurrence: 1, content: 0.8, trending: 0.05, repeat: 2 }));
    const c = cand('x', { cooccurrence: 3, content: 4, trending: 2, repeat: 1.2 }, 0.5, {
      engagedTogether: 12,
      anchorTitle: 'Blue mug',
      contentCos: 0.61,
      trending: 6.5,
      ownCount: 3,
    });
    const [item] = ranker.rank({ kind: 'personalized', candidates: [c], items: new Map([['x', info('x')]]) });
    expect(item!.reasons.map((x) => x.code)).toEqual(['matches_profile', 'chosen_together', 'bought_before']);
    expect(item!.reasons[1]!.text).toBe('shoppers who chose Blue mug also chose it (12)');
    expect(item!.reasons[2]!.text).toBe('you chose it 3 times before');
  });

  it('diversifies with MMR: a second copy of the same direction loses to a different good item', () => {
    const a = randomUnit(8, r);
    const b = near(a, 0.96, r);
    const c = randomUnit(8, r);
    const order = mmrSelect(
      [
        { score: 0.95, vector: a },
        { score: 0.94, vector: b },
        { score: 0.9, vector: c },
      ],
      2,
      0.7,
    );
    expect(order).toEqual([0, 2]);
  });

  it('keeps trending lists in activity order and fills them with popular items', () => {
    const ranker = new Ranker();
    const trending = ranker.rank({
      kind: 'trending',
      candidates: [30, 90, 60].map((count, i) => ({ productId: `t${i}`, features: { trending: Math.log1p(count) }, evidence: { trending: count } })),
      fallback: [{ productId: 'p', reason: 'popular', value: 500 }],
      items: new Map(['t0', 't1', 't2', 'p'].map((id) => [id, info(id)])),
    });
    expect(trending.map((x) => x.productId)).toEqual(['t1', 't2', 't0', 'p']);
    expect(trending[0]!.reasons[0]!.code).toBe('trending');
  });

  it('records a stable version per configuration and refuses an invalid one', () => {
    const a = config('similar', -1, { content: 1 }, 0.2);
    expect(new Ranker(a).version).toBe(new Ranker(structuredClone(a)).version);
    expect(new Ranker(a).version).not.toBe(new Ranker(config('similar', -1, { content: 1 }, 0.3)).version);
    expect(new Ranker(a).version).not.toBe(new Ranker(a, { k: 5 }).version);
    expect(() => new Ranker(config('similar', -1, { content: 1 }, 1.5))).toThrow(/threshold|1/);
    expect(() => new Ranker({ ...a, kinds: { ...a.kinds, similar: { bias: 0, weights: { nonsense: 1 } as never, threshold: 0 } } })).toThrow();
    // The bundled defaults are valid and name their source.
    expect(new Ranker().config.source.length).toBeGreaterThan(0);
  });

  it('the bundled defaults give a new product of a catalog without behaviour a similar list from its description', () => {
    // A catalog before any shopper: a clear content neighbour (5σ above chance), nothing else.
    const ranker = new Ranker();
    const candidates = [cand('twin', { content: 5 }, 0.8, { contentCos: 0.8 }), cand('noise', { content: 0.2 })];
    const items = new Map(candidates.map((c) => [c.productId, info(c.productId)]));
    const cold = ranker.rank({ kind: 'similar', subject, candidates, items, cold: true });
    expect(cold.map((x) => x.productId)).toEqual(['twin']);
    expect(cold[0]!.reasons[0]!.code).toBe('similar_description');
  });
});

describe('user profile and trending decay', () => {
  it('weights recent and stronger interactions more', () => {
    const now = 1_700_000_000_000;
    const day = 24 * 3600 * 1000;
    const x = new Float32Array([1, 0]);
    const y = new Float32Array([0, 1]);
    const p = userProfile(
      [
        { vector: x, weight: 1, ts: now - 14 * day },
        { vector: y, weight: 1, ts: now },
      ],
      now,
      { halfLifeMs: 7 * day },
    )!;
    // y has 4x the weight of x after two half-lives.
    expect(p[1]! / p[0]!).toBeCloseTo(4, 5);
    expect(userProfile([], now)).toBeUndefined();
  });

  it('forward decay reads back as exponentially decayed counts', () => {
    const epoch = 0;
    const h = 3600_000;
    const stored = forwardDecayIncrement(1, 10 * h, epoch, h) + forwardDecayIncrement(1, 11 * h, epoch, h);
    expect(forwardDecayValue(stored, 11 * h, epoch, h)).toBeCloseTo(1.5, 10);
  });
});
