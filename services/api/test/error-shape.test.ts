import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { READ_KEY, type TestApp, WRITE_KEY, testApp } from './support/app';

let t: TestApp;
beforeAll(async () => {
  t = await testApp();
});
afterAll(async () => {
  await t.app.close();
});

/** The API's one error shape. */
function expectApiError(res: { statusCode: number; json(): unknown; headers: Record<string, unknown> }, status: number, error: string): { message: string; issues: { path: string; message: string }[] } {
  expect(res.statusCode).toBe(status);
  expect(res.headers['content-type']).toMatch(/application\/json/);
  const body = res.json() as { error: string; message: string; issues: { path: string; message: string }[] };
  expect(Object.keys(body).sort()).toEqual(['error', 'issues', 'message']);
  expect(body.error).toBe(error);
  expect(Array.isArray(body.issues)).toBe(true);
  return body;
}

const postProduct = (payload: string, headers: Record<string, string> = {}) =>
  t.app.inject({ method: 'POST', url: '/v1/products', headers: { 'content-type': 'application/json', 'x-api-key': WRITE_KEY, ...headers }, payload });

describe('API error shape', () => {
  it('a malformed URL is a 400 in the API shape', async () => {
    const body = expectApiError(await t.app.inject({ method: 'GET', url: '/v1/items/%E0%A4%A/similar', headers: { 'x-api-key': READ_KEY } }), 400, 'BAD_URL');
    expect(body.message).toMatch(/not a valid URL/);
  });

  it('a path parameter above the limit is a 414 in the API shape; a long but valid id still reaches validation', async () => {
    const body = expectApiError(await t.app.inject({ method: 'GET', url: `/v1/items/${'a'.repeat(300)}/similar`, headers: { 'x-api-key': READ_KEY } }), 414, 'URI_TOO_LONG');
    expect(body.message).toMatch(/256/);
    // 128 characters is a valid Identifier: it must not be refused as too long a URL.
    expect((await t.app.inject({ method: 'GET', url: `/v1/items/${'a'.repeat(128)}/similar`, headers: { 'x-api-key': READ_KEY } })).statusCode).toBe(404);
    expectApiError(await t.app.inject({ method: 'GET', url: `/v1/items/${'a'.repeat(129)}/similar`, headers: { 'x-api-key': READ_KEY } }), 400, 'VALIDATION');
  });

  it('a text/plain body is 415, and says to send JSON', async () => {
    const body = expectApiError(await postProduct('{"productId":"p1"}', { 'content-type': 'text/plain' }), 415, 'UNSUPPORTED_MEDIA_TYPE');
    expect(body.message).toMatch(/application\/json/);
  });

  it('updatedAt "yesterday" gets a message that says what a time looks like', async () => {
    const body = expectApiError(await postProduct('{"productId":"p1","title":"Mug","price":1,"currency":"GBP","updatedAt":"yesterday"}'), 400, 'VALIDATION');
    expect(body.issues).toEqual([{ path: 'updatedAt', message: '"yesterday" is not a time: send epoch milliseconds or an ISO-8601 date-time such as 2024-05-01T12:00:00Z' }]);
  });

  it('a 100 kB description reports the schema’s limit, 8192 characters', async () => {
    const body = expectApiError(await postProduct(JSON.stringify({ productId: 'p1', title: 'Mug', price: 1, currency: 'GBP', description: 'x'.repeat(100_000) })), 400, 'VALIDATION');
    expect(body.issues).toEqual([{ path: 'description', message: 'at most 8192 characters' }]);
  });

  it('accepts the bearer scheme in any case (RFC 7235), and still refuses a wrong key', async () => {
    for (const scheme of ['Bearer', 'bearer', 'BEARER']) {
      expect((await t.app.inject({ method: 'GET', url: '/v1/trending', headers: { authorization: `${scheme} ${READ_KEY}` } })).statusCode, scheme).toBe(404);
    }
    expect((await t.app.inject({ method: 'GET', url: '/v1/trending', headers: { authorization: `bearer   ${READ_KEY}` } })).statusCode).toBe(404);
    expectApiError(await t.app.inject({ method: 'GET', url: '/v1/trending', headers: { authorization: 'bearer not-a-key-0123456789' } }), 403, 'FORBIDDEN');
    expectApiError(await t.app.inject({ method: 'GET', url: '/v1/trending', headers: { authorization: `Basic ${READ_KEY}` } }), 401, 'UNAUTHENTICATED');
  });
});
