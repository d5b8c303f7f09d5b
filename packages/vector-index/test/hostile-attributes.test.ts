import { CatalogEvent, type EnrichedProduct, type ExtractedAttribute, normalizeText, parseWith } from '@affinity/contracts';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VectorShard, attributesFromProduct } from '../src/index';

/** Every member of Object.prototype (`__proto__`, `constructor`, `toString`, `hasOwnProperty`, ...). */
const BUILT_IN = [...Object.getOwnPropertyNames(Object.prototype), 'prototype'];
const catalogKey = fc.oneof(fc.constantFrom(...BUILT_IN), fc.string({ minLength: 1, maxLength: 12 }).filter((s) => normalizeText(s) !== ''));
/** Extracted names are lower_snake_case; `constructor` and `prototype` are among them. */
const extractedName = fc.oneof(fc.constantFrom('constructor', 'prototype', 'valueof', 'color'), fc.stringMatching(/^[a-z][a-z0-9_]{0,10}$/));
const value = fc.stringMatching(/^[a-z0-9]{1,8}$/);

/** The product part of an enriched product, attributes parsed from JSON text as the catalog sent them. */
function enriched(catalog: readonly (readonly [string, string])[], extracted: readonly (readonly [string, string])[]): Pick<EnrichedProduct, 'product' | 'attributes'> {
  const json = `{${catalog.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`;
  const p = parseWith(CatalogEvent, { type: 'product.upsert', eventId: 'e1', productId: 'p1', title: 'Mug', price: 1, currency: 'GBP', updatedAt: 1_700_000_000_000, attributes: JSON.parse(json) as unknown });
  if (p.type !== 'product.upsert') throw new Error('not an upsert');
  const attributes: ExtractedAttribute[] = extracted.map(([name, v]) => ({ name, value: v, field: 'title', span: [0, 1], confidence: 0.9, source: 'vocabulary' }));
  return { product: p, attributes };
}

describe('attribute names that are Object.prototype members', () => {
  it('index and filter like any other name (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(catalogKey, value), { maxLength: 8 }), fc.array(fc.tuple(extractedName, value), { maxLength: 8 }), (catalog, extracted) => {
        const attrs = attributesFromProduct(enriched(catalog, extracted));
        // Every name maps to exactly the values given for it (catalog normalized, later duplicates folded).
        const want = new Map<string, Set<string>>();
        const catalogNorm = new Map(catalog.map(([k, v]) => [normalizeText(k), normalizeText(v)]));
        for (const [k, v] of [...catalogNorm, ...extracted]) want.set(k, (want.get(k) ?? new Set()).add(v));
        expect(Object.keys(attrs.attributes!).sort()).toEqual([...want.keys()].sort());
        for (const [k, vs] of want) expect(new Set(attrs.attributes![k])).toEqual(vs);

        const shard = new VectorShard({ dim: 4 });
        shard.upsert('with', Float32Array.of(1, 0, 0, 0), attrs);
        shard.upsert('without', Float32Array.of(0.9, 0.1, 0, 0), {});
        for (const [k, vs] of want) {
          const hits = shard.search(Float32Array.of(1, 0, 0, 0), 2, { filter: { attributes: { [k]: [...vs][0]! } } }).map((h) => h.id);
          expect(hits).toEqual(['with']);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('the issue’s case: {"constructor": "c"} is indexed and searchable, and __proto__ is kept', () => {
    const attrs = attributesFromProduct(enriched([['constructor', 'c'], ['__proto__', 'p']], [['constructor', 'x']]));
    expect(attrs.attributes!.constructor).toEqual(['c', 'x']);
    expect(Object.hasOwn(attrs.attributes!, '__proto__')).toBe(true);
    const shard = new VectorShard({ dim: 4 });
    shard.upsert('p1', Float32Array.of(1, 0, 0, 0), attrs);
    expect(shard.search(Float32Array.of(1, 0, 0, 0), 1, { filter: { attributes: JSON.parse('{"__proto__":"p"}') as Record<string, string> } }).map((h) => h.id)).toEqual(['p1']);
  });
});
