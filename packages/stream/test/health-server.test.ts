import { connect } from 'node:net';
import { Counter, Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { HealthServer, type HealthServerOptions, commonEnv, createLogger, httpExposure, parseEnv, runService } from '../src';

const TOKEN = 'metrics-token-0123456789abcdef';
const servers: HealthServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(options: Partial<HealthServerOptions> = {}): Promise<number> {
  const registry = new Registry();
  new Counter({ name: 'affinity_test_total', help: 'a test counter', registers: [registry] });
  const server = new HealthServer({ port: 0, registry, probes: () => [{ name: 'fake', healthy: () => true, ready: () => true }], ...options });
  servers.push(server);
  return server.start();
}

/** Whether a TCP connection to `host:port` is accepted (all of 127/8 is loopback on Linux). */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, host, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

describe('health server exposure', () => {
  it('listens on 127.0.0.1 only by default, and on every interface for 0.0.0.0', async () => {
    const local = await start();
    expect([await accepts('127.0.0.1', local), await accepts('127.0.0.2', local)]).toEqual([true, false]);
    const wide = await start({ host: '0.0.0.0' });
    expect([await accepts('127.0.0.1', wide), await accepts('127.0.0.2', wide)]).toEqual([true, true]);
  });

  it('runService passes HTTP_HOST and the metrics settings through (httpExposure)', async () => {
    const config = parseEnv(commonEnv, { HTTP_PORT: '0', METRICS_TOKEN: TOKEN });
    expect(config.HTTP_HOST).toBe('127.0.0.1');
    const service = { name: 'fake', start: async () => undefined, close: async () => undefined, healthy: () => true, ready: () => true };
    const running = await runService(service, { name: 'fake', logger: createLogger('fake', 'silent'), registry: new Registry(), ...httpExposure(config), graceMs: 1000, handleSignals: false });
    try {
      expect(await accepts('127.0.0.2', running.port)).toBe(false);
      expect((await fetch(`http://127.0.0.1:${running.port}/metrics`)).status).toBe(401);
      expect((await fetch(`http://127.0.0.1:${running.port}/healthz`)).status).toBe(200);
    } finally {
      await running.shutdown('test');
    }
  });

  it('with a metrics token: /metrics needs it as a bearer token, probes never', async () => {
    const port = await start({ metrics: { enabled: true, token: TOKEN } });
    const get = (path: string, authorization?: string) => fetch(`http://127.0.0.1:${port}${path}`, { headers: authorization ? { authorization } : {} });
    for (const authorization of [undefined, 'Bearer wrong-token-0123456789abcdef', `Basic ${TOKEN}`, `Bearer ${TOKEN}x`]) {
      const res = await get('/metrics', authorization);
      expect(res.status, String(authorization)).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(await res.json()).toEqual({ error: 'UNAUTHENTICATED', message: expect.stringMatching(/METRICS_TOKEN/), issues: [] });
    }
    const ok = await get('/metrics', `bearer ${TOKEN}`);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('affinity_test_total');
    expect((await get('/healthz')).status).toBe(200);
    expect((await get('/readyz')).status).toBe(200);
  });

  it('with metrics disabled: /metrics is not found (extra routes may still claim the path), probes stay', async () => {
    const port = await start({ metrics: { enabled: false } });
    expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
  });
});

describe('HTTP settings', () => {
  it('HTTP_HOST takes addresses and host names; METRICS_TOKEN is secret and at least 16 characters', () => {
    expect(parseEnv(commonEnv, { HTTP_HOST: '::' }).HTTP_HOST).toBe('::');
    expect(parseEnv(commonEnv, { HTTP_HOST: 'pod-1.svc.local' }).HTTP_HOST).toBe('pod-1.svc.local');
    expect(parseEnv(commonEnv, { METRICS_ENABLED: 'false' }).METRICS_ENABLED).toBe(false);
    expect(() => parseEnv(commonEnv, { HTTP_HOST: 'http://0.0.0.0' })).toThrow(/HTTP_HOST="http:\/\/0\.0\.0\.0" is invalid: expected an IP address or a host name/);
    let message = '';
    try {
      parseEnv(commonEnv, { METRICS_TOKEN: 'short-token' });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/METRICS_TOKEN=\(secret, not shown\) is invalid: at least 16 characters/);
    expect(message).not.toContain('short-token');
  });
});
