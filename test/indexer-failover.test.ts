import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeJson, topicName } from '@affinity/contracts';
import { IndexRouter } from '@affinity/index-router';
import { ShardRegistry, type Redis } from '@affinity/store';
import type { Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enrichedProduct, seeded, unitVector } from './support/fixtures';
import { type ChildWorker, type TestEnv, openTestEnv, spawnWorker, stopWorkers, waitFor } from './support/harness';

const PARTITIONS = 4;
const DIM = 64;
let t: TestEnv;
let redis: Redis;
let producer: Producer;
let prefix: string;
let dir: string;

beforeAll(async () => {
  t = await openTestEnv('indexer', { partitions: { enriched: PARTITIONS } });
  ({ redis, producer, prefix } = t);
  dir = mkdtempSync(join(tmpdir(), 'affinity-index-'));
});

afterAll(async () => {
  await t?.close();
  rmSync(dir, { recursive: true, force: true });
});

function startIndexer(instance: string): ChildWorker {
  return spawnWorker(
    'services/indexer/src/main.ts',
    t.serviceEnv({
      INSTANCE_ID: instance,
      INDEX_DIR: dir,
      INDEX_REGISTRY_NAMESPACE: `${prefix}index`,
      INDEX_REGISTRY_TTL_MS: '3000',
      INDEX_SNAPSHOT_INTERVAL_MS: '1000',
      CONSUMER_SESSION_TIMEOUT_MS: '6000',
    }),
    `${prefix}indexer-${instance}`,
  );
}

describe('indexer failover against real Kafka and Redis', () => {
  it('a survivor takes over a SIGKILLed peer from snapshot + replay: every live product is found, no deleted one', async () => {
    const topic = topicName('enriched', { prefix });
    const group = `${prefix}affinity-indexer`;
    const router = new IndexRouter({ redis, namespace: `${prefix}index`, group, shardCount: PARTITIONS, timeoutMs: 3000, registryCacheMs: 0 });
    const rnd = seeded(2024);
    const vectors = new Map<string, Float32Array>();
    const deleted = new Map<string, Float32Array>();
    const replacedOld = new Map<string, Float32Array>();

    const a = startIndexer('a');
    const b = startIndexer('b');
    try {
      // Both instances own shards before the stream starts.
      await waitFor(async () => (await ShardRegistry.read(redis, `${prefix}index`, group)).filter((o) => o.alive), (o) => o.length === PARTITIONS && new Set(o.map((x) => x.instance)).size === 2, 180_000, 'both instances registered');

      let killed = false;
      for (let round = 0; round < 20; round++) {
        const messages: { key: string; value: Buffer | null; headers?: Record<string, string> }[] = [];
        for (let i = 0; i < 100; i++) {
          const id = `p${round * 100 + i}`;
          const v = unitVector(DIM, rnd);
          vectors.set(id, v);
          messages.push({ key: id, value: encodeJson(enrichedProduct(id, v)) });
        }
        if (round >= 2) {
          // Replace 10 earlier products with new vectors and delete 10 others.
          for (let j = 0; j < 10; j++) {
            const id = `p${(round - 2) * 100 + j}`;
            if (deleted.has(id)) continue;
            replacedOld.set(id, vectors.get(id)!);
            const v = unitVector(DIM, rnd);
            vectors.set(id, v);
            messages.push({ key: id, value: encodeJson(enrichedProduct(id, v, { version: round })) });
          }
          for (let j = 50; j < 60; j++) {
            const id = `p${(round - 2) * 100 + j}`;
            deleted.set(id, vectors.get(id)!);
            vectors.delete(id);
            messages.push({ key: id, value: null, headers: { 'event-id': `del-${id}`, ts: String(1_700_000_000_000 + round) } });
          }
        }
        await producer.send({ topic, acks: -1, messages });
        await new Promise((r) => setTimeout(r, 250));
        if (round === 10 && !killed) {
          a.proc.kill('SIGKILL');
          await a.exited;
          killed = true;
        }
      }

      // The survivor owns everything, and the registry says so.
      await waitFor(async () => (await ShardRegistry.read(redis, `${prefix}index`, group)).filter((o) => o.alive && o.instance === 'b'), (o) => o.length === PARTITIONS, 90_000, 'survivor owns all shards');
      const expected = [...vectors.keys()];
      await waitFor(
        async () => {
          let found = 0;
          for (const id of expected.slice(-50)) {
            const r = await router.search({ modelId: 'test-model', vector: vectors.get(id)!, k: 1 });
            if (r.hits[0]?.id === id) found++;
          }
          return found;
        },
        (n) => n === 50,
        60_000,
        'the last products searchable',
      );

      let missingLive = 0;
      for (const id of expected) {
        const r = await router.search({ modelId: 'test-model', vector: vectors.get(id)!, k: 3 });
        expect(r.complete).toBe(true);
        if (r.hits[0]?.id !== id) missingLive++;
        else expect(r.hits[0]!.score).toBeGreaterThan(0.999);
      }
      expect(missingLive).toBe(0);
      for (const [id, oldVector] of replacedOld) {
        if (deleted.has(id)) continue;
        const r = await router.search({ modelId: 'test-model', vector: oldVector, k: 10 });
        const hit = r.hits.find((h) => h.id === id);
        // The product is still there, but only with its new vector.
        expect(hit === undefined || hit.score < 0.9).toBe(true);
      }
      // Deleted products never come back, even when queried with their own vector.
      expect(deleted.size).toBeGreaterThan(100);
      for (const [id, v] of deleted) {
        const r = await router.search({ modelId: 'test-model', vector: v, k: 10 });
        expect(r.complete).toBe(true);
        expect(r.hits.map((h) => h.id)).not.toContain(id);
      }
    } finally {
      await stopWorkers(a, b);
    }
  });
});
