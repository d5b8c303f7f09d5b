import { classifyError } from '@affinity/contracts';
import { createRedis } from '@affinity/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaultProxy } from './support/fault-proxy';
import { stack } from './support/harness';

let proxy: FaultProxy;
let port: number;

beforeAll(async () => {
  const redis = new URL(stack().redisUrl);
  proxy = new FaultProxy(redis.hostname, Number(redis.port || 6379));
  port = await proxy.start();
});

afterAll(async () => {
  await proxy.close();
});

describe('a Redis client while its server is down', () => {
  it('fails each command as UNAVAILABLE within about 3 s, however long the outage has lasted, and works again once Redis is back', async () => {
    // A worker learns of an outage only from a failed command; the stall timeout must outlast
    // how long that takes (CONSUMER_STALL_TIMEOUT_MS's hint). With reconnects backing off to 3 s
    // it took 9-15 s a few seconds into an outage. The bound sits halfway between, so a slow,
    // busy machine does not fail it and the old behaviour cannot pass it.
    const through = new URL(stack().redisUrl);
    through.hostname = '127.0.0.1';
    through.port = String(port);
    const client = createRedis({ url: through.toString(), name: 'outage-test' });
    try {
      expect(await client.ping()).toBe('PONG');
      proxy.refuse();
      const took: number[] = [];
      for (const started = Date.now(); Date.now() - started < 12_000; ) {
        const t0 = Date.now();
        const err = await client.get('outage-test:x').then(
          () => undefined,
          (e: unknown) => e,
        );
        took.push(Date.now() - t0);
        expect(err, 'a command while Redis is down fails').toBeDefined();
        expect(classifyError(err).code).toBe('UNAVAILABLE');
        await new Promise((r) => setTimeout(r, 300));
      }
      expect(Math.max(...took), `times to fail: ${took.join(', ')} ms`).toBeLessThan(6000);
      proxy.pass();
      await new Promise((r) => setTimeout(r, 1500));
      expect(await client.ping()).toBe('PONG');
    } finally {
      proxy.pass();
      client.disconnect();
    }
  });
});
