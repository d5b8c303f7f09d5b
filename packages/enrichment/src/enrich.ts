import { derivedEventId, sha256Hex, type EnrichedProduct, type ProductUpsert } from '@affinity/contracts';

/**
 * The text we embed: title, brand and the start of the description. The title dominates;
 * long descriptions would mostly add boilerplate and cost (tokens are truncated at 256).
 */
export function embeddingText(p: Pick<ProductUpsert, 'title' | 'brand' | 'description' | 'categoryPath'>, descriptionChars: number): string {
  const parts = [p.title];
  if (p.brand && !p.title.toLowerCase().includes(p.brand.toLowerCase())) parts.push(p.brand);
  if (p.categoryPath.length > 0) parts.push(p.categoryPath.join(' > '));
  let d = p.description.slice(0, descriptionChars);
  // Cut at a word boundary: half a word is a token the model never saw in that position.
  if (p.description.length > descriptionChars && /\S/.test(p.description[descriptionChars] ?? '')) d = d.replace(/\s*\S*$/, '');
  d = d.trim();
  if (d.length > 0) parts.push(d);
  return parts.join('. ');
}

/** Content hash: the model id is part of it, so a model change never reuses another model's vector. */
export function contentHash(modelId: string, text: string): string {
  return sha256Hex(`${modelId}\n${text}`);
}

export function enrichedEvent(
  p: ProductUpsert,
  parts: { hash: string; attributes: EnrichedProduct['attributes']; modelId: string; vector: Float32Array; ingestTs: number },
): EnrichedProduct {
  const { type: _type, ...product } = p;
  return {
    type: 'product.enriched',
    // Same source event + same model → same id: a replay is recognisably the same event downstream.
    eventId: derivedEventId('enr', p.eventId, parts.modelId),
    sourceEventId: p.eventId,
    productId: p.productId,
    product,
    contentHash: parts.hash,
    attributes: parts.attributes,
    embedding: { modelId: parts.modelId, dim: parts.vector.length, vector: parts.vector },
    sourceTs: parts.ingestTs,
    enrichedAt: Date.now(),
  };
}
