import { DlqRecord, EnrichedProduct, encodeJson, parseWith, topicName, type ProductUpsertInput } from '@affinity/contracts';
import { uciProducts } from '@affinity/sample-data';
import type { KafkaMessage } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChildWorker, type TestEnv, TopicCollector, openTestEnv, spawnWorker, stopWorkers } from './support/harness';

let t: TestEnv;
let worker: ChildWorker;
let enriched: TopicCollector;
let dlq: TopicCollector;

const N = 300;
const products = uciProducts().slice(0, N + 10);
const send = (p: ProductUpsertInput) => t.producer.send({ topic: topicName('catalog', { prefix: t.prefix }), acks: -1, messages: [{ key: p.productId, value: encodeJson(p) }] });
const parse = (m: KafkaMessage) => parseWith(EnrichedProduct, JSON.parse(m.value!.toString()));
const cachedEmbeddings = async () => (await t.redis.keys(`${t.prefix}affinity:enricher:embedding:*`)).length;
const cachedAttributes = async () => (await t.redis.keys(`${t.prefix}affinity:enricher:attributes:*`)).length;

beforeAll(async () => {
  t = await openTestEnv('enricher');
  enriched = await new TopicCollector(t.kafka, topicName('enriched', { prefix: t.prefix })).start();
  dlq = await new TopicCollector(t.kafka, `${topicName('catalog', { prefix: t.prefix })}.dlq`).start();
  worker = spawnWorker('services/enricher/src/main.ts', t.serviceEnv({ EMBEDDING_THREADS: '1' }), `${t.prefix}enricher`);
});

afterAll(async () => {
  await stopWorkers(worker);
  await enriched?.stop();
  await dlq?.stop();
  await t?.close();
});

describe('enricher against real Kafka, Redis and the real embedding model', () => {
  it('enriches real UCI products with 384-dim unit vectors and attributes', async () => {
    await t.producer.send({ topic: topicName('catalog', { prefix: t.prefix }), acks: -1, messages: products.slice(0, N).map((p) => ({ key: p.productId, value: encodeJson(p) })) });
    await enriched.waitFor((m) => m.length >= N, 180_000, `${N} enriched products`);
    const events = enriched.messages.map(parse);
    expect(new Set(events.map((e) => e.productId)).size).toBe(N);
    for (const e of events) {
      expect(e.embedding.dim).toBe(384);
      expect(e.embedding.vector).toHaveLength(384);
      let norm = 0;
      for (const x of e.embedding.vector) norm += x * x;
      expect(Math.sqrt(norm)).toBeCloseTo(1, 3);
      expect(e.embedding.modelId).toBe('all-minilm-l6-v2-int8');
      expect(e.contentHash).toMatch(/^[0-9a-f]{64}$/);
    }
    // Attribute extraction finds something on real titles (colours, sizes, counts...).
    const withAttributes = events.filter((e) => e.attributes.length > 0);
    expect(withAttributes.length).toBeGreaterThan(N / 10);
    expect(await cachedEmbeddings()).toBe(N);
    expect(await cachedAttributes()).toBe(N);
  });

  it('re-embeds an edited title, reuses the embedding for a price change, ignores a duplicate', async () => {
    const [a, b] = [products[0]!, products[1]!];
    const before = parse(enriched.byKey(a.productId)[0]!);
    const cacheBefore = await cachedEmbeddings();
    const attributesBefore = await cachedAttributes();
    await send({ ...a, eventId: `${a.eventId}-edit`, title: `${a.title} GIFT SET`, updatedAt: Number(a.updatedAt) + 1000 });
    await send({ ...b, eventId: `${b.eventId}-price`, price: Number(b.price) + 1, updatedAt: Number(b.updatedAt) + 1000 });
    await send(b); // the original again: older than the stored version
    await send({ ...b, eventId: `${b.eventId}-price`, price: Number(b.price) + 1, updatedAt: Number(b.updatedAt) + 1000 }); // exact duplicate
    await enriched.waitFor((m) => m.filter((x) => x.key?.toString() === a.productId).length >= 2 && m.filter((x) => x.key?.toString() === b.productId).length >= 2, 60_000, 'edits enriched');
    await new Promise((r) => setTimeout(r, 2000));
    const aEvents = enriched.byKey(a.productId).map(parse);
    const bEvents = enriched.byKey(b.productId).map(parse);
    expect(aEvents).toHaveLength(2);
    expect(bEvents).toHaveLength(2);
    expect(aEvents[1]!.contentHash).not.toBe(before.contentHash);
    expect(Array.from(aEvents[1]!.embedding.vector)).not.toEqual(Array.from(before.embedding.vector));
    expect(bEvents[1]!.product.price).toBe(Number(b.price) + 1);
    expect(bEvents[1]!.contentHash).toBe(bEvents[0]!.contentHash);
    expect(Array.from(bEvents[1]!.embedding.vector)).toEqual(Array.from(bEvents[0]!.embedding.vector));
    // Exactly one new model run and one new extraction: the edited title. The price change reuses both.
    expect(await cachedEmbeddings()).toBe(cacheBefore + 1);
    expect(await cachedAttributes()).toBe(attributesBefore + 1);
    expect(bEvents[1]!.attributes).toEqual(bEvents[0]!.attributes);
  });

  it('turns a delete into a tombstone and routes malformed products to the DLQ while the stream continues', async () => {
    const c = products[2]!;
    const topic = topicName('catalog', { prefix: t.prefix });
    await t.producer.send({ topic, acks: -1, messages: [{ key: c.productId, value: encodeJson({ type: 'product.delete', eventId: `del-${c.productId}`, productId: c.productId, updatedAt: Number(c.updatedAt) + 5000 }) }] });
    await t.producer.send({
      topic,
      acks: -1,
      messages: [
        { key: 'BROKEN1', value: Buffer.from('{"type":"product.upsert", "productId": "BROKEN1"') },
        { key: 'BROKEN2', value: encodeJson({ ...products[3]!, productId: 'BROKEN2', price: -3 }) },
        { key: products[N]!.productId, value: encodeJson(products[N]!) },
      ],
    });
    await enriched.waitFor((m) => m.some((x) => x.key?.toString() === c.productId && x.value === null) && m.some((x) => x.key?.toString() === products[N]!.productId), 60_000, 'tombstone and the product after the bad ones');
    const tomb = enriched.byKey(c.productId).find((m) => m.value === null)!;
    expect(tomb.headers?.['event-id']?.toString()).toBe(`del-${c.productId}`);
    await dlq.waitFor((m) => m.length >= 2, 30_000, 'two DLQ records');
    // The two bad records have different keys, so they may sit in different DLQ partitions: match by key.
    const byKey = new Map(dlq.messages.map((m) => [m.key?.toString(), parseWith(DlqRecord, JSON.parse(m.value!.toString()))]));
    const records = [...byKey.values()];
    expect(records.map((r) => r.errorCode)).toEqual(['VALIDATION', 'VALIDATION']);
    expect(byKey.get('BROKEN1')!.message).toMatch(/not valid JSON/);
    expect(byKey.get('BROKEN2')!.message).toMatch(/price/);
    expect(records.every((r) => r.sourceTopic === topic && /^\d+$/.test(r.sourceOffset))).toBe(true);
  });
});
