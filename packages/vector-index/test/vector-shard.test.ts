import { ConfigError, ValidationError } from '@affinity/contracts';
import { beforeAll, describe, expect, it } from 'vitest';
import { VectorShard, type ItemAttributes, type SearchFilter } from '../src/index';
import { attributesFor, matchesFilter } from './support/fixtures';
import { bruteForceTopK, recallOf, seededRandom, syntheticSet, type SyntheticSet } from './support/synthetic';

const DIM = 384;
const N = 3000;
const K = 10;

function build(set: SyntheticSet, options: Partial<ConstructorParameters<typeof VectorShard>[0]> = {}): VectorShard {
  const shard = new VectorShard({ dim: set.dim, ...options });
  set.vectors.forEach((v, i) => shard.upsert(`p${i}`, v, attributesFor(set, i)));
  return shard;
}

function meanRecall(shard: VectorShard, set: SyntheticSet, queries: Float32Array[], filter?: SearchFilter, strategy?: 'auto' | 'graph' | 'exact'): number {
  const candidates = filter ? set.vectors.map((_, i) => i).filter((i) => matchesFilter(attributesFor(set, i), filter)) : undefined;
  let sum = 0;
  for (const q of queries) {
    const truth = bruteForceTopK(set.vectors, q, K, candidates).map((i) => `p${i}`);
    const found = shard.search(q, K, { ...(filter ? { filter } : {}), ...(strategy ? { strategy } : {}) }).map((h) => h.id);
    sum += recallOf(found, truth);
  }
  return sum / queries.length;
}

describe('VectorShard search quality (synthetic clustered 384-d set, seeded)', () => {
  let set: SyntheticSet;
  let shard: VectorShard;
  let queries: Float32Array[];

  beforeAll(() => {
    set = syntheticSet({ n: N, dim: DIM, seed: 11 });
    shard = build(set);
    queries = set.query(60, 5);
  }, 300_000);

  it('answers plain kNN with recall@10 >= 0.95 at default parameters', () => {
    expect(shard.size).toBe(N);
    expect(meanRecall(shard, set, queries, undefined, 'graph')).toBeGreaterThanOrEqual(0.95);
    expect(meanRecall(shard, set, queries)).toBeGreaterThanOrEqual(0.95);
  });

  it.each([
    ['s50', 0.5],
    ['s10', 0.1],
    ['s1', 0.01],
    ['s01', 0.001],
  ])('keeps recall@10 >= 0.95 with a filter of selectivity %s on both paths', (tag) => {
    const filter: SearchFilter = { attributes: { [tag]: 'y' } };
    for (const strategy of ['auto', 'graph', 'exact'] as const) {
      expect(meanRecall(shard, set, queries, filter, strategy), strategy).toBeGreaterThanOrEqual(0.95);
    }
  });

  it('returns only items that match the filter', () => {
    const attrs = new Map<string, ItemAttributes>(set.vectors.map((_, i) => [`p${i}`, attributesFor(set, i)]));
    const filters: SearchFilter[] = [
      { categoryPath: ['home'] },
      { categoryPath: ['Home', 'Sub 1'], price: { max: 300 } },
      { brand: ['Acme', 'HOOLI '], availability: 'in_stock' },
      { attributes: { colour: ['red', 'green'], s50: 'y' } },
      { price: { min: 100, max: 100.5 } },
      { availability: ['preorder', 'discontinued'], attributes: { colour: 'black' }, price: { min: 500 } },
    ];
    for (const filter of filters) {
      for (const strategy of ['auto', 'graph', 'exact'] as const) {
        for (const q of queries.slice(0, 10)) {
          const hits = shard.search(q, 25, { filter, strategy });
          expect(hits.length).toBeGreaterThan(0);
          for (const h of hits) expect(matchesFilter(attrs.get(h.id)!, filter), `${h.id} vs ${JSON.stringify(filter)}`).toBe(true);
        }
      }
    }
  });

  it('exact filtered search equals brute force over a reference predicate for random filters', () => {
    const rand = seededRandom(3);
    const brands = ['Acme', 'Globex', 'Initech', 'Umbrella', 'Hooli', 'Nobody'];
    for (let t = 0; t < 40; t++) {
      const filter: SearchFilter = {};
      if (rand() < 0.5) filter.brand = brands.filter(() => rand() < 0.4);
      if (rand() < 0.4) filter.categoryPath = [['Home', 'Garden', 'Toys', 'Books'][Math.floor(rand() * 4)]!];
      if (rand() < 0.5) filter.price = { min: Math.floor(rand() * 500), max: 500 + Math.floor(rand() * 600) };
      if (rand() < 0.4) filter.attributes = { colour: ['red', 'blue', 'white'].filter(() => rand() < 0.5), s10: rand() < 0.5 ? 'y' : [] };
      if (rand() < 0.3) filter.availability = ['in_stock', 'out_of_stock'];
      const q = queries[t % queries.length]!;
      const candidates = set.vectors.map((_, i) => i).filter((i) => matchesFilter(attributesFor(set, i), filter));
      const truth = bruteForceTopK(set.vectors, q, K, candidates).map((i) => `p${i}`);
      expect(shard.search(q, K, { filter, strategy: 'exact' }).map((h) => h.id), JSON.stringify(filter)).toEqual(truth);
    }
  });

  it('scores are cosine similarities, best first', () => {
    const q = queries[0]!;
    const hits = shard.search(q, K);
    for (let i = 1; i < hits.length; i++) expect(hits[i]!.score).toBeLessThanOrEqual(hits[i - 1]!.score);
    const v = shard.getVector(hits[0]!.id)!;
    let dot = 0;
    let qq = 0;
    for (let d = 0; d < DIM; d++) {
      dot += v[d]! * q[d]!;
      qq += q[d]! * q[d]!;
    }
    expect(hits[0]!.score).toBeCloseTo(dot / Math.sqrt(qq), 4);
  });

  it('plans exact scans for few matches and the filtered graph for many', () => {
    expect(shard.plan(3, 1_000_000).exact).toBe(true);
    expect(shard.plan(500_000, 1_000_000).exact).toBe(false);
    // ef' widens as selectivity falls.
    expect(shard.plan(500_000, 1_000_000).ef).toBeLessThan(shard.plan(100_000, 1_000_000).ef);
    expect(shard.plan(100_000, 1_000_000).ef).toBeLessThan(shard.plan(10_000, 1_000_000).ef);
    const before = shard.stats().searches;
    shard.search(queries[0]!, K, { filter: { attributes: { s01: 'y' } } });
    expect(shard.stats().searches.exact).toBe(before.exact + 1);
  });
});

describe('VectorShard updates', () => {
  const set = syntheticSet({ n: 1500, dim: 64, seed: 21 });

  it('never returns a deleted id after delete() returns', () => {
    const shard = build(set, { consolidateMinTombstones: 1_000_000, efConstruction: 64 });
    const queries = set.query(20, 8);
    const deleted = new Set<string>();
    for (let i = 0; i < set.vectors.length; i += 2) {
      expect(shard.delete(`p${i}`)).toBe(true);
      deleted.add(`p${i}`);
      if (i % 100 === 0) {
        // The deleted vector itself as the query: its nearest neighbour would be itself.
        const hits = shard.search(set.vectors[i]!, K, { strategy: 'graph' });
        expect(hits).toHaveLength(K);
        expect(hits.every((h) => typeof h.id === 'string' && shard.has(h.id) && !deleted.has(h.id))).toBe(true);
      }
    }
    expect(shard.delete('p0')).toBe(false);
    expect(shard.size).toBe(750);
    for (const q of queries) {
      for (const strategy of ['graph', 'exact'] as const) {
        const hits = shard.search(q, 50, { strategy });
        expect(hits).toHaveLength(50);
        expect(hits.every((h) => typeof h.id === 'string' && shard.has(h.id) && !deleted.has(h.id))).toBe(true);
        const filtered = shard.search(q, 50, { strategy, filter: { attributes: { s50: 'y' } } });
        expect(filtered.every((h) => typeof h.id === 'string' && shard.has(h.id) && !deleted.has(h.id))).toBe(true);
      }
    }
    expect(shard.stats().tombstones).toBe(750);
    expect(shard.compact()).toBe(750);
    expect(shard.stats()).toMatchObject({ tombstones: 0, freeSlots: 750 });
    for (const q of queries) expect(shard.search(q, 50, { strategy: 'graph' }).every((h) => shard.has(h.id) && !deleted.has(h.id))).toBe(true);
  });

  it('a replaced vector is never returned: the id answers with its new vector', () => {
    const shard = build(set, { efConstruction: 64 });
    const old = set.vectors[5]!;
    const replacement = set.vectors[900]!;
    shard.upsert('p5', replacement, attributesFor(set, 5));
    expect(shard.size).toBe(set.vectors.length);
    expect(shard.stats().replacements).toBe(1);
    for (const strategy of ['exact', 'graph'] as const) {
      const hits = shard.search(old, 5, { strategy });
      expect(hits[0]?.id).not.toBe('p5');
      expect(hits.every((h) => typeof h.id === 'string' && shard.has(h.id))).toBe(true);
    }
    const near = shard.search(replacement, 2, { strategy: 'graph' });
    expect(near.map((h) => h.id).sort()).toEqual(['p5', 'p900']);
    expect(near[0]!.score).toBeCloseTo(1, 5);
  });

  it('an upsert with the same vector updates attributes in place', () => {
    const shard = build(set, { efConstruction: 64 });
    const attrs: ItemAttributes = { ...attributesFor(set, 7), brand: 'Brand New' };
    shard.upsert('p7', set.vectors[7]!, attrs);
    expect(shard.stats()).toMatchObject({ attributeUpdates: 1, replacements: 0, tombstones: 0 });
    expect(shard.search(set.query(1)[0]!, 5, { filter: { brand: 'brand new' } }).map((h) => h.id)).toEqual(['p7']);
    expect(shard.search(set.vectors[7]!, 5, { filter: { brand: attributesFor(set, 7).brand! } }).some((h) => h.id === 'p7')).toBe(false);
  });

  it('stays bounded in slots and memory under sustained churn, with recall intact', () => {
    const churnSet = syntheticSet({ n: 4000, dim: 64, seed: 31 });
    const shard = new VectorShard({ dim: 64, consolidateMinTombstones: 64, efConstruction: 64 });
    const live = new Map<number, Float32Array>();
    for (let i = 0; i < 1000; i++) {
      shard.upsert(`p${i}`, churnSet.vectors[i]!, attributesFor(churnSet, i));
      live.set(i, churnSet.vectors[i]!);
    }
    const rand = seededRandom(9);
    let memoryAfterWarmup = 0;
    let maxSlots = 0;
    for (let step = 0; step < 12_000; step++) {
      const i = Math.floor(rand() * churnSet.vectors.length);
      if (live.has(i) && live.size > 900) {
        shard.delete(`p${i}`);
        live.delete(i);
      } else if (!live.has(i) && live.size < 1100) {
        shard.upsert(`p${i}`, churnSet.vectors[i]!, attributesFor(churnSet, i));
        live.set(i, churnSet.vectors[i]!);
      } else if (live.has(i)) {
        // Replace with a different vector: the old slot becomes a tombstone.
        const v = churnSet.vectors[(i + step) % churnSet.vectors.length]!;
        shard.upsert(`p${i}`, v, attributesFor(churnSet, i));
        live.set(i, v);
      }
      maxSlots = Math.max(maxSlots, shard.stats().slotsUsed);
      if (step === 2000) memoryAfterWarmup = shard.memoryBytes();
    }
    const stats = shard.stats();
    expect(stats.size).toBe(live.size);
    expect(stats.consolidations).toBeGreaterThan(10);
    // Live ≤ 1100, tombstones ≤ max(64, 10% of live) before consolidation: 1100 + 111 + slack.
    expect(maxSlots).toBeLessThanOrEqual(1300);
    expect(shard.memoryBytes()).toBeLessThanOrEqual(memoryAfterWarmup * 1.25);
    // Graph quality after many consolidations: recall against brute force over the live set.
    const ids = [...live.keys()];
    const vectors = ids.map((i) => live.get(i)!);
    let recall = 0;
    const queries = churnSet.query(40, 2);
    for (const q of queries) {
      const truth = bruteForceTopK(vectors, q, K).map((j) => `p${ids[j]!}`);
      recall += recallOf(
        shard.search(q, K, { strategy: 'graph' }).map((h) => h.id),
        truth,
      );
    }
    expect(recall / queries.length).toBeGreaterThanOrEqual(0.95);
  }, 300_000);
});

describe('VectorShard int8 quantization', () => {
  const set = syntheticSet({ n: 2000, dim: DIM, seed: 11 });
  const queries = set.query(60, 5);

  it.each(['per-dimension', 'global'] as const)('keeps recall@10 >= 0.95 with %s scales and returns exact float scores', (int8Scale) => {
    const shard = build(set, { quantization: 'int8', int8Scale, calibrationSize: 500 });
    expect(shard.stats().quantized).toBe(true);
    expect(meanRecall(shard, set, queries, undefined, 'graph')).toBeGreaterThanOrEqual(0.95);
    expect(meanRecall(shard, set, queries, { attributes: { s10: 'y' } }, 'graph')).toBeGreaterThanOrEqual(0.95);
    const q = queries[0]!;
    const hit = shard.search(q, 1, { strategy: 'graph' })[0]!;
    const exact = shard.search(q, 1, { strategy: 'exact' })[0]!;
    expect(hit.id).toBe(exact.id);
    expect(hit.score).toBe(exact.score);
  }, 300_000);
});

describe('VectorShard input checks', () => {
  it('rejects bad vectors, k and options with typed errors', () => {
    const shard = new VectorShard({ dim: 4 });
    expect(() => shard.upsert('a', new Float32Array(3))).toThrow(ValidationError);
    expect(() => shard.upsert('a', new Float32Array(4))).toThrow(/non-zero/);
    expect(() => shard.upsert('a', Float32Array.of(1, NaN, 0, 0))).toThrow(ValidationError);
    expect(() => shard.upsert('', Float32Array.of(1, 0, 0, 0))).toThrow(ValidationError);
    shard.upsert('a', Float32Array.of(1, 0, 0, 0), { price: 10 });
    expect(() => shard.search(Float32Array.of(1, 0, 0, 0), 0)).toThrow(ValidationError);
    expect(() => shard.search(Float32Array.of(1, 0, 0, 0), 1, { filter: { price: { min: 5, max: 1 } } })).toThrow(ValidationError);
    expect(() => new VectorShard({ dim: 0 })).toThrow(ConfigError);
    expect(() => new VectorShard({ dim: 8, M: 1 })).toThrow(/M/);
  });

  it('answers an empty shard and an unmatched filter with no hits', () => {
    const shard = new VectorShard({ dim: 4 });
    expect(shard.search(Float32Array.of(1, 0, 0, 0), 3)).toEqual([]);
    shard.upsert('a', Float32Array.of(1, 0, 0, 0), { brand: 'x' });
    expect(shard.search(Float32Array.of(1, 0, 0, 0), 3, { filter: { brand: 'y' } })).toEqual([]);
    expect(shard.search(Float32Array.of(0, 1, 0, 0), 3).map((h) => h.id)).toEqual(['a']);
  });

  it('reports size, memory, latency and freshness', () => {
    const shard = new VectorShard({ dim: 4 });
    expect(shard.stats()).toMatchObject({ size: 0, lastMutationAt: null, latency: { upsert: { count: 0 } } });
    const empty = shard.memoryBytes();
    const before = Date.now();
    for (let i = 0; i < 100; i++) shard.upsert(`i${i}`, Float32Array.of(1, i, i % 3, 1));
    shard.delete('i3');
    shard.search(Float32Array.of(1, 1, 1, 1), 5);
    const stats = shard.stats();
    expect(stats.size).toBe(99);
    expect(shard.size).toBe(99);
    expect(stats.latency.upsert.count).toBe(100);
    expect(stats.latency.delete.count).toBe(1);
    expect(stats.latency.search.count).toBe(1);
    expect(stats.latency.upsert.maxMs).toBeGreaterThanOrEqual(stats.latency.upsert.totalMs / 100);
    expect(stats.lastMutationAt).toBeGreaterThanOrEqual(before);
    expect(shard.memoryBytes()).toBeGreaterThan(empty);
  });
});
