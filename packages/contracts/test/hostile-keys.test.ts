import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CatalogEvent, DlqRecord, RecommendationUpdate, decodeCatalogEvent, encodeJson, normalizeText, parseWith } from '../src';
import { product } from './fixtures';

/** Every member of Object.prototype (`__proto__`, `constructor`, `toString`, `hasOwnProperty`, ...). */
const BUILT_IN = [...Object.getOwnPropertyNames(Object.prototype), 'prototype'];

/** Keys a hostile or careless producer may send: built-in member names, and anything else. */
const hostileKey = fc.oneof(fc.constantFrom(...BUILT_IN), fc.string({ minLength: 1, maxLength: 20 }).filter((s) => normalizeText(s) !== '' && normalizeText(s).length <= 64));
const value = fc.string({ minLength: 1, maxLength: 30 }).filter((s) => normalizeText(s) !== '');

/** A JSON object text: written by hand because a JS object literal turns a `__proto__` key into its prototype. */
function objectJson(entries: readonly (readonly [string, string])[]): string {
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`;
}

/** What the attributes must come out as: normalized, later keys winning (sorted: objects put integer-like keys first). */
function expected(entries: readonly (readonly [string, string])[]): [string, string][] {
  const m = new Map<string, string>();
  for (const [k, v] of entries) m.set(normalizeText(k), normalizeText(v));
  return sorted([...m]);
}

const sorted = (entries: [string, string][]): [string, string][] => entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

const prototypeBefore = Object.getOwnPropertyNames(Object.prototype).sort();

describe('user keys are data, never object members', () => {
  it('product attributes keep every key, built-in member names included, in a prototype-free map (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(hostileKey, value), { minLength: 1, maxLength: 20 }), (entries) => {
        const body = `{"type":"product.upsert","eventId":"e1","productId":"p1","title":"Mug","price":1,"currency":"GBP","updatedAt":1700000000000,"attributes":${objectJson(entries)}}`;
        const parsed = parseWith(CatalogEvent, JSON.parse(body));
        if (parsed.type !== 'product.upsert') throw new Error('not an upsert');
        const attributes = parsed.attributes!;
        expect(Object.getPrototypeOf(attributes)).toBeNull();
        expect(sorted(Object.entries(attributes))).toEqual(expected(entries));
        // Through Kafka and back: the same map.
        const decoded = decodeCatalogEvent({ key: Buffer.from('p1'), value: encodeJson(parsed), timestamp: '1700000000000' });
        expect(decoded.type === 'product.upsert' && sorted(Object.entries(decoded.attributes!))).toEqual(expected(entries));
      }),
      { numRuns: 500 },
    );
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeBefore);
  });

  it('a __proto__ object cannot give parsed attributes inherited members', () => {
    const body = { ...product(), attributes: JSON.parse('{"__proto__":{"color":"red"},"size":"L"}') as unknown };
    expect(() => parseWith(CatalogEvent, body)).toThrow(/attributes\.__proto__/);
    const ok = parseWith(CatalogEvent, { ...product(), attributes: JSON.parse('{"__proto__":"p","constructor":"c"}') as unknown });
    expect(ok.type === 'product.upsert' && { ...ok.attributes }).toEqual(JSON.parse('{"__proto__":"p","constructor":"c"}'));
    expect(({} as Record<string, unknown>).color).toBeUndefined();
  });

  it('still bounds how many attributes a product has', () => {
    const many = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`a${i}`, 'v']));
    expect(() => parseWith(CatalogEvent, { ...product(), attributes: many })).toThrow(/at most 64 attributes/);
  });

  it('list versions and DLQ headers are prototype-free maps too', () => {
    const versions = JSON.parse('{"__proto__":"x","constructor":"y"}') as unknown;
    const rec = parseWith(RecommendationUpdate, { type: 'recs.update', eventId: 'e', kind: 'similar', subjectId: 's', items: [], versions, generatedAt: 1_700_000_000_000, causeEventIds: [] });
    expect(Object.keys(rec.versions)).toEqual(['__proto__', 'constructor']);
    const dlq = parseWith(DlqRecord, { type: 'dlq', sourceTopic: 't', sourcePartition: 0, sourceOffset: '1', consumerGroup: 'g', key: null, value: null, headers: versions, errorClass: 'X', errorCode: 'Y', message: 'm', firstSeenAt: 1_700_000_000_000, attempts: 1 });
    expect(Object.keys(dlq.headers)).toEqual(['__proto__', 'constructor']);
    expect(Object.getPrototypeOf(parseWith(DlqRecord, { ...dlq, headers: undefined }).headers)).toBeNull();
  });
});
