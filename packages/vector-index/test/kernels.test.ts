import { describe, expect, it } from 'vitest';
import { RowStore } from '../src/internal/row-store';
import { seededRandom } from './support/synthetic';

function jsDot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

describe('wasm SIMD kernels', () => {
  it.each([1, 15, 16, 17, 100, 384, 1000])('float dot products match a scalar loop at dim %i, padding included', (dim) => {
    const rand = seededRandom(dim);
    const store = new RowStore('f32', dim, 4);
    const rows = Array.from({ length: 40 }, () => Float32Array.from({ length: dim }, () => rand() - 0.5));
    store.ensureCapacity(rows.length);
    rows.forEach((r, i) => store.writeF32(i, r));
    const q = Float32Array.from({ length: dim }, () => rand() - 0.5);
    store.setQueryF32(q);
    const ids = [3, 0, 39, 17, 17];
    store.ids.set(ids);
    const out = store.queryDotMany(ids.length);
    ids.forEach((id, i) => {
      expect(out[i]).toBeCloseTo(jsDot(q, rows[id]!), 4);
      expect(store.queryDot(id)).toBeCloseTo(jsDot(q, rows[id]!), 4);
    });
    expect(store.rowDot(5, 6)).toBeCloseTo(jsDot(rows[5]!, rows[6]!), 4);
    expect(Array.from(store.readF32(7))).toEqual(Array.from(rows[7]!));
  });

  it('int8 dot products are exact integers', () => {
    const rand = seededRandom(5);
    const dim = 200;
    const store = new RowStore('i8', dim, 8);
    const rows = Array.from({ length: 8 }, () => Int8Array.from({ length: dim }, () => Math.round((rand() - 0.5) * 254)));
    rows.forEach((r, i) => store.writeI8(i, r));
    const q = Int8Array.from({ length: dim }, () => (rand() < 0.5 ? -127 : 127));
    store.setQueryI8(q);
    store.ids.set([0, 7, 3]);
    const out = store.queryDotMany(3);
    expect(Array.from(out.subarray(0, 3))).toEqual([0, 7, 3].map((i) => jsDot(q, rows[i]!)));
    expect(store.rowDot(1, 2)).toBe(jsDot(rows[1]!, rows[2]!));
  });

  it('keeps rows when the memory grows', () => {
    const store = new RowStore('f32', 384, 1);
    const first = Float32Array.from({ length: 384 }, (_, i) => i / 384);
    store.writeF32(0, first);
    store.ensureCapacity(5000);
    expect(store.capacity).toBeGreaterThanOrEqual(5000);
    expect(Array.from(store.readF32(0))).toEqual(Array.from(first));
  });
});
