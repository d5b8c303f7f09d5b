import type { Interaction } from '@affinity/contracts';
import { describe, expect, it } from 'vitest';
import { BehaviourGraph, IncrementalFastRP, fastRP, type FastRPOptions } from '../src/index';
import { distribution, rowCosines } from './support/compare';
import { loadDiginetica } from './support/diginetica';

const DAY = 24 * 3600 * 1000;

async function fullOf(graph: BehaviourGraph, options: FastRPOptions): Promise<Float32Array> {
  const csr = graph.adjacency;
  csr.compact();
  const r = await fastRP({ nodeCount: csr.nodeCount, rowPtr: csr.rowPtr, cols: csr.cols, vals: csr.vals, keys: (j) => graph.nodeKey(j) }, options);
  return r.embeddings;
}

describe('IncrementalFastRP', () => {
  const events = loadDiginetica().slice(0, 2500);
  const opts = { dim: 32, threads: 1 } as const;

  it('follows a lazy-decay rebase (rescale) exactly', async () => {
    const g = new BehaviourGraph({ halfLifeMs: DAY });
    const emb = await IncrementalFastRP.create(g, opts);
    // Shift the second half 100 days later: the graph re-bases t₀ once.
    const shifted = events.map((e, i) => (i < 1200 ? e : { ...e, ts: e.ts + 100 * DAY }));
    let rescaled = false;
    for (let i = 0; i < shifted.length; i += 25) {
      const d = g.apply(shifted.slice(i, i + 25));
      rescaled ||= d.rescale !== 1;
      emb.update(d);
    }
    expect(rescaled).toBe(true);
    const dist = distribution(rowCosines(emb.embeddings(), await fullOf(g, opts), g.nodeCount, 32));
    expect(dist.mean).toBeGreaterThan(0.999);
  });

  it('stays finite when a live event arrives years after a replayed history (rebase by 2^-300)', async () => {
    // The e2e run: 2010/2016 baskets replayed with their real timestamps, then a click "now".
    // With the default 14-day half-life the graph re-bases t₀ by 2^-(years·26): float32 weights
    // of the old edges underflow, and scaling the iterates by c^β = 2^150+ overflowed them to ±∞,
    // so every touched node was published as NaN ("vector component 0 is not finite").
    const g = new BehaviourGraph({ halfLifeMs: 14 * DAY });
    const history = events.slice(0, 1000);
    for (let i = 0; i < history.length; i += 100) g.apply(history.slice(i, i + 100));
    const emb = await IncrementalFastRP.create(g, opts);
    const now = history.at(-1)!.ts + 300 * 14 * DAY;
    const old = history.slice(0, 5);
    const live: Interaction[] = [
      ...old.map((e, k): Interaction => ({ type: 'click', eventId: `live-${k}`, userId: e.userId, productId: e.productId, sessionId: `live-${k}`, ts: now + k })),
      { type: 'click', eventId: 'live-new', userId: 'fresh-user', productId: old[0]!.productId, sessionId: 'live-new', ts: now + 9 },
    ];
    const d = g.apply(live);
    expect(d.rescale).toBeLessThan(2 ** -250);
    const r = emb.update(d);
    expect(r.changed.length).toBeGreaterThan(0);
    for (const x of r.changed) expect(emb.vector(x).every(Number.isFinite), `vector of ${g.nodeKey(x)}`).toBe(true);
    expect(emb.embeddings().every(Number.isFinite)).toBe(true);
    // The old edges are numerically dead; the live ones alone define the touched nodes now,
    // as a full recompute on the same graph says.
    const full = await fullOf(g, opts);
    const inc = emb.embeddings();
    for (const x of d.touched) {
      const [cos] = rowCosines(inc.subarray(x * 32, x * 32 + 32), full.subarray(x * 32, x * 32 + 32), 1, 32);
      expect(cos, `cosine to the full recompute of ${g.nodeKey(x)}`).toBeGreaterThan(0.999);
    }
    // Nodes left with no edge are isolated (zero rows) in both; no row disagrees.
    expect(distribution(rowCosines(inc, full, g.nodeCount, 32)).min).toBeGreaterThan(0.999);
  });

  it('keeps updates that arrive during a full recompute (journal replayed before the swap)', async () => {
    const g = new BehaviourGraph();
    g.apply(events.slice(0, 1500));
    const emb = await IncrementalFastRP.create(g, { ...opts, threads: 2 });
    const running = emb.fullRecompute();
    // The batch run awaits worker threads; these land in the old state and the journal.
    for (let i = 1500; i < 2500; i += 100) emb.update(g.apply(events.slice(i, i + 100)));
    const res = await running;
    expect(res.replayedEdges).toBe(1000);
    expect(emb.nodeCount).toBe(g.nodeCount);
    const dist = distribution(rowCosines(emb.embeddings(), await fullOf(g, opts), g.nodeCount, 32));
    expect(dist.min).toBeGreaterThan(0.999);
  });

  it('restores from its snapshot and continues identically', async () => {
    const g = new BehaviourGraph();
    g.apply(events.slice(0, 1000));
    const a = await IncrementalFastRP.create(g, opts);
    for (let i = 1000; i < 1500; i += 10) a.update(g.apply(events.slice(i, i + 10)));
    const g2 = BehaviourGraph.restore(g.snapshot());
    const b = IncrementalFastRP.restore(g2, a.snapshot(), opts);
    expect(b.embeddings()).toEqual(a.embeddings());
    for (let i = 1500; i < 2000; i += 10) {
      a.update(g.apply(events.slice(i, i + 10)));
      b.update(g2.apply(events.slice(i, i + 10)));
    }
    expect(b.embeddings()).toEqual(a.embeddings());
    expect(() => IncrementalFastRP.restore(g2, a.snapshot(), { ...opts, dim: 16 })).toThrow(/different options/);
  });

  it('reports a vector only once it moved at least ε since it was last reported', async () => {
    const g = new BehaviourGraph({ halfLifeMs: Infinity });
    const emb = await IncrementalFastRP.create(g, { ...opts, epsilon: 0.05 });
    let n = 0;
    const view = (u: string, p: string): Interaction => ({ type: 'view', eventId: `x${++n}`, userId: u, productId: p, sessionId: u, ts: n });
    const first = emb.update(g.apply([view('u1', 'a'), view('u2', 'a'), view('u2', 'b')]));
    expect(first.changed.length).toBe(4); // u1, u2, a, b: every new vector is reported
    const hub = g.nodeIndex('item', 'a')!;
    // Many small nudges to the hub: each alone is below ε, together they are not.
    const reportedAt: number[] = [];
    for (let k = 0; k < 200; k++) {
      const r = emb.update(g.apply([view(`w${k}`, 'a')]));
      if (r.changed.includes(hub)) reportedAt.push(k);
    }
    expect(reportedAt.length).toBeGreaterThan(0);
    expect(reportedAt.length).toBeLessThan(200);
  });

  it('places a cold-start item near the items its content embedding resembles', async () => {
    // Items a0..a9 and b0..b9 form two communities; content vectors separate them too.
    const content = new Map<string, Float32Array>();
    const vec = (base: number, j: number): Float32Array => Float32Array.from({ length: 16 }, (_, c) => (c === base ? 1 : 0) + 0.05 * Math.sin(j + c));
    const g = new BehaviourGraph({ halfLifeMs: Infinity });
    const evs: Interaction[] = [];
    let n = 0;
    for (const [grp, base] of [['a', 0], ['b', 1]] as const) {
      for (let j = 0; j < 10; j++) content.set(`i:${grp}${j}`, vec(base, j));
      for (let u = 0; u < 30; u++) {
        for (let j = 0; j < 10; j += 1 + (u % 3)) {
          evs.push({ type: 'purchase', eventId: `c${++n}`, userId: `${grp}u${u}`, productId: `${grp}${j}`, sessionId: `${grp}s${u}`, ts: n });
        }
      }
    }
    content.set('i:new', vec(0, 99));
    g.apply(evs);
    const emb = await IncrementalFastRP.create(g, { dim: 64, threads: 1, contentEmbeddings: content, contentDim: 16, selfWeight: 1 });
    // One interaction, by a user who otherwise bought from both communities equally.
    const mixed: Interaction[] = ['a1', 'b1', 'new'].map((p) => ({ type: 'view', eventId: `m-${p}`, userId: 'mixed', productId: p, sessionId: 'm', ts: ++n }));
    emb.update(g.apply(mixed));
    const v = emb.vectorOf('item', 'new')!;
    const sim = (grp: string): number => {
      let s = 0;
      for (let j = 0; j < 10; j++) {
        const w = emb.vectorOf('item', `${grp}${j}`)!;
        s += v.reduce((acc, x, c) => acc + x * w[c]!, 0);
      }
      return s / 10;
    };
    expect(sim('a')).toBeGreaterThan(sim('b') + 0.05);
  });
});
