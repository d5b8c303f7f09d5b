import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ExtractedAttribute, encodeJson, topicName } from '@affinity/contracts';
import { IndexRouter, type KnnFilter } from '@affinity/index-router';
import { ShardRegistry } from '@affinity/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enrichedProduct, seeded, unitVector } from './support/fixtures';
import { type TestEnv, TopicCollector, openTestEnv, spawnWorker, stopWorkers, waitFor } from './support/harness';

const PARTITIONS = 2;
const DIM = 16;
let t: TestEnv;
let dir: string;

beforeAll(async () => {
  t = await openTestEnv('indexer-attrs', { partitions: { enriched: PARTITIONS } });
  dir = mkdtempSync(join(tmpdir(), 'affinity-index-'));
});

afterAll(async () => {
  await t?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('indexer against real Kafka and Redis: attribute names that are Object.prototype members', () => {
  it('indexes a product with attributes {"constructor", "__proto__", "toString"} and finds it by each of them; nothing goes to the DLQ', async () => {
    const { prefix, redis, producer, kafka } = t;
    const topic = topicName('enriched', { prefix });
    const group = `${prefix}affinity-indexer`;
    const indexer = spawnWorker('services/indexer/src/main.ts', t.serviceEnv({ INSTANCE_ID: 'i', INDEX_DIR: dir, INDEX_REGISTRY_NAMESPACE: `${prefix}index`, CONSUMER_SESSION_TIMEOUT_MS: '6000' }), `${prefix}indexer`);
    const dlq = await new TopicCollector(kafka, `${topic}.dlq`).start();
    const router = new IndexRouter({ redis, namespace: `${prefix}index`, group, shardCount: PARTITIONS, timeoutMs: 3000, registryCacheMs: 0 });
    try {
      await waitFor(async () => (await ShardRegistry.read(redis, `${prefix}index`, group)).filter((o) => o.alive).length, (n) => n === PARTITIONS, 180_000, 'the indexer owns every shard');
      const rnd = seeded(12);
      const hostile = unitVector(DIM, rnd);
      const base = enrichedProduct('hostile', hostile);
      const extracted: ExtractedAttribute = { name: 'constructor', value: 'x', field: 'title', span: [0, 1], confidence: 0.9, source: 'vocabulary' };
      // JSON text, as a catalog would send it: a JS literal would make "__proto__" the prototype.
      const catalogAttributes = JSON.parse('{"constructor":"c","__proto__":"p","toString":"t","color":"red"}') as Record<string, string>;
      const value = encodeJson({ ...base, product: { ...base.product, attributes: catalogAttributes }, attributes: [extracted] });
      expect(value.toString()).toContain('"__proto__":"p"');
      const plain = unitVector(DIM, rnd);
      await producer.send({ topic, acks: -1, messages: [{ key: 'hostile', value }, { key: 'plain', value: encodeJson(enrichedProduct('plain', plain)) }] });

      const search = async (filter: KnnFilter) => (await router.search({ modelId: 'test-model', vector: hostile, k: 2, filter })).hits.map((h) => h.id);
      await waitFor(() => search({}), (ids) => ids.includes('hostile') && ids.includes('plain'), 60_000, 'both products indexed');
      expect(await search({ attributes: { constructor: 'c' } })).toEqual(['hostile']);
      expect(await search({ attributes: { constructor: 'x' } })).toEqual(['hostile']);
      expect(await search({ attributes: { tostring: 't' } })).toEqual(['hostile']);
      expect(await search({ attributes: JSON.parse('{"__proto__":"p"}') as Record<string, string> })).toEqual(['hostile']);
      expect(await search({ attributes: { constructor: 'nope' } })).toEqual([]);
      await new Promise((r) => setTimeout(r, 1000));
      expect(dlq.messages).toHaveLength(0);
    } finally {
      await dlq.stop();
      await stopWorkers(indexer);
    }
  });
});
