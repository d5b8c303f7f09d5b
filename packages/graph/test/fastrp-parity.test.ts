import { describe, expect, it } from 'vitest';
import { BehaviourGraph, fastRP, fillProjectionRow, nodeSeed } from '../src/index';
import { loadDiginetica } from './support/diginetica';
import { loadParityFixture } from './support/fixtures';

// Proof 1: the TS FastRP equals the independent scipy reference (reference/fastrp.py) on a
// real DIGINETICA graph, using the same hash-derived R, without running Python.
describe('FastRP parity with the Python/scipy reference', () => {
  const fx = loadParityFixture();
  const { dim } = fx.options;

  it('derives exactly the reference projection R from node ids', () => {
    const row = new Float32Array(dim);
    let mismatches = 0;
    fx.keys.forEach((key, j) => {
      fillProjectionRow(nodeSeed(key, fx.options.seed), fx.options.sparsity, row, 0, 0, dim, 1);
      for (let c = 0; c < dim; c++) if (row[c] !== fx.R[j * dim + c]) mismatches++;
    });
    expect(mismatches).toBe(0);
    // Very sparse: about 1/s of the entries are non-zero.
    const nonZero = fx.R.reduce((n, x) => n + (x !== 0 ? 1 : 0), 0) / fx.R.length;
    expect(nonZero).toBeGreaterThan(1 / fx.options.sparsity - 0.02);
    expect(nonZero).toBeLessThan(1 / fx.options.sparsity + 0.02);
  });

  it.each([
    [1, 'wasm'],
    [2, 'wasm'],
    [1, 'js'],
    [2, 'js'],
  ] as const)('matches the reference embeddings within 1e-4 (threads = %i, kernel = %s)', async (threads, kernel) => {
    const graph = new BehaviourGraph({ halfLifeMs: fx.halfLifeMs });
    graph.apply(loadDiginetica().slice(0, fx.events));
    graph.compact();
    expect(graph.nodeCount).toBe(fx.keys.length);
    expect(graph.stats().edges).toBe(fx.edges);
    const csr = graph.adjacency;
    const res = await fastRP(
      { nodeCount: csr.nodeCount, rowPtr: csr.rowPtr, cols: csr.cols, vals: csr.vals, keys: (j) => graph.nodeKey(j) },
      { ...fx.options, threads, kernel },
    );
    let maxDiff = 0;
    fx.keys.forEach((key, j) => {
      const kind = key.startsWith('u:') ? 'user' : 'item';
      const x = graph.nodeIndex(kind, key.slice(2))!;
      for (let c = 0; c < dim; c++) maxDiff = Math.max(maxDiff, Math.abs(res.embeddings[x * dim + c]! - fx.embeddings[j * dim + c]!));
    });
    console.info(`parity threads=${threads} kernel=${kernel}: ${fx.keys.length} nodes, ${fx.edges} edges, max |diff| = ${maxDiff.toExponential(2)}`);
    expect(maxDiff).toBeLessThanOrEqual(1e-4);
  });
});
