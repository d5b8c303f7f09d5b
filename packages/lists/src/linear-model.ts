import { easeWeightsAsync } from '@affinity/recommend';
import type { CoOccurrenceKind, RecState } from './rec-state';

export interface LinearModelOptions {
  /** The model covers the items with the most support, at most this many (it inverts an n×n matrix). @defaultValue 2000 */
  maxItems?: number;
  /** L2 regularisation as a multiple of the covered items' mean support. @defaultValue 1 */
  lambdaFactor?: number;
  /** Strongest positive weights kept per item. @defaultValue 100 */
  neighbours?: number;
}

export interface LinearModelResult {
  kind: CoOccurrenceKind;
  items: number;
  ms: number;
}

/**
 * Refits the item–item linear model (EASE^R, Steck 2019) of one co-occurrence kind from the
 * counts the recommender keeps in Redis — the Gram matrix XᵀX is exactly the co-occurrence
 * counts, with each item's support on the diagonal — over the most supported items, and stores
 * each item's strongest weights as the next model version. Incremental counts keep every list
 * fresh between refits; this model adds what pairwise counts miss (which co-occurrences are
 * explained by others). The inversion yields to the event loop as it goes.
 */
export async function refreshLinearModel(state: RecState, kind: CoOccurrenceKind, options: LinearModelOptions = {}): Promise<LinearModelResult> {
  const started = performance.now();
  const maxItems = options.maxItems ?? 2000;
  const supports = await state.allSupports(kind);
  const items = [...supports]
    .filter(([, n]) => n >= 2)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, maxItems)
    .map(([id]) => id);
  const n = items.length;
  if (n < 2) return { kind, items: 0, ms: performance.now() - started };
  const slot = new Map(items.map((id, i) => [id, i]));
  const gram = new Float64Array(n * n);
  let diag = 0;
  for (let i = 0; i < n; i += 200) {
    const part = items.slice(i, i + 200);
    const rows = await state.neighbours(kind, part, Number.MAX_SAFE_INTEGER);
    part.forEach((id, p) => {
      const r = (i + p) * n;
      for (const { productId, both } of rows.get(id) ?? []) {
        const j = slot.get(productId);
        if (j !== undefined) gram[r + j] = both;
      }
    });
  }
  for (let i = 0; i < n; i++) {
    const s = supports.get(items[i]!)!;
    gram[i * n + i] = s;
    diag += s;
    // Windowed history counts are not an exact Gram matrix: keep it symmetric.
    for (let j = 0; j < i; j++) gram[i * n + j] = gram[j * n + i] = Math.max(gram[i * n + j]!, gram[j * n + i]!);
  }
  let lambda = (options.lambdaFactor ?? 1) * (diag / n);
  let weights: Float64Array | undefined;
  const copy = Float64Array.from(gram);
  for (let attempt = 0; attempt < 4 && weights === undefined; attempt++) {
    try {
      weights = await easeWeightsAsync(attempt === 0 ? gram : Float64Array.from(copy), n, lambda);
    } catch (err) {
      // Not positive definite: more regularisation.
      if (!(err instanceof RangeError)) throw err;
      lambda *= 4;
    }
  }
  if (!weights) return { kind, items: 0, ms: performance.now() - started };
  const keep = options.neighbours ?? 100;
  const rows = new Map<string, [string, number][]>();
  for (let i = 0; i < n; i++) {
    const row: [string, number][] = [];
    for (let j = 0; j < n; j++) {
      const w = weights[i * n + j]!;
      if (w > 0) row.push([items[j]!, w]);
    }
    row.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    rows.set(items[i]!, row.slice(0, keep));
  }
  await state.setLinearModel(kind, rows);
  return { kind, items: n, ms: performance.now() - started };
}
