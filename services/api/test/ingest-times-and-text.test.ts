import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_LIMITS, type TestApp, WRITE_KEY, testApp } from './support/app';

const DAY = 24 * 3600 * 1000;
let t: TestApp;
beforeAll(async () => {
  t = await testApp();
});
afterAll(async () => {
  await t.app.close();
});

const post = (url: string, payload: string) => t.app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json', 'x-api-key': WRITE_KEY }, payload });
const product = (extra: string) => `{"productId":"p1","title":"Mug","price":1,"currency":"GBP"${extra}}`;

describe('API ingest: impossible dates, lone surrogates, times in the future', () => {
  it('refuses 2024-02-30 instead of storing 1 March', async () => {
    const res = await post('/v1/products', product(',"updatedAt":"2024-02-30T00:00:00Z"'));
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: 'VALIDATION', issues: [{ path: 'updatedAt', message: '2024-02-30 does not exist: February 2024 has 29 days' }] });
  });

  it('refuses a title with a lone surrogate', async () => {
    const res = await post('/v1/products', `{"productId":"p1","title":"Mug \\ud800","price":1,"currency":"GBP"}`);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: 'VALIDATION', issues: [{ path: 'title', message: expect.stringMatching(/lone surrogate/) }] });
  });

  it('refuses updatedAt in 2099 and an interaction ts beyond the allowed skew, and names the event', async () => {
    const res = await post('/v1/products', `{"events":[${product('')},${product(',"updatedAt":"2099-01-01T00:00:00Z"')}]}`);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: 'VALIDATION', message: expect.stringMatching(/^event 1: product: updatedAt 2099-01-01T00:00:00.000Z is more than 86400000 ms ahead of now/), issues: [{ path: 'events.1.updatedAt' }] });
    const ts = Date.now() + 2 * DAY;
    const click = await post('/v1/interactions', `{"type":"click","userId":"u1","productId":"p1","sessionId":"s1","ts":${ts}}`);
    expect(click.statusCode).toBe(400);
    expect(click.json()).toMatchObject({ issues: [{ path: 'ts' }] });
    // A little ahead (clocks differ) is fine, and so is the distant past.
    expect((await post('/v1/interactions', `{"type":"click","userId":"u1","productId":"p1","sessionId":"s1","ts":${Date.now() + 60_000}}`)).statusCode).toBe(202);
    expect((await post('/v1/products', product(',"updatedAt":"1997-03-01T00:00:00Z"'))).statusCode).toBe(202);
  });

  it('the skew is configurable', async () => {
    const wide = await testApp({ limits: { ...TEST_LIMITS, maxFutureSkewMs: 3 * DAY } });
    try {
      const res = await wide.app.inject({ method: 'POST', url: '/v1/products', headers: { 'content-type': 'application/json', 'x-api-key': WRITE_KEY }, payload: product(`,"updatedAt":${Date.now() + 2 * DAY}`) });
      expect(res.statusCode).toBe(202);
    } finally {
      await wide.app.close();
    }
  });
});
