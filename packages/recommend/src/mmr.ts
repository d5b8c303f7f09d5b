import { dot } from './vector-math';

export interface MmrItem {
  score: number;
  /** Unit length: similarity is the dot product. */
  vector?: Float32Array;
}

/**
 * Maximal Marginal Relevance (Carbonell & Goldstein, SIGIR 1998): greedily picks the item
 * maximizing λ·score − (1−λ)·max similarity to what is already picked. Items without a
 * vector count as dissimilar to everything. Returns indices into `items`, best first.
 */
export function mmrSelect(items: readonly MmrItem[], k: number, lambda: number): number[] {
  const picked: number[] = [];
  const maxSim = new Float64Array(items.length);
  const used = new Uint8Array(items.length);
  while (picked.length < Math.min(k, items.length)) {
    let best = -1;
    let bestValue = -Infinity;
    for (let i = 0; i < items.length; i++) {
      if (used[i]) continue;
      const value = lambda * items[i]!.score - (1 - lambda) * maxSim[i]!;
      if (value > bestValue) {
        bestValue = value;
        best = i;
      }
    }
    if (best < 0) break;
    used[best] = 1;
    picked.push(best);
    const v = items[best]!.vector;
    if (v === undefined) continue;
    for (let i = 0; i < items.length; i++) {
      const w = items[i]!.vector;
      if (used[i] || w === undefined) continue;
      const s = dot(v, w);
      if (s > maxSim[i]!) maxSim[i] = s;
    }
  }
  return picked;
}
