import { describe, expect, it } from 'vitest';
import { AuthFailureThrottle } from '../src/auth-throttle';
import { loadApiConfig } from '../src/config';
import { READ_KEY, TEST_LIMITS, testApp } from './support/app';

describe('AuthFailureThrottle', () => {
  it('blocks an address after `limit` failures until its window ends; other addresses are not affected', () => {
    let now = 1_000;
    const t = new AuthFailureThrottle(3, 60_000, 100, () => now);
    for (let i = 0; i < 2; i++) t.fail('a');
    expect(t.blockedFor('a')).toBe(0);
    t.fail('a');
    expect(t.blockedFor('a')).toBe(60_000);
    expect(t.blockedFor('b')).toBe(0);
    now += 59_999;
    expect(t.blockedFor('a')).toBe(1);
    now += 1;
    expect(t.blockedFor('a')).toBe(0);
    t.fail('a'); // a new window
    expect(t.blockedFor('a')).toBe(0);
    expect(t.blockedFor('b')).toBe(0);
  });

  it('remembers at most maxAddresses, forgetting ended windows first, then the oldest', () => {
    let now = 0;
    const t = new AuthFailureThrottle(1, 1000, 2, () => now);
    t.fail('a');
    now = 500;
    t.fail('b');
    t.fail('c'); // full: a (the oldest, still running) goes
    expect([t.blockedFor('a'), t.blockedFor('b'), t.blockedFor('c')]).toEqual([0, 1000, 1000]);
  });
});

describe('API_TRUST_PROXY', () => {
  const parse = (value: string | undefined) => loadApiConfig({ API_TRUST_PROXY: value }).API_TRUST_PROXY;

  it('defaults to false; takes true, false, addresses, CIDRs and range names', () => {
    expect(parse(undefined)).toBe(false);
    expect(parse('false')).toBe(false);
    expect(parse('true')).toBe(true);
    expect(parse(' 10.0.0.0/8, 127.0.0.1 ,fd00::/8,loopback')).toEqual(['10.0.0.0/8', '127.0.0.1', 'fd00::/8', 'loopback']);
  });

  it('refuses hop counts (they cannot tell the proxy from a direct client) and what is not an address, naming the entry', () => {
    expect(() => parse('1')).toThrow(/API_TRUST_PROXY="1" is invalid: a hop count cannot tell the proxy from a client/);
    expect(() => parse('10.0.0.0/33')).toThrow(/"10\.0\.0\.0\/33": the prefix length must be 0\.\.32/);
    expect(() => parse('proxy.internal')).toThrow(/"proxy\.internal" is not an IP address, a CIDR or one of loopback, linklocal, uniquelocal/);
  });
});

describe('rate limits and proxies in the app', () => {
  const trending = (remoteAddress: string, headers: Record<string, string> = {}) => ({ method: 'GET' as const, url: '/v1/trending', remoteAddress, headers });

  it('without API_TRUST_PROXY, X-Forwarded-For does not change the address a client is counted under', async () => {
    const { app } = await testApp({ limits: { ...TEST_LIMITS, requestsPerMinute: 3 } });
    try {
      const statuses = [];
      for (let i = 0; i < 5; i++) statuses.push((await app.inject(trending('192.0.2.1', { 'x-api-key': READ_KEY, 'x-forwarded-for': `198.51.100.${i}` }))).statusCode);
      // Keyed by the known key here; a keyless client is keyed by its address:
      const keyless = [];
      for (let i = 0; i < 5; i++) keyless.push((await app.inject({ method: 'GET', url: '/openapi.json', remoteAddress: '192.0.2.2', headers: { 'x-forwarded-for': `198.51.100.${i}` } })).statusCode);
      expect(statuses).toEqual([404, 404, 404, 429, 429]);
      expect(keyless).toEqual([200, 200, 200, 429, 429]);
    } finally {
      await app.close();
    }
  });

  it('with API_TRUST_PROXY naming the proxy, a forwarded client is counted under its own address; a direct client still under its peer address', async () => {
    const { app } = await testApp({ trustProxy: ['10.0.0.0/8'], limits: { ...TEST_LIMITS, requestsPerMinute: 2 } });
    try {
      const viaProxy = (client: string) => app.inject({ method: 'GET', url: '/openapi.json', remoteAddress: '10.1.2.3', headers: { 'x-forwarded-for': client } });
      expect([(await viaProxy('198.51.100.1')).statusCode, (await viaProxy('198.51.100.1')).statusCode, (await viaProxy('198.51.100.1')).statusCode]).toEqual([200, 200, 429]);
      expect((await viaProxy('198.51.100.2')).statusCode).toBe(200);
      const direct = (client: string) => app.inject({ method: 'GET', url: '/openapi.json', remoteAddress: '192.0.2.9', headers: { 'x-forwarded-for': client } });
      expect([(await direct('198.51.100.3')).statusCode, (await direct('198.51.100.4')).statusCode, (await direct('198.51.100.5')).statusCode]).toEqual([200, 200, 429]);
    } finally {
      await app.close();
    }
  });

  it('a made-up key does not get a budget of its own; both 429s have the API shape and Retry-After', async () => {
    const { app } = await testApp({ limits: { ...TEST_LIMITS, requestsPerMinute: 3, authFailuresPerMinute: 2 } });
    try {
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await app.inject(trending('192.0.2.3', { 'x-api-key': `made-up-key-${i}-0123456789` }))).statusCode);
      const blocked = await app.inject(trending('192.0.2.3', { 'x-api-key': READ_KEY }));
      expect(statuses).toEqual([403, 403, 429]); // two failures allowed, then blocked
      expect(blocked.statusCode).toBe(429);
      expect(blocked.json()).toEqual({ error: 'AUTH_RATE_LIMITED', message: expect.stringMatching(/^too many failed authentications from this address \(2 a minute at most\); retry in \d+ s$/), issues: [] });
      expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
      expect((await app.inject({ method: 'GET', url: '/healthz', remoteAddress: '192.0.2.3' })).statusCode).toBe(200);
      // The general limit: keyless requests from one address.
      for (let i = 0; i < 3; i++) await app.inject({ method: 'GET', url: '/openapi.json', remoteAddress: '192.0.2.4' });
      const limited = await app.inject({ method: 'GET', url: '/openapi.json', remoteAddress: '192.0.2.4' });
      expect(limited.statusCode).toBe(429);
      expect(limited.json()).toEqual({ error: 'RATE_LIMITED', message: expect.stringMatching(/^more than 3 requests per minute; retry in \d+ s$/), issues: [] });
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    } finally {
      await app.close();
    }
  });
});
