import { AffinityError } from '@affinity/contracts';
import type { ServingStore } from '@affinity/store';
import { describe, expect, it } from 'vitest';
import type { RecsFeed } from '../src/recs-feed';
import { READ_KEY, testApp } from './support/app';

describe('SSE subscription', () => {
  it('opens the stream with a comment first, and when the stored list cannot be read says so in the stream, ends it and unsubscribes', async () => {
    let subscribed = 0;
    const feed = { subscribe: () => (subscribed++, () => void subscribed--) } as unknown as RecsFeed;
    const serving = { listJson: async () => Promise.reject(new AffinityError('UNAVAILABLE', 'redis is down')) } as unknown as ServingStore;
    const { app } = await testApp({ feed, serving });
    try {
      const res = await app.inject({ method: 'GET', url: '/v1/subscribe/similar/p1', headers: { 'x-api-key': READ_KEY } });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/text\/event-stream/);
      const [first, second] = res.body.split('\n\n');
      expect(first).toBe(': subscribed');
      expect(second).toMatch(/^event: error\ndata: /);
      expect(JSON.parse(second!.split('data: ')[1]!)).toMatchObject({ error: 'UNAVAILABLE', issues: [] });
      expect(subscribed).toBe(0);
    } finally {
      await app.close();
    }
  });
});
