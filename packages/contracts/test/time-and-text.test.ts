import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CatalogEvent, Timestamp, ValidationError, catalogEventDecoder, decodeCatalogEvent, encodeJson, interactionDecoder, parseWith, type RawMessage } from '../src';
import { interaction, product } from './fixtures';

function issuesOf(fn: () => unknown): { path: string; message: string }[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    return [...(err as ValidationError).issues];
  }
  throw new Error('expected a ValidationError');
}

const DAY = 24 * 3600 * 1000;
const msg = (key: string, value: unknown, headers?: Record<string, string>): RawMessage => ({
  key: Buffer.from(key),
  value: value === null ? null : encodeJson(value),
  timestamp: '1700000000000',
  headers,
});

describe('impossible dates', () => {
  it.each([
    ['2024-02-30T00:00:00Z', '2024-02-30 does not exist: February 2024 has 29 days'],
    ['2023-02-29T12:00:00Z', '2023-02-29 does not exist: February 2023 has 28 days'],
    ['2024-04-31T10:00:00+02:00', '2024-04-31 does not exist: April 2024 has 30 days'],
    ['2100-02-29T00:00:00Z', '2100-02-29 does not exist: February 2100 has 28 days'],
  ])('%s is refused, not rolled over into the next month', (iso, message) => {
    expect(issuesOf(() => parseWith(CatalogEvent, product({ updatedAt: iso })))).toEqual([{ path: 'updatedAt', message }]);
  });

  it('every real date-time converts to its instant, and day-of-month overflow never parses (property)', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date('1990-01-01T00:00:00Z'), max: new Date('2099-12-31T23:59:59Z'), noInvalidDate: true }), (d) => {
        expect(Timestamp.parse(d.toISOString())).toBe(d.getTime());
      }),
      { numRuns: 1000 },
    );
    fc.assert(
      fc.property(fc.integer({ min: 1990, max: 2099 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 3 }), (y, m, over) => {
        const days = new Date(Date.UTC(y, m, 0)).getUTCDate();
        const d = days + over;
        if (d > 31) return; // not even Date.parse accepts a 32nd
        const iso = `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}T00:00:00Z`;
        expect(Timestamp.safeParse(iso).success).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });

  it('accepts 29 February in leap years', () => {
    expect(Timestamp.parse('2024-02-29T00:00:00Z')).toBe(Date.UTC(2024, 1, 29));
    expect(Timestamp.parse('2000-02-29T00:00:00Z')).toBe(Date.UTC(2000, 1, 29));
  });
});

describe('the oldest accepted time is 1990-01-01', () => {
  it('accepts historic logs such as 1997 movie ratings', () => {
    expect(Timestamp.parse('1997-03-01T00:00:00Z')).toBe(Date.UTC(1997, 2, 1));
    expect(Timestamp.parse(874_965_478_000)).toBe(874_965_478_000); // a MovieLens 100k rating, 1997-09-22
    expect(Timestamp.parse(Date.UTC(1990, 0, 1))).toBe(Date.UTC(1990, 0, 1));
  });

  it('says that a time before it is probably seconds, not milliseconds', () => {
    const [issue] = issuesOf(() => parseWith(CatalogEvent, product({ updatedAt: 1_700_000_000 })));
    expect(issue!.message).toMatch(/before 1990-01-01: expected epoch milliseconds \(a time in seconds, such as 1700000000, reads as January 1970\)/);
    expect(Timestamp.safeParse(Date.UTC(1989, 11, 31)).success).toBe(false);
  });
});

describe('lone surrogates in text', () => {
  const withField = (field: string, jsonString: string) => JSON.parse(`{${JSON.stringify(field)}:${jsonString}}`) as Record<string, unknown>;

  it.each(['title', 'description', 'brand', 'seller'])('%s with a lone surrogate is refused', (field) => {
    for (const bad of ['"Mug \\ud800"', '"\\udfff Mug"', '"Mug \\ud83d\\ud83d"']) {
      const issues = issuesOf(() => parseWith(CatalogEvent, { ...product(), ...withField(field, bad) }));
      expect(issues).toEqual([{ path: field, message: expect.stringMatching(/lone surrogate/) }]);
    }
  });

  it('attribute names and values and category levels too', () => {
    expect(issuesOf(() => parseWith(CatalogEvent, { ...product(), attributes: JSON.parse('{"color":"red\\ud800"}') as unknown }))[0]!.path).toBe('attributes.color');
    expect(issuesOf(() => parseWith(CatalogEvent, { ...product(), attributes: JSON.parse('{"co\\udc00lor":"red"}') as unknown }))[0]!.message).toMatch(/key: .*lone surrogate/);
    expect(issuesOf(() => parseWith(CatalogEvent, { ...product(), categoryPath: JSON.parse('["Home","\\ud800"]') as unknown }))[0]!.path).toBe('categoryPath.1');
  });

  it('keeps characters outside the BMP (a valid pair)', () => {
    const p = parseWith(CatalogEvent, { ...product(), title: 'Mug \ud83d\ude00' });
    expect(p.type === 'product.upsert' && p.title).toBe('Mug 😀');
  });
});

describe('times too far in the future', () => {
  const now = Date.UTC(2026, 0, 1);
  const clock = { now: () => now };

  it('a product updated in 2099 is refused by the catalog decoder (it would win over every real update)', () => {
    const issues = issuesOf(() => catalogEventDecoder(clock)(msg('85123A', product({ updatedAt: '2099-01-01T00:00:00Z' }))));
    expect(issues).toEqual([{ path: 'updatedAt', message: `at most ${DAY} ms in the future` }]);
    expect(() => catalogEventDecoder(clock)(msg('85123A', product({ updatedAt: now + DAY - 1 })))).not.toThrow();
    // Configurable: a wider skew admits what the default refuses.
    expect(() => catalogEventDecoder(clock)(msg('85123A', product({ updatedAt: now + 2 * DAY })))).toThrow(/more than 86400000 ms ahead of now/);
    expect(() => catalogEventDecoder({ ...clock, maxFutureSkewMs: 3 * DAY })(msg('85123A', product({ updatedAt: now + 2 * DAY })))).not.toThrow();
  });

  it('so is a tombstone whose ts header is in the future, and an interaction in 2099', () => {
    expect(issuesOf(() => catalogEventDecoder(clock)(msg('85123A', null, { 'event-id': 'd1', ts: String(Date.UTC(2099, 0, 1)) })))[0]!.path).toBe('updatedAt');
    expect(issuesOf(() => interactionDecoder(clock)(msg('u17850', interaction({ ts: Date.UTC(2099, 0, 1) }))))[0]!.path).toBe('ts');
  });

  it('old times always pass: consumers of historic logs and replays keep working', () => {
    expect(decodeCatalogEvent(msg('85123A', product({ updatedAt: '1997-03-01T00:00:00Z' }))).updatedAt).toBe(Date.UTC(1997, 2, 1));
    expect(interactionDecoder(clock)(msg('u17850', interaction({ ts: 874_965_478_000 }))).ts).toBe(874_965_478_000);
  });
});
