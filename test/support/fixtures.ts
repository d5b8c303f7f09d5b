import { INTERACTION_TYPES, derivedEventId, mulberry32, sha256Hex, type BehaviourEmbeddingInput, type EnrichedProductInput, type InteractionInput } from '@affinity/contracts';

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

/**
 * The i-th of a stream of interactions among `users` shoppers and `products` items, ids starting
 * with `tag` (view, click, add_to_cart, purchase in turn; five events per session; one second apart).
 */
export function numberedInteraction(tag: string, i: number, users: number, products: number): InteractionInput {
  return {
    type: INTERACTION_TYPES[i % 4]!,
    eventId: `${tag}i-${i}`,
    userId: `${tag}u${i % users}`,
    productId: `${tag}p${i % products}`,
    sessionId: `${tag}s${Math.floor(i / 5)}`,
    quantity: 1 + (i % 3),
    ts: 1_700_000_000_000 + i * 1000,
  };
}

/** A user's behaviour vector as the graph worker would publish it (key: `user:<nodeId>`). */
export function userBehaviour(nodeId: string, eventId: string, ts: number, vector: Float32Array): BehaviourEmbeddingInput {
  return {
    type: 'behaviour.embedding',
    eventId,
    nodeKind: 'user',
    nodeId,
    embedding: { modelId: `fastrp-d${vector.length}`, dim: vector.length, vector: vector as unknown as string },
    causeEventIds: [],
    sourceTs: ts,
    updatedAt: ts,
  };
}
