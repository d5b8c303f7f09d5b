import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { READ_KEY, type TestApp, WRITE_KEY, testApp } from './support/app';

/** Every member of Object.prototype (`__proto__`, `constructor`, `toString`, `hasOwnProperty`, ...). */
const BUILT_IN = [...Object.getOwnPropertyNames(Object.prototype), 'prototype'];

let t: TestApp;
beforeAll(async () => {
  t = await testApp();
});
afterAll(async () => {
  await t.app.close();
});

describe('API: user keys are data', () => {
  it('accepts product attributes named like Object.prototype members and produces them all (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(fc.constantFrom(...BUILT_IN), { minLength: 1, maxLength: BUILT_IN.length }), async (names) => {
        const attributes = `{${names.map((n, i) => `${JSON.stringify(n)}:"v${i}"`).join(',')}}`;
        const payload = `{"productId":"p1","title":"Mug","price":1,"currency":"GBP","attributes":${attributes}}`;
        const before = t.sent.length;
        const res = await t.app.inject({ method: 'POST', url: '/v1/products', headers: { 'content-type': 'application/json', 'x-api-key': WRITE_KEY }, payload });
        expect(res.statusCode).toBe(202);
        const produced = t.sent[before]!.records[0]!.value as { attributes: Record<string, string> };
        expect(Object.keys(produced.attributes).sort()).toEqual([...names].sort());
        names.forEach((n, i) => expect(Object.getOwnPropertyDescriptor(produced.attributes, n)?.value).toBe(`v${i}`));
      }),
      { numRuns: 50 },
    );
  });

  it('passes attribute filters named like built-in members to the index as they are', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/v1/search?q=mug&attr.constructor=c&attr.hasownproperty=h', headers: { 'x-api-key': READ_KEY } });
    expect(res.statusCode).toBe(200);
    const filter = t.searches.at(-1)!.filter!;
    expect(Object.getPrototypeOf(filter.attributes)).toBeNull();
    expect({ ...filter.attributes }).toEqual({ constructor: 'c', hasownproperty: 'h' });
  });
});
