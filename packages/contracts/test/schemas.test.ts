import { describe, expect, it } from 'vitest';
import {
  CatalogEvent,
  EnrichedProduct,
  Interaction,
  RecommendationUpdate,
  ValidationError,
  decodeCatalogEvent,
  decodeEnrichedEvent,
  decodeInteraction,
  encodeJson,
  parseWith,
  topicSpecs,
} from '../src';
import { interaction, product } from './fixtures';

function msg(key: string | null, value: unknown, extra: { headers?: Record<string, string>; timestamp?: string } = {}) {
  return {
    key: key === null ? null : Buffer.from(key),
    value: value === null ? null : Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)),
    timestamp: extra.timestamp ?? '1700000000000',
    headers: extra.headers,
  };
}

describe('product upsert', () => {
  it('normalizes strings, currency and timestamps', () => {
    const p = parseWith(CatalogEvent, product({ title: '  Cafe\u0301   MUG\u200b  ', currency: 'gbp', updatedAt: '2010-12-01T08:26:00Z' }));
    expect(p.type).toBe('product.upsert');
    if (p.type !== 'product.upsert') return;
    expect(p.title).toBe('Café MUG');
    expect(p.currency).toBe('GBP');
    expect(p.updatedAt).toBe(Date.UTC(2010, 11, 1, 8, 26));
    expect(p.availability).toBe('in_stock');
  });

  it.each([
    ['empty title', { title: '   ' }, 'title'],
    ['negative price', { price: -1 }, 'price'],
    ['bad currency', { currency: 'pounds' }, 'currency'],
    ['id with spaces', { productId: 'a b' }, 'productId'],
    ['title too long', { title: 'x'.repeat(600) }, 'title'],
    ['bad timestamp', { updatedAt: '2010-13-45T00:00:00Z' }, 'updatedAt'],
    ['too many categories', { categoryPath: Array.from({ length: 13 }, (_, i) => `c${i}`) }, 'categoryPath'],
    ['non-http image', { imageUrl: 'javascript:alert(1)' }, 'imageUrl'],
  ])('rejects %s with the field named', (_name, overrides, field) => {
    const err = (() => {
      try {
        parseWith(CatalogEvent, product(overrides as never));
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).issues.some((i) => i.path.startsWith(field))).toBe(true);
  });

  it('requires the record key to be the productId', () => {
    expect(() => decodeCatalogEvent(msg('OTHER', product()))).toThrow(/does not match productId/);
    expect(decodeCatalogEvent(msg('85123A', product())).productId).toBe('85123A');
  });

  it('quotes a long mismatching key by its start and size, so the reason fits a DLQ record’s message', () => {
    const err = (() => {
      try {
        decodeCatalogEvent(msg('k'.repeat(64 * 1024), product()));
      } catch (e) {
        return e as ValidationError;
      }
      return undefined;
    })();
    expect(err?.message).toBe(`record key "${'k'.repeat(64)}"… (65536 bytes) does not match productId "85123A"; producers must key by productId so ordering holds`);
    expect(() => decodeCatalogEvent(msg('k'.repeat(128), product()))).toThrow(`record key "${'k'.repeat(128)}" does not match`);
  });

  it('turns a tombstone into a delete using headers, else the record timestamp', () => {
    const withHeaders = decodeCatalogEvent(msg('85123A', null, { headers: { 'event-id': 'del-1', ts: '1700000000123' } }));
    expect(withHeaders).toEqual({ type: 'product.delete', eventId: 'del-1', productId: '85123A', updatedAt: 1700000000123 });
    const bare = decodeCatalogEvent(msg('85123A', null));
    expect(bare.type).toBe('product.delete');
    expect(bare.updatedAt).toBe(1700000000000);
    expect(() => decodeCatalogEvent(msg(null, null))).toThrow(ValidationError);
  });
});

describe('interaction', () => {
  it('accepts a purchase keyed by user', () => {
    const e = decodeInteraction(msg('u17850', interaction()));
    expect(e.quantity).toBe(6);
  });
  it('enforces rating only on rating events', () => {
    expect(() => parseWith(Interaction, interaction({ type: 'rating' }))).toThrow(/rating: required/);
    expect(() => parseWith(Interaction, interaction({ type: 'view', rating: 4 }))).toThrow(/only allowed/);
    expect(parseWith(Interaction, interaction({ type: 'rating', rating: 4 })).rating).toBe(4);
  });
  it('rejects unknown types and wrong keys', () => {
    expect(() => decodeInteraction(msg('u17850', interaction({ type: 'like' as never })))).toThrow(ValidationError);
    expect(() => decodeInteraction(msg('someone-else', interaction()))).toThrow(/userId/);
  });
});

describe('enriched product', () => {
  const vector = new Float32Array([0.5, -0.25, 0.125, 1]);
  const enriched = {
    type: 'product.enriched' as const,
    eventId: 'enr-1',
    sourceEventId: 'evt-1',
    productId: '85123A',
    product: (() => {
      const { type: _t, ...rest } = product();
      return rest;
    })(),
    contentHash: 'a'.repeat(64),
    attributes: [{ name: 'color', value: 'white', field: 'title' as const, span: [0, 5] as [number, number], confidence: 0.9, source: 'vocabulary' as const }],
    embedding: { modelId: 'test', dim: 4, vector },
    sourceTs: 1700000000000,
    enrichedAt: 1700000000100,
  };

  it('round-trips vectors exactly through base64 float32', () => {
    const bytes = encodeJson(enriched);
    const back = decodeEnrichedEvent(msg('85123A', bytes.toString('utf8')));
    expect(back.type).toBe('product.enriched');
    if (back.type !== 'product.enriched') return;
    expect(back.embedding.vector).toBeInstanceOf(Float32Array);
    expect(Array.from(back.embedding.vector)).toEqual(Array.from(vector));
  });

  it('rejects a dimension mismatch and non-finite components', () => {
    const wrongDim = JSON.parse(encodeJson(enriched).toString()) as { embedding: { dim: number } };
    wrongDim.embedding.dim = 5;
    expect(() => parseWith(EnrichedProduct, wrongDim)).toThrow(/does not match dim/);
    const nan = JSON.parse(encodeJson({ ...enriched, embedding: { ...enriched.embedding, vector: new Float32Array([1, Number.NaN, 0, 0]) } }).toString()) as unknown;
    expect(() => parseWith(EnrichedProduct, nan)).toThrow(/not finite/);
  });
});

describe('recommendation update', () => {
  it('requires a reason on every item', () => {
    const base = {
      type: 'recs.update',
      eventId: 'r1',
      kind: 'similar',
      subjectId: '85123A',
      items: [{ productId: '22423', score: 0.8, reasons: [] }],
      versions: {},
      generatedAt: 1700000000000,
      causeEventIds: ['evt-1'],
    };
    expect(() => parseWith(RecommendationUpdate, base)).toThrow(/reason/);
  });
});

describe('topic specs', () => {
  it('gives every topic a DLQ and honours prefixes and overrides', () => {
    const specs = topicSpecs({ prefix: 't1.', partitions: { enriched: 2 } });
    const names = specs.map((s) => s.name);
    expect(names).toContain('t1.catalog.products.v1');
    expect(names).toContain('t1.catalog.products.v1.dlq');
    expect(specs.find((s) => s.name === 't1.products.enriched.v1')?.partitions).toBe(2);
    expect(specs.find((s) => s.name === 't1.recs.v1')?.cleanupPolicy).toBe('compact');
    expect(specs.find((s) => s.name === 't1.interactions.v1')?.cleanupPolicy).toBe('delete');
    expect(specs.length).toBe(10);
  });
});
