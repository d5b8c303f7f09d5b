import { describe, expect, it } from 'vitest';
import { BehaviourGraph, IncrementalFastRP, fastRP } from '../src/index';
import { distribution, rowCosines } from './support/compare';
import { loadDiginetica } from './support/diginetica';

// Proof 2: streaming 10,000 real interactions one event at a time through the incremental
// update gives (almost) the embeddings that a full recompute gives on the final graph.
describe('incremental FastRP ≈ full recompute on 10,000 DIGINETICA interactions', () => {
  it('mean cosine ≥ 0.99, with the distribution reported', async () => {
    const events = loadDiginetica().slice(0, 10_000);
    const dim = 64;
    const graph = new BehaviourGraph();
    const emb = await IncrementalFastRP.create(graph, { dim, threads: 1 });
    let touched = 0;
    let dropped = 0;
    let reported = 0;
    const t = performance.now();
    for (const e of events) {
      const r = emb.update(graph.apply([e]));
      touched += r.touchedRows;
      dropped += r.droppedPushes;
      reported += r.changed.length;
    }
    const perEventMs = (performance.now() - t) / events.length;
    const csr = graph.adjacency;
    csr.compact();
    const full = await fastRP(
      { nodeCount: csr.nodeCount, rowPtr: csr.rowPtr, cols: csr.cols, vals: csr.vals, keys: (j) => graph.nodeKey(j) },
      { dim, threads: 1 },
    );
    const dist = distribution(rowCosines(emb.embeddings(), full.embeddings, graph.nodeCount, dim));
    console.info(
      `incremental vs full: ${JSON.stringify(dist)}; nodes ${graph.nodeCount}, edges ${graph.stats().edges}, ` +
        `rows touched ${touched}, pushes dropped ${dropped}, vectors reported ${reported}, drift ${emb.drift.toExponential(2)}, ` +
        `needsFullRecompute ${emb.needsFullRecompute}, ${perEventMs.toFixed(3)} ms/event`,
    );
    expect(dist.count).toBe(graph.nodeCount);
    expect(dist.mean).toBeGreaterThanOrEqual(0.99);
    expect(dist.p5).toBeGreaterThan(0.95);
  });

  it('with a tight budget it drifts, says so, and a full recompute restores exactness', async () => {
    const events = loadDiginetica().slice(0, 3000);
    const graph = new BehaviourGraph();
    const emb = await IncrementalFastRP.create(graph, { dim: 32, threads: 1, maxTouchedPerEdge: 1, driftThreshold: 1e-4 });
    let signalled = 0;
    emb.onNeedsFullRecompute(() => signalled++);
    for (let i = 0; i < events.length; i += 50) emb.update(graph.apply(events.slice(i, i + 50)));
    expect(emb.needsFullRecompute).toBe(true);
    expect(signalled).toBe(1);
    const before = emb.embeddings().slice();
    const res = await emb.fullRecompute();
    expect(emb.needsFullRecompute).toBe(false);
    expect(emb.drift).toBe(0);
    const csr = graph.adjacency;
    const full = await fastRP(
      { nodeCount: csr.nodeCount, rowPtr: csr.rowPtr, cols: csr.cols, vals: csr.vals, keys: (j) => graph.nodeKey(j) },
      { dim: 32, threads: 1 },
    );
    const exact = distribution(rowCosines(emb.embeddings(), full.embeddings, graph.nodeCount, 32));
    expect(exact.min).toBeGreaterThan(0.99999);
    // The swap reports exactly the vectors the truncated updates had left behind.
    const stale = rowCosines(before, full.embeddings, graph.nodeCount, 32).filter((c) => 1 - c >= 0.001).length;
    expect(res.changed.length).toBeGreaterThanOrEqual(stale);
  });
});
