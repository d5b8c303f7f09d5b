import type { RankedItem } from '../types';
import type { ContextMatrix } from './contexts';

/**
 * The top k of accumulated scores, ties and the tail filled by popularity (a baseline that
 * returns fewer than k items would lose for the wrong reason). `skip` is never returned.
 */
export function topK(m: ContextMatrix, scores: Map<number, number>, k: number, skip: ReadonlySet<number>, popular: readonly number[]): RankedItem[] {
  const ranked = [...scores]
    .filter(([i, s]) => s > 0 && !skip.has(i))
    .sort((a, b) => b[1] - a[1] || m.support(b[0]) - m.support(a[0]) || a[0] - b[0])
    .slice(0, k)
    .map(([i, s]) => ({ productId: m.itemIds[i]!, score: s }));
  if (ranked.length < k) {
    const have = new Set(ranked.map((r) => r.productId));
    for (const i of popular) {
      if (ranked.length >= k) break;
      const id = m.itemIds[i]!;
      if (skip.has(i) || have.has(id)) continue;
      ranked.push({ productId: id, score: 0 });
    }
  }
  return ranked;
}
