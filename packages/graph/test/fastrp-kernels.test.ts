import { describe, expect, it } from 'vitest';
import { fastRP, type CsrGraph, type FastRPOptions } from '../src/index';
import { rowCosines } from './support/compare';

/** A seeded random symmetric graph with weights from `weight(u, v)`. */
function randomGraph(n: number, edgesPerNode: number, seed: number, weight: (u: number, v: number) => number): CsrGraph {
  let s = seed >>> 0;
  const rand = (): number => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
  const rows: Map<number, number>[] = Array.from({ length: n }, () => new Map());
  for (let u = 0; u < n; u++) {
    for (let e = 0; e < edgesPerNode; e++) {
      // Skewed targets so a few hubs get long rows (the 4-edge groups and their remainders).
      const v = Math.floor(n * rand() ** 3);
      if (v === u) continue;
      const w = weight(u, v);
      rows[u]!.set(v, w);
      rows[v]!.set(u, w);
    }
  }
  const rowPtr = new Uint32Array(n + 1);
  const cols: number[] = [];
  const vals: number[] = [];
  rows.forEach((m, u) => {
    for (const [v, w] of [...m].sort((a, b) => a[0] - b[0])) {
      cols.push(v);
      vals.push(w);
    }
    rowPtr[u + 1] = cols.length;
  });
  return { nodeCount: n, rowPtr, cols: Int32Array.from(cols), vals: Float32Array.from(vals), keys: (j) => `n:${j}` };
}

async function maxDiff(graph: CsrGraph, options: FastRPOptions): Promise<{ diff: number; finite: boolean; minCos: number }> {
  const a = await fastRP(graph, { ...options, kernel: 'wasm' });
  const b = await fastRP(graph, { ...options, kernel: 'js' });
  let diff = 0;
  let finite = true;
  const all = [a.embeddings, ...a.iterates];
  for (const x of all) for (let i = 0; i < graph.nodeCount * a.dim; i++) finite &&= Number.isFinite(x[i]!);
  for (let i = 0; i < graph.nodeCount * a.dim; i++) diff = Math.max(diff, Math.abs(a.embeddings[i]! - b.embeddings[i]!));
  const cos = rowCosines(a.embeddings, b.embeddings, graph.nodeCount, a.dim).filter((c) => !Number.isNaN(c));
  return { diff, finite, minCos: Math.min(...cos) };
}

describe('FastRP kernels: WebAssembly SIMD vs scalar JS', () => {
  it.each([
    [128, 1],
    [128, 2],
    [72, 1], // dim % 16 ≠ 0: the 2-vector unroll
    [36, 2], // dim % 8 ≠ 0: the 1-vector unroll
    [30, 1], // dim % 4 ≠ 0: falls back to JS
  ])('agree to float32 rounding (dim %i, %i threads)', async (dim, threads) => {
    const g = randomGraph(3000, 6, dim, (u, v) => 1 + ((u * 31 + v * 17) % 13));
    const { diff, finite } = await maxDiff(g, { dim, threads });
    expect(finite).toBe(true);
    expect(diff).toBeLessThan(1e-5);
  });

  it('stay finite and agree on weights near float32 limits (long-decayed and huge edges)', async () => {
    // Lazy decay leaves old edges at 2^-120 of new ones; 1/deg and α/‖u‖ leave float32's range.
    const g = randomGraph(2000, 5, 9, (u, v) => ((u + v) % 3 === 0 ? 1e-38 : (u + v) % 3 === 1 ? 3e-30 : 1e30));
    const { diff, finite, minCos } = await maxDiff(g, { dim: 64, threads: 1 });
    expect(finite).toBe(true);
    expect(minCos).toBeGreaterThan(0.99999);
    expect(diff).toBeLessThan(1e-5);
  });

  it('agree with content embeddings, self weight and any content width', async () => {
    const g = randomGraph(1500, 4, 3, () => 2);
    const content = new Map<string, Float32Array>();
    for (let j = 0; j < 1500; j += 3) content.set(`n:${j}`, Float32Array.from({ length: 24 }, (_, c) => Math.sin(j * 0.1 + c)));
    for (const o of [
      { contentDim: 16 },
      { contentDim: 10 }, // not a multiple of 4: initial rows from the JS hash
      { contentDim: 16, selfWeight: 0.5 },
      { sparsity: 1 }, // t₂ = 2³²: JS hash
    ]) {
      const { diff, finite } = await maxDiff(g, { dim: 64, threads: 2, contentEmbeddings: content, ...o });
      expect(finite).toBe(true);
      expect(diff).toBeLessThan(1e-5);
    }
  });

  it('return headroom rows as zeros and iterates a full recompute can adopt', async () => {
    const g = randomGraph(1000, 4, 5, () => 1);
    const r = await fastRP(g, { dim: 32, threads: 2 }, 1300);
    expect(r.embeddings.length).toBe(1300 * 32);
    expect(r.iterates).toHaveLength(4);
    for (const x of [r.embeddings, ...r.iterates]) expect(x.subarray(1000 * 32).every((v) => v === 0)).toBe(true);
    expect(r.degrees.length).toBe(1300);
    // N₄ borrowed its buffer for x0 = L·R during the run; it must now hold A·N₃.
    let worst = 0;
    for (let u = 0; u < 1000; u++) {
      const want = new Float64Array(32);
      for (let p = g.rowPtr[u]!; p < g.rowPtr[u + 1]!; p++) {
        for (let c = 0; c < 32; c++) want[c]! += (g.vals[p]! / r.degrees[u]!) * r.iterates[2]![g.cols[p]! * 32 + c]!;
      }
      for (let c = 0; c < 32; c++) worst = Math.max(worst, Math.abs(want[c]! - r.iterates[3]![u * 32 + c]!));
    }
    expect(worst).toBeLessThan(1e-5);
  });
});
