import { describe, expect, it } from 'vitest';
import { Bitset } from '../src/internal/bitset';
import { HnswGraph, LIVE } from '../src/internal/hnsw-graph';
import { seededRandom, syntheticSet } from './support/synthetic';

const K = 10;

function graph(dim: number, initialCapacity: number, wasmLevel0: boolean): HnswGraph {
  const g = new HnswGraph({ dim, M: 8, efConstruction: 100, seed: 7, initialCapacity, quantization: null });
  g.wasmLevel0 = wasmLevel0;
  return g;
}

function fill(g: HnswGraph, vectors: Float32Array[]): void {
  for (const v of vectors) g.insert(g.allocSlot(), v);
}

function search(g: HnswGraph, q: Float32Array, ef: number, filter: Bitset | null): { slots: number[]; dists: number[] } {
  const slots = new Uint32Array(ef);
  const dists = new Float64Array(ef);
  const n = g.search(q, K, ef, filter, slots, dists);
  return { slots: Array.from(slots.subarray(0, n)), dists: Array.from(dists.subarray(0, n)) };
}

describe('wasm layer-0 search (RowStore.searchLevel0)', () => {
  // dim 100: rows padded to 112 floats; small initial capacity: the store grows (and moves its
  // lists, states and tags) many times while building.
  const set = syntheticSet({ n: 1500, dim: 100, seed: 3 });
  const queries = set.query(40, 9);

  it('builds the same graph as the JS loop, through many store growths', () => {
    const wasm = graph(100, 8, true);
    const js = graph(100, 2000, false);
    fill(wasm, set.vectors);
    fill(js, set.vectors);
    const a = wasm.exportState();
    const b = js.exportState();
    expect(wasm.vectors.capacity).toBeGreaterThan(1000);
    expect(a.entry).toBe(b.entry);
    expect(Buffer.from(a.level0.buffer).equals(Buffer.from(b.level0.buffer))).toBe(true);
    expect(Array.from(a.upper)).toEqual(Array.from(b.upper));
    expect(Array.from(a.state)).toEqual(Array.from(b.state));
    for (let s = 0; s < set.vectors.length; s += 97) expect(Array.from(wasm.vectors.readF32(s))).toEqual(Array.from(set.vectors[s]!));
  });

  it('returns exactly what the JS loop returns: plain, filtered (incl. candidate-heap growth), with tombstones', () => {
    const g = graph(100, 64, true);
    // A tiny candidate heap to start with: searches fill it, and it grows, many times.
    g.vectors.candidateHeapStart = 2;
    fill(g, set.vectors);
    const rand = seededRandom(21);
    for (let i = 0; i < 150; i++) g.markDeleted(Math.floor(rand() * set.vectors.length));
    const filters: (Bitset | null)[] = [null];
    for (const share of [0.5, 0.05, 0.004]) {
      const bits = new Bitset(g.capacity);
      for (let s = 0; s < set.vectors.length; s++) if (rand() < share) bits.add(s);
      filters.push(bits);
    }
    let compared = 0;
    for (const filter of filters) {
      for (const ef of [10, 40, 300]) {
        for (const q of queries) {
          g.wasmLevel0 = true;
          const got = search(g, q, ef, filter);
          g.wasmLevel0 = false;
          const want = search(g, q, ef, filter);
          expect(got).toEqual(want);
          for (const s of got.slots) {
            expect(g.state[s]).toBe(LIVE);
            if (filter) expect(filter.has(s)).toBe(true);
          }
          compared += got.slots.length;
        }
      }
    }
    expect(compared).toBeGreaterThan(1000);
  });

  it('still matches after consolidation frees and reuses slots', () => {
    const g = graph(100, 16, true);
    fill(g, set.vectors.slice(0, 1000));
    for (let s = 0; s < 1000; s += 3) g.markDeleted(s);
    expect(g.consolidate()).toBeGreaterThan(300);
    fill(g, set.vectors.slice(1000));
    for (const q of queries) {
      g.wasmLevel0 = true;
      const got = search(g, q, 64, null);
      g.wasmLevel0 = false;
      expect(got).toEqual(search(g, q, 64, null));
    }
  });
});
