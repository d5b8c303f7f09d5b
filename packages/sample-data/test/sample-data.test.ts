import { CatalogEvent, Interaction, parseWith } from '@affinity/contracts';
import { describe, expect, it } from 'vitest';
import { digineticaInteractions, parseCsvLine, uciProducts, uciPurchases } from '../src';

describe('sample data', () => {
  it('parses quoted CSV cells', () => {
    expect(parseCsvLine('"a","b ""c""",3,')).toEqual(['a', 'b "c"', '3', '']);
  });

  it('UCI products are valid catalog events with unique ids', () => {
    const products = uciProducts();
    expect(products.length).toBeGreaterThan(1300);
    expect(new Set(products.map((p) => p.productId)).size).toBe(products.length);
    for (const p of products) parseWith(CatalogEvent, p);
    expect(products.find((p) => p.productId === '21479')?.title).toBe('WHITE SKULL HOT WATER BOTTLE');
  });

  it('UCI baskets become valid purchases of known products, grouped by order', () => {
    const known = new Set(uciProducts().map((p) => p.productId));
    const purchases = uciPurchases({ known, limit: 2000 });
    expect(purchases.length).toBeGreaterThan(5000);
    for (const e of purchases.slice(0, 2000)) parseWith(Interaction, e);
    expect(purchases.every((e) => known.has(e.productId))).toBe(true);
    expect(new Set(purchases.map((e) => e.eventId)).size).toBe(purchases.length);
  });

  it('DIGINETICA interactions are valid and in time order', () => {
    const events = digineticaInteractions();
    expect(events.length).toBe(12_391 + 18_025);
    for (const e of events.slice(0, 1000)) parseWith(Interaction, e);
    for (let i = 1; i < events.length; i++) expect(Number(events[i]!.ts)).toBeGreaterThanOrEqual(Number(events[i - 1]!.ts));
  });
});
