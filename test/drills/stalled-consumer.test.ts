/**
 * Drill (issue #12 "Done when"): a stalled consumer must turn /readyz red.
 *
 * test/stream-consumer.test.ts shows it for a BatchConsumer whose handler never returns. Here
 * it is the real recommender, as its own process, whose Redis stops answering or goes away: its
 * connection goes through a FaultProxy (test/support/fault-proxy.ts), so the Redis other tests
 * share is untouched and the drill runs whoever manages the stack. A dependency that hangs is a
 * stall a restart may cure: not ready, not healthy, and the process exits 1 for its supervisor
 * (the one behind `./dev run`, restarts on) to start it again. A dependency that is down makes
 * it not ready until it is back, without a restart. Either way nothing accepted is lost, counted
 * twice or parked in a DLQ.
 */
import { encodeJson } from '@affinity/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DrillPipeline, probes, type RawRecord } from '../support/drills';
import { FaultProxy } from '../support/fault-proxy';
import { numberedInteraction } from '../support/fixtures';
import { stack, waitFor } from '../support/harness';

// Above the ~3 s a Redis command takes to fail while its server is down, as CONSUMER_STALL_TIMEOUT_MS must be.
const STALL_MS = 8000;
let proxy: FaultProxy;
let d: DrillPipeline;

beforeAll(async () => {
  const redis = new URL(stack().redisUrl);
  proxy = new FaultProxy(redis.hostname, Number(redis.port || 6379));
  const through = new URL(stack().redisUrl);
  through.hostname = '127.0.0.1';
  through.port = String(await proxy.start());
  d = await DrillPipeline.open('drill-stall', {
    services: ['recommender'],
    partitions: { catalog: 1, interactions: 2, enriched: 1, behaviour: 1, recs: 1 },
    restart: { initialDelayMs: 500 },
    env: { recommender: { REDIS_URL: through.toString(), CONSUMER_STALL_TIMEOUT_MS: String(STALL_MS), SHUTDOWN_GRACE_MS: '3000', RECS_TRENDING_INTERVAL_MS: '500' } },
  });
});

afterAll(async () => {
  proxy?.pass();
  await d?.close();
  await proxy?.close();
});

function interactions(from: number, n: number): RawRecord[] {
  return Array.from({ length: n }, (_, j) => {
    const e = numberedInteraction('s', from + j, 17, 29);
    return { key: e.userId, value: encodeJson(e) };
  });
}

async function stalls(port: number, reason: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const m = new RegExp(`^affinity_consumer_stalled_total\\{[^}]*reason="${reason}"[^}]*\\} (\\d+)`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

describe('drill: a consumer that cannot make progress', () => {
  it('a recommender whose Redis stops answering turns /readyz and /healthz red, counts the stall, exits 1 to be restarted, and the restarted one applies everything once', async () => {
    await d.writeValid('interactions', interactions(0, 200));
    await d.verify();
    const port = d.port('recommender');
    const pid = d.pipeline.pid('recommender');

    proxy.freeze();
    // Before the records are written: no handler call on them can have started earlier.
    const frozenAt = Date.now();
    await d.writeValid('interactions', interactions(200, 200));
    await waitFor(() => probes(port), (p) => p.readyz === 503 && p.healthz === 503, 60_000, 'not ready and not healthy while Redis hangs');
    // Not before the stall timeout: a wait on Redis is no hang until then (a lower bound only).
    expect(Date.now() - frozenAt).toBeGreaterThanOrEqual(STALL_MS - 1000);
    expect(await stalls(port, 'handler')).toBeGreaterThanOrEqual(1);
    // Unhealthy for 15 s: it shuts down (the drain cannot finish: SHUTDOWN_GRACE_MS) and exits 1.
    const exit = await waitFor(async () => d.pipeline.exits.find((e) => e.name === 'recommender'), Boolean, 90_000, 'the hung recommender to exit');
    expect(exit).toEqual({ name: 'recommender', code: 1, signal: null });

    // Redis answers again; the supervisor has started (or is starting) the recommender anew.
    proxy.pass();
    await waitFor(async () => d.pipeline.restarts('recommender'), (n) => n >= 1, 60_000, 'the supervisor to restart the recommender');
    expect(d.pipeline.pid('recommender')).not.toBe(pid);
    await d.pipeline.waitReady();
    await d.verify();
    expect(d.pipeline.restarts('recommender'), 'the restarted recommender keeps running').toBe(1);
  });

  it('a recommender whose Redis goes down is not ready while it is down, parks nothing in a DLQ, and applies everything once when Redis is back', async () => {
    const port = d.port('recommender');
    const pid = d.pipeline.pid('recommender');
    const exits = d.pipeline.exits.length;
    proxy.refuse();
    await d.writeValid('interactions', interactions(400, 200));
    await waitFor(() => probes(port), (p) => p.readyz === 503, 60_000, 'not ready while Redis is down');
    expect((await stalls(port, 'dependency_unavailable')) + (await stalls(port, 'handler'))).toBeGreaterThanOrEqual(1);
    proxy.pass();
    await d.verify();
    // Waited out in the same process: a short outage is no reason to restart.
    expect(d.pipeline.exits.length, 'no exit while Redis was down').toBe(exits);
    expect(d.pipeline.pid('recommender')).toBe(pid);
  });
});
