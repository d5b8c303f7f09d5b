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
  userProfile,
  zScore,
  type Candidate,
  type ItemInfo,
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
});

describe('Ranker', () => {
  const r = rng(11);
  const dim = 64;
  const cal = new ScoreCalibrator({ sampleSize: 256 });
  for (let i = 0; i < 1000; i++) cal.offer(`bg${i}`, randomUnit(dim, r));
  const subjectVec = randomUnit(dim, r);
  const stats = cal.background(subjectVec)!;
  const contentCandidate = (id: string, cos: number): Candidate => {
    const vector = near(subjectVec, cos, r);
    return { productId: id, vector, signals: { content: { cos, z: zScore(cos, stats) } } };
  };

  it('drops weak matches instead of padding the list to k', () => {
    const ranker = new Ranker({ k: 10 });
    const candidates = [contentCandidate('a', 0.9), contentCandidate('b', 0.7), contentCandidate('c', 0.5), ...Array.from({ length: 20 }, (_, i) => contentCandidate(`w${i}`, 0.05))];
    const items = new Map(candidates.map((c) => [c.productId, info(c.productId)]));
    const list = ranker.rank({ kind: 'similar', subject: { ...info('s'), vector: subjectVec }, candidates, items });
    expect(list.map((x) => x.productId)).toEqual(['a', 'b', 'c']);
    expect(list[0]!.reasons[0]).toMatchObject({ code: 'similar_description', text: 'similar description 0.90' });
  });

  it('applies business rules: subject, deleted, out of stock, excluded, near-duplicates', () => {
    const ranker = new Ranker();
    const dup = { ...contentCandidate('dup', 0.99) };
    const sameTitle = contentCandidate('same-title', 0.6);
    const candidates = [contentCandidate('s', 1), contentCandidate('gone', 0.8), contentCandidate('oos', 0.8), contentCandidate('bought', 0.8), dup, sameTitle, contentCandidate('ok', 0.8)];
    const items = new Map<string, ItemInfo>([
      ['s', info('s')],
      ['oos', info('oos', { availability: 'out_of_stock' })],
      ['bought', info('bought')],
      ['dup', info('dup')],
      ['same-title', info('same-title', { title: '  item S ' })],
      ['ok', info('ok')],
    ]);
    const list = ranker.rank({ kind: 'similar', subject: { ...info('s'), vector: subjectVec }, candidates, items, exclude: new Set(['bought']) });
    expect(list.map((x) => x.productId)).toEqual(['ok']);
  });

  it('complementary lists keep bought-together items of another kind and explain them', () => {
    const ranker = new Ranker();
    const mk = (id: string, count: number, n: number, cos: number): Candidate => ({ ...contentCandidate(id, cos), signals: { copurchase: { count, npmi: n, lift: 3 } } });
    const candidates = [mk('saucer', 312, 0.45, 0.3), mk('other-mug', 200, 0.5, 0.4), mk('substitute', 150, 0.4, 0.9), mk('rare', 1, 0.9, 0.2), mk('weak', 40, 0.02, 0.2)];
    const items = new Map<string, ItemInfo>([
      ['saucer', info('saucer', { categoryPath: ['Kitchen', 'Saucers'] })],
      ['other-mug', info('other-mug', { categoryPath: ['Kitchen', 'Mugs'] })],
      ['substitute', info('substitute', { categoryPath: ['Kitchen', 'Cups'] })],
      ['rare', info('rare', { categoryPath: ['Garden'] })],
      ['weak', info('weak', { categoryPath: ['Garden'] })],
    ]);
    const subject = { ...info('mug', { categoryPath: ['Kitchen', 'Mugs'] }), vector: subjectVec };
    const list = ranker.rank({ kind: 'complementary', subject, candidates, items });
    expect(list.map((x) => x.productId)).toEqual(['saucer']);
    expect(list[0]!.reasons[0]).toEqual({ code: 'bought_together', text: 'bought together 312 times', value: 312 });
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

  it('keeps trending lists in activity order and names only the sources that carried an item', () => {
    const ranker = new Ranker();
    const trending = ranker.rank({
      kind: 'trending',
      candidates: [30, 90, 60].map((count, i) => ({ productId: `t${i}`, signals: { trending: { score: count, count } } })),
      items: new Map([0, 1, 2].map((i) => [`t${i}`, info(`t${i}`)])),
    });
    expect(trending.map((x) => x.productId)).toEqual(['t1', 't2', 't0']);
    const strong = contentCandidate('strong', 0.8);
    const personal = ranker.rank({
      kind: 'personalized',
      candidates: [{ ...strong, signals: { profile: { cos: 0.8, z: zScore(0.8, stats) }, trending: { score: 3, count: 3 } } }],
      items: new Map([['strong', info('strong')]]),
    });
    // Trending at the minimum count is a weak contributor next to a strong profile match.
    expect(personal[0]!.reasons.map((r) => r.code)).toEqual(['matches_profile']);
  });

  it('records a stable version for a configuration', () => {
    expect(new Ranker({ threshold: 0.6 }).version).toBe(new Ranker({ threshold: 0.6 }).version);
    expect(new Ranker({ threshold: 0.6 }).version).not.toBe(new Ranker({ threshold: 0.5 }).version);
    expect(() => new Ranker({ threshold: 1.5 })).toThrow(/threshold/);
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
