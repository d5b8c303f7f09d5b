import { parseWith, ProductUpsert } from '@affinity/contracts';
import { describe, expect, it } from 'vitest';
import { contentHash, embeddingText, enrichedEvent } from '../src';

const product = parseWith(ProductUpsert, {
  type: 'product.upsert',
  eventId: 'e1',
  productId: 'p1',
  title: 'Ceramic Mug 350 ml',
  description: 'A sturdy mug. Dishwasher safe.',
  brand: 'Acme',
  categoryPath: ['Kitchen', 'Mugs'],
  price: 7.5,
  currency: 'GBP',
  updatedAt: 1_700_000_000_000,
});

describe('enrichment helpers', () => {
  it('embeds title, brand, category path and the start of the description', () => {
    expect(embeddingText(product, 10)).toBe('Ceramic Mug 350 ml. Acme. Kitchen > Mugs. A sturdy');
    // A brand already in the title is not repeated.
    expect(embeddingText({ ...product, title: 'Acme Ceramic Mug' }, 0)).toBe('Acme Ceramic Mug. Kitchen > Mugs');
  });

  it('hashes text per model: the same text under another model is another embedding', () => {
    expect(contentHash('m1', 'x')).toMatch(/^[0-9a-f]{64}$/);
    expect(contentHash('m1', 'x')).toBe(contentHash('m1', 'x'));
    expect(contentHash('m1', 'x')).not.toBe(contentHash('m2', 'x'));
  });

  it('derives the enriched event id from the source event and the model', () => {
    const v = new Float32Array([1, 0]);
    const a = enrichedEvent(product, { hash: 'a'.repeat(64), attributes: [], modelId: 'm1', vector: v, ingestTs: 1 });
    const b = enrichedEvent(product, { hash: 'a'.repeat(64), attributes: [], modelId: 'm1', vector: v, ingestTs: 2 });
    const c = enrichedEvent(product, { hash: 'a'.repeat(64), attributes: [], modelId: 'm2', vector: v, ingestTs: 1 });
    expect(a.eventId).toBe(b.eventId);
    expect(a.eventId).not.toBe(c.eventId);
    expect(a.product).not.toHaveProperty('type');
    expect(a.embedding).toEqual({ modelId: 'm1', dim: 2, vector: v });
  });
});
