import { describe, expect, it } from 'vitest';
import { RetriableError } from '@affinity/contracts';
import { MicroBatcher } from '../src/internal/micro-batcher';

function recorder(delayMs = 0) {
  const batches: number[][] = [];
  let live = 0;
  let maxLive = 0;
  const run = async (items: number[]) => {
    live++;
    maxLive = Math.max(maxLive, live);
    batches.push(items);
    await new Promise((r) => setTimeout(r, delayMs));
    live--;
    return items.map((x) => x * 10);
  };
  return { run, batches, maxLive: () => maxLive };
}

describe('MicroBatcher', () => {
  it('sends a full batch at once and the remainder after maxWaitMs', async () => {
    const r = recorder();
    const b = new MicroBatcher(r.run, { maxBatchSize: 4, maxWaitMs: 30, maxQueue: 100 });
    const started = performance.now();
    const results = await Promise.all([1, 2, 3, 4, 5, 6].map((x) => b.submit(x)));
    expect(results).toEqual([10, 20, 30, 40, 50, 60]);
    expect(r.batches).toEqual([[1, 2, 3, 4], [5, 6]]);
    expect(performance.now() - started).toBeGreaterThanOrEqual(25);
  });

  it('runs one batch at a time and lets the queue grow into bigger batches meanwhile', async () => {
    const r = recorder(20);
    const b = new MicroBatcher(r.run, { maxBatchSize: 8, maxWaitMs: 0, maxQueue: 100 });
    const first = b.submit(0);
    await new Promise((res) => setTimeout(res, 5));
    const rest = Array.from({ length: 10 }, (_, i) => b.submit(i + 1));
    await Promise.all([first, ...rest]);
    expect(r.maxLive()).toBe(1);
    expect(r.batches.map((x) => x.length)).toEqual([1, 8, 2]);
  });

  it('rejects at once when the queue is full', async () => {
    const r = recorder(10);
    const b = new MicroBatcher(r.run, { maxBatchSize: 2, maxWaitMs: 1000, maxQueue: 2 });
    const ok = [b.submit(1), b.submit(2)];
    // The first two left as a full batch; two more fill the queue again.
    const queued = [b.submit(3), b.submit(4)];
    await expect(b.submit(5)).rejects.toBeInstanceOf(RetriableError);
    await b.drain();
    expect(await Promise.all([...ok, ...queued])).toEqual([10, 20, 30, 40]);
  });

  it('hands a failed run to every member of that batch only', async () => {
    let calls = 0;
    const b = new MicroBatcher(
      async (items: number[]) => {
        calls++;
        if (calls === 1) throw new Error('boom');
        return items;
      },
      { maxBatchSize: 2, maxWaitMs: 5, maxQueue: 10 },
    );
    const first = [b.submit(1), b.submit(2)];
    const second = b.submit(3);
    await expect(first[0]).rejects.toThrow('boom');
    await expect(first[1]).rejects.toThrow('boom');
    expect(await second).toBe(3);
  });

  it('drain() flushes without waiting for maxWaitMs', async () => {
    const r = recorder();
    const b = new MicroBatcher(r.run, { maxBatchSize: 100, maxWaitMs: 60_000, maxQueue: 100 });
    const p = b.submit(7);
    await b.drain();
    expect(await p).toBe(70);
    expect(b.pending).toBe(0);
  });
});
