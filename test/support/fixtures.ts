import { derivedEventId, mulberry32, sha256Hex, type EnrichedProductInput } from '@affinity/contracts';

/** Seeded PRNG (mulberry32) so fixtures are the same on every run. */
export function seeded(seed: number): () => number {
  return mulberry32(seed);
}

export function unitVector(dim: number, rnd: () => number): Float32Array {
  const v = new Float32Array(dim);
  let n = 0;
  for (let i = 0; i < dim; i++) {
    // Box-Muller: isotropic directions.
    const g = Math.sqrt(-2 * Math.log(rnd() + 1e-12)) * Math.cos(2 * Math.PI * rnd());
    v[i] = g;
    n += g * g;
  }
  n = Math.sqrt(n);
  for (let i = 0; i < dim; i++) v[i]! /= n;
  return v;
}

/** An enriched product event as the enricher would publish it (tests of later stages start here). */
export function enrichedProduct(productId: string, vector: Float32Array, opts: { modelId?: string; version?: number; brand?: string; category?: string[] } = {}): EnrichedProductInput {
  const updatedAt = 1_700_000_000_000 + (opts.version ?? 0);
  const title = `Product ${productId}`;
  return {
    type: 'product.enriched',
    eventId: derivedEventId('enr', productId, String(updatedAt)),
    sourceEventId: `src-${productId}-${opts.version ?? 0}`,
    productId,
    product: {
      eventId: `src-${productId}-${opts.version ?? 0}`,
      productId,
      title,
      description: '',
      brand: opts.brand,
      categoryPath: opts.category ?? ['Test'],
      price: 10,
      currency: 'GBP',
      availability: 'in_stock',
      seller: 'test',
      updatedAt,
    },
    contentHash: sha256Hex(title),
    attributes: [],
    embedding: { modelId: opts.modelId ?? 'test-model', dim: vector.length, vector: vector as unknown as string },
    sourceTs: updatedAt,
    enrichedAt: Date.now(),
  };
}
