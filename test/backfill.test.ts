import { EnrichedProduct, encodeJson, parseWith, topicName } from '@affinity/contracts';
import { uciProducts } from '@affinity/sample-data';
import { QUEUE, createQueue } from '@affinity/store';
import type { KafkaMessage } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChildWorker, type TestEnv, TopicCollector, openTestEnv, spawnWorker, stack, stopWorkers, waitFor } from './support/harness';

let t: TestEnv;
let enricher: ChildWorker;
let jobs: ChildWorker;
let enriched: TopicCollector;

const products = uciProducts().slice(0, 45);
const parse = (m: KafkaMessage) => parseWith(EnrichedProduct, JSON.parse(m.value!.toString()));

beforeAll(async () => {
  t = await openTestEnv('backfill');
  enriched = await new TopicCollector(t.kafka, topicName('enriched', { prefix: t.prefix })).start();
  const env = t.serviceEnv({ EMBEDDING_THREADS: '1' });
  enricher = spawnWorker('services/enricher/src/main.ts', env, `${t.prefix}enricher`);
  jobs = spawnWorker('services/jobs/src/main.ts', env, `${t.prefix}jobs`);
});

afterAll(async () => {
  await stopWorkers(enricher, jobs);
  await enriched?.stop();
  await t?.close();
});

describe('model upgrade backfill (BullMQ) against real Kafka, Redis and both models', () => {
  it('re-embeds the current catalog under the new model while the live stream goes on, never resurrecting deletes', async () => {
    const topic = topicName('catalog', { prefix: t.prefix });
    const initial = products.slice(0, 40);
    await t.producer.send({ topic, acks: -1, messages: initial.map((p) => ({ key: p.productId, value: encodeJson(p) })) });
    // Live changes before the upgrade: a delete and a title edit.
    const [gone, edited] = [initial[0]!, initial[1]!];
    await t.producer.send({
      topic,
      acks: -1,
      messages: [
        { key: gone.productId, value: null, headers: { 'event-id': `del-${gone.productId}`, ts: String(Number(gone.updatedAt) + 10) } },
        { key: edited.productId, value: encodeJson({ ...edited, eventId: `${edited.eventId}-v2`, title: `${edited.title} XL`, updatedAt: Number(edited.updatedAt) + 10 }) },
      ],
    });
    // The enricher keeps only the newest version of a product within a batch, so count by product.
    await enriched.waitFor(
      (m) =>
        m.some((x) => x.key?.toString() === gone.productId && x.value === null) &&
        m.some((x) => x.key?.toString() === edited.productId && x.value !== null && parse(x).product.title.endsWith(' XL')) &&
        initial.slice(2).every((p) => m.some((x) => x.key?.toString() === p.productId)),
      180_000,
      'live enrichment of the catalog',
    );

    const queue = createQueue(QUEUE.embeddingBackfill, stack().redisUrl, { prefix: `${t.prefix}affinity:bull` });
    const job = await queue.add('backfill', { modelId: 'all-minilm-l6-v2-fp32' }, { jobId: `${t.prefix}backfill` });
    // The live stream does not wait for the backfill.
    const late = products.slice(40);
    await t.producer.send({ topic, acks: -1, messages: late.map((p) => ({ key: p.productId, value: encodeJson(p) })) });
    await waitFor(() => queue.getJobState(job.id!), (s) => s === 'completed' || s === 'failed', 240_000, 'backfill job finished');
    const done = await queue.getJob(job.id!);
    expect(await done!.getState()).toBe('completed');
    await queue.close();
    // The job's records were acknowledged before it completed, but our collector reads them on its
    // own schedule across partitions: wait for as many as the job says it published.
    const { published } = done!.returnvalue as { published: number };
    expect(published).toBeGreaterThan(0);
    await enriched.waitFor(
      (m) => m.filter((x) => x.value !== null && parse(x).embedding.modelId === 'all-minilm-l6-v2-fp32').length >= published,
      60_000,
      `all ${published} backfill records`,
    );

    const events = enriched.messages.filter((m) => m.value !== null).map(parse);
    const fp32 = events.filter((e) => e.embedding.modelId === 'all-minilm-l6-v2-fp32');
    const int8 = events.filter((e) => e.embedding.modelId === 'all-minilm-l6-v2-int8');
    const fp32Ids = new Set(fp32.map((e) => e.productId));
    // Every product that exists was re-embedded; the deleted one was not brought back.
    for (const p of initial.slice(1)) expect(fp32Ids.has(p.productId)).toBe(true);
    expect(fp32Ids.has(gone.productId)).toBe(false);
    // The edited product was re-embedded in its current version only.
    const editedFp32 = fp32.filter((e) => e.productId === edited.productId);
    expect(editedFp32.map((e) => e.product.title)).toEqual([`${edited.title} XL`]);
    // Same model family, other precision: nearly the same direction.
    const live = new Map(int8.map((e) => [`${e.productId}:${e.product.title}`, e.embedding.vector]));
    let compared = 0;
    for (const e of fp32) {
      const v = live.get(`${e.productId}:${e.product.title}`);
      if (!v) continue;
      let d = 0;
      for (let i = 0; i < v.length; i++) d += v[i]! * e.embedding.vector[i]!;
      expect(d).toBeGreaterThan(0.99);
      compared++;
    }
    expect(compared).toBeGreaterThan(30);
    // Live products keep flowing under the live model.
    await enriched.waitFor((m) => late.every((p) => m.some((x) => x.key?.toString() === p.productId)), 60_000, 'late products enriched live');
    expect(late.every((p) => int8.some((e) => e.productId === p.productId) || enriched.byKey(p.productId).some((m) => m.value !== null && parse(m).embedding.modelId === 'all-minilm-l6-v2-int8'))).toBe(true);
  }, 900_000); // its waits add up to more than the default 300 s on a slow machine
});
