/**
 * Drill (issue #12 "Done when"): a broker restart and a Redis restart under a running load.
 *
 * test/stream-runtime.test.ts restarts Kafka and kills Redis under the counter worker; this does
 * the same to the real services — enricher, indexer, graph and recommender, each its own
 * process — while records keep arriving on all four input topics. Afterwards every group must
 * have read everything, nothing may sit in a DLQ (an outage is waited out, never parked), and
 * each accepted record must have taken effect exactly once (test/support/drills.ts).
 *
 * It restarts the stack the test run uses, like the restart tests of stream-runtime, so it runs
 * only when this run manages the stack (not with KAFKA_BROKERS/REDIS_URL of someone else's),
 * and leaves the stack up however it ends. Next to a stack others use, give the run its own:
 * `AFFINITY_STATE=/tmp/drill-stack KAFKA_PORT=19092 KAFKA_CONTROLLER_PORT=19093 REDIS_PORT=16379`
 * (and no KAFKA_BROKERS/REDIS_URL) makes the infra scripts start and restart a private one.
 */
import { encodeJson, type ProductUpsertInput } from '@affinity/contracts';
import { uciProducts } from '@affinity/sample-data';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { DrillPipeline, type InputTopic, type RawRecord } from '../support/drills';
import { enrichedProduct, numberedInteraction, seeded, unitVector, userBehaviour } from '../support/fixtures';
import { committedTotal, faults, waitFor } from '../support/harness';

const BASE_TS = 1_700_000_000_000;
let d: DrillPipeline | undefined;

beforeAll(async () => {
  if (!faults.canRestart()) return;
  d = await DrillPipeline.open('drill-restart', {
    services: ['enricher', 'indexer', 'graph', 'recommender'],
    partitions: { catalog: 3, interactions: 3, enriched: 3, behaviour: 3, recs: 3 },
  });
});

afterAll(async () => {
  await d?.close();
});

const products = uciProducts().slice(0, 40);
const rnd = seeded(4711);

/** Tick `k` of the load: 20 interactions, and every fifth tick a product version, an enriched product and a user vector. */
function tick(k: number): [InputTopic, RawRecord[]][] {
  const interactions = Array.from({ length: 20 }, (_, j) => {
    const e = numberedInteraction('r', k * 20 + j, 23, 37);
    return { key: e.userId, value: encodeJson(e) };
  });
  if (k % 5 !== 0) return [['interactions', interactions]];
  const p = products[(k / 5) % products.length]!;
  const product: ProductUpsertInput = { ...p, eventId: `${p.eventId}-r${k}`, price: 1 + k / 100, updatedAt: BASE_TS + k };
  const user = userBehaviour(`rb${k % 10}`, `rbe-${k}`, BASE_TS + k, unitVector(16, rnd));
  return [
    ['interactions', interactions],
    ['catalog', [{ key: p.productId, value: encodeJson(product) }]],
    ['enriched', [{ key: `re-${k % 12}`, value: encodeJson(enrichedProduct(`re-${k % 12}`, unitVector(16, rnd), { version: k })) }]],
    ['behaviour', [{ key: `user:${user.nodeId}`, value: encodeJson(user) }]],
  ];
}

/** Writes ticks every 100 ms until stopped (about 200 interactions per second); sends retry through the restarts. */
function startLoad(drill: DrillPipeline): { stop(): Promise<number> } {
  let stopped = false;
  let k = 0;
  const running = (async () => {
    while (!stopped) {
      for (const [topic, records] of tick(k++)) await drill.writeValid(topic, records);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await running;
      return k;
    },
  };
}

/** Waits until the recommender and the graph committed `n` more interactions than now. */
async function progress(drill: DrillPipeline, n: number, what: string): Promise<void> {
  const topic = drill.topic('interactions');
  const committed = async () => Math.min(await committedTotal(drill.t.admin, drill.group('recommender'), topic), await committedTotal(drill.t.admin, drill.group('graph'), topic));
  // Right after a restart the broker may not know the group coordinator yet: waitFor retries.
  const from = await waitFor(committed, () => true, 60_000, 'committed offsets');
  await waitFor(committed, (c) => c >= from + n, 180_000, what);
}

describe('drill: restarts of the broker and of Redis under load', () => {
  it.runIf(faults.canRestart())('a broker restart and a Redis crash and restart under a running load lose nothing, double count nothing and park nothing in a DLQ', async () => {
    const drill = d!;
    const load = startLoad(drill);
    try {
      await progress(drill, 1000, 'interactions applied before the broker restart');
      faults.kafka('restart');
      await progress(drill, 1000, 'interactions applied after the broker restart');
      faults.redis('kill');
      await new Promise((r) => setTimeout(r, 3000));
      faults.redis('up');
      await progress(drill, 1000, 'interactions applied after Redis came back');
    } finally {
      await load.stop();
      // Whatever happened above, the stack the run shares is up again.
      faults.kafka('up');
      faults.redis('up');
    }
    // A batch redone after Redis failed between the enricher's output and its version write is published twice (at least once).
    await drill.verify({ redoneOutput: true, timeoutMs: 300_000 });
  }, 900_000);
});
