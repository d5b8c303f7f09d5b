import { createHash, randomBytes } from 'node:crypto';
import {
  DLQ_LIMITS,
  DlqRecord,
  MAX_MESSAGE_BYTES,
  RetriableError,
  UnavailableError,
  ValidationError,
  decodeCatalogEvent,
  decodeEnrichedEvent,
  decodeInteraction,
  encodeJson,
  parseWith,
  topicName,
  type Decoder,
  type CatalogEvent,
  type Interaction,
  type ProductUpsertInput,
} from '@affinity/contracts';
import { BatchConsumer, EventProducer, Registry, StreamMetrics, createKafka, createLogger, runService, sleep, type BatchConsumerOptions, type InputSpec, type Service } from '@affinity/stream';
import type { Admin, Kafka, Message } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enrichedProduct, seeded, unitVector } from './support/fixtures';
import { committedTotal, createTopics, deleteTopicsWithPrefix, readAll, stack, uniquePrefix, waitFor } from './support/harness';

let kafka: Kafka;
let admin: Admin;
let prefix: string;
const logger = createLogger('stream-retries-test', 'silent');

beforeAll(async () => {
  prefix = `${uniquePrefix('retries')}.`;
  kafka = createKafka({ brokers: stack().brokers, clientId: 'retries-test', logger });
  admin = await createTopics(kafka, { prefix, partitions: { interactions: 1 } });
});

afterAll(async () => {
  await deleteTopicsWithPrefix(admin, prefix);
  await admin.disconnect();
});

function event(i: number, productId: string): Interaction {
  return { type: 'view', eventId: `e${i}`, userId: 'u1', productId, sessionId: 's1', ts: 1_700_000_000_000 + i };
}

type Streams = { interactions: InputSpec<Interaction> };

/** A consumer of this suite's interactions topic; each test adds its group, handler and options. */
function interactionsConsumer(
  producer: EventProducer,
  options: Omit<BatchConsumerOptions<Streams>, 'kafka' | 'inputs' | 'producer' | 'logger'>,
): BatchConsumer<Streams> {
  return new BatchConsumer({ kafka, inputs: { interactions: { topic: topicName('interactions', { prefix }), decode: decodeInteraction } }, producer, logger, ...options });
}

/** A one-partition topic of this suite's own, once it has a leader: what happens there holds up no other test. */
async function ownTopic(name: string): Promise<string> {
  const topic = `${prefix}${name}`;
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: false });
  await waitFor(async () => (await admin.fetchTopicOffsets(topic).catch(() => [])).length, (n) => n === 1, 30_000, 'a leader for the new topic');
  return topic;
}

/** A promise the test resolves when it chooses. */
function gate(): { released: Promise<void>; release: () => void } {
  let release: () => void = () => undefined;
  const released = new Promise<void>((r) => (release = r));
  return { released, release };
}

/** A consumer of catalog events on `topic` with its own metrics registry; each test adds its group, handler and options. */
function catalogConsumer(topic: string, producer: EventProducer, registry: Registry, options: Omit<BatchConsumerOptions<{ catalog: InputSpec<CatalogEvent> }>, 'kafka' | 'inputs' | 'producer' | 'logger' | 'metrics'>) {
  return new BatchConsumer({ kafka, inputs: { catalog: { topic, decode: decodeCatalogEvent } }, producer, logger, metrics: new StreamMetrics(registry, { defaultMetrics: false }), ...options });
}

describe('batch consumer failure handling', () => {
  it('retries transient failures, waits out outages, isolates poison events into the DLQ, and keeps order', async () => {
    const topic = topicName('interactions', { prefix });
    const producer = new EventProducer({ kafka });
    // 0..59 ordinary; 10 fails twice then succeeds; 20 always fails retriably; 30 fails non-retriably;
    // every batch containing 40 first meets a 2 s "Redis is down".
    const events = Array.from({ length: 60 }, (_, i) => event(i, i === 10 ? 'flaky' : i === 20 ? 'poison' : i === 30 ? 'bad' : i === 40 ? 'outage' : `p${i}`));
    await producer.send(topic, events.map((e) => ({ key: e.userId, value: e })));

    const handled: string[] = [];
    const attempts = new Map<string, number>();
    let outageUntil = 0;
    const consumer = interactionsConsumer(producer, {
      groupId: `${prefix}g`,
      maxBatchSize: 25,
      retry: { maxAttempts: 4, initialDelayMs: 20, maxDelayMs: 100 },
      unavailableMaxDelayMs: 200,
      handler: async ({ events: batch }) => {
        for (const e of batch) {
          const id = e.value.productId;
          const n = (attempts.get(id) ?? 0) + 1;
          attempts.set(id, n);
          if (id === 'flaky' && n <= 2) throw new RetriableError('flaky dependency timed out');
          if (id === 'poison') throw new RetriableError('always times out');
          if (id === 'bad') throw new ValidationError('price is negative after currency conversion');
          if (id === 'outage') {
            if (outageUntil === 0) outageUntil = Date.now() + 2000;
            if (Date.now() < outageUntil) throw new UnavailableError('connect ECONNREFUSED 127.0.0.1:6379');
          }
        }
        handled.push(...batch.map((e) => e.value.eventId));
      },
    });
    await consumer.start();
    try {
      await waitFor(() => committedTotal(admin, `${prefix}g`, topic), (n) => n === 60, 60_000, 'all 60 committed');
    } finally {
      await consumer.close();
      await producer.close();
    }
    const dlq = (await readAll(kafka, `${topic}.dlq`, 2)).map((m) => parseWith(DlqRecord, JSON.parse(m.value!.toString())));
    const byOffset = new Map(dlq.map((r) => [r.sourceOffset, r]));
    expect([...byOffset.keys()].sort()).toEqual(['20', '30']);
    expect(byOffset.get('20')).toMatchObject({ errorCode: 'RETRIABLE', attempts: 4, message: 'always times out' });
    expect(byOffset.get('30')).toMatchObject({ errorCode: 'VALIDATION', attempts: 1 });
    // Everything else was handled; each event's first successful handling is in offset order.
    const firstSeen = [...new Set(handled)];
    expect(firstSeen).toEqual(events.filter((_, i) => i !== 20 && i !== 30).map((e) => e.eventId));
    // flaky shares a batch with poison: 4 whole-batch attempts, then 1 isolated attempt that succeeds.
    expect(attempts.get('flaky')).toBe(5);
    // The outage was waited out, not counted against the retry budget, and not sent to the DLQ.
    expect(attempts.get('outage')!).toBeGreaterThan(4);
  });

  it('resumes from the offsets the assignment hook returns, and handles nothing before it resolved', async () => {
    const topic = topicName('interactions', { prefix });
    const groupId = `${prefix}seek`;
    const producer = new EventProducer({ kafka });
    // The topic already holds 60 events from the previous test; add 40 more.
    await producer.send(topic, Array.from({ length: 40 }, (_, i) => event(100 + i, `q${i}`)).map((e) => ({ key: e.userId, value: e })));
    let hookDoneAt = 0;
    const seen: { offset: number; at: number }[] = [];
    const consumer = interactionsConsumer(producer, {
      groupId,
      onAssignment: async (assigned) => {
        expect(assigned).toEqual([{ topic, partitions: [0] }]);
        await new Promise((r) => setTimeout(r, 500)); // e.g. restoring a snapshot
        hookDoneAt = Date.now();
        return [{ topic, partition: 0, offset: '75' }];
      },
      handler: async ({ events: batch }) => {
        for (const e of batch) seen.push({ offset: Number(e.offset), at: Date.now() });
      },
    });
    await consumer.start();
    try {
      await waitFor(async () => seen.length, (n) => n >= 25, 30_000, '25 events from offset 75');
      await new Promise((r) => setTimeout(r, 500));
    } finally {
      await consumer.close();
      await producer.close();
    }
    expect(seen.map((s) => s.offset)).toEqual(Array.from({ length: 25 }, (_, i) => 75 + i));
    expect(seen.every((s) => s.at >= hookDoneAt)).toBe(true);
  });

  it('retries an assignment hook that meets a transient error, and resumes where its last try said', async () => {
    const topic = topicName('interactions', { prefix });
    const producer = new EventProducer({ kafka });
    let tries = 0;
    const seen: number[] = [];
    const consumer = interactionsConsumer(producer, {
      groupId: `${prefix}hook-retry`,
      onAssignment: async () => {
        tries++;
        // What a fresh broker answers while it still elects partition leaders.
        if (tries <= 2) throw Object.assign(new Error('This server is not the leader for that topic-partition'), { name: 'KafkaJSProtocolError', type: 'NOT_LEADER_FOR_PARTITION', retriable: true });
        return [{ topic, partition: 0, offset: '90' }];
      },
      handler: async ({ events: batch }) => {
        for (const e of batch) seen.push(Number(e.offset));
      },
    });
    await consumer.start();
    try {
      await waitFor(async () => seen.length, (n) => n >= 10, 30_000, '10 events from offset 90');
    } finally {
      await consumer.close();
      await producer.close();
    }
    expect(tries).toBe(3);
    expect(consumer.state).toBe('stopped');
    expect(seen.slice(0, 10)).toEqual(Array.from({ length: 10 }, (_, i) => 90 + i));
  });

  it('a hook call that fails after a newer assignment took over is ignored, not fatal', async () => {
    // Seen on a fresh stack: the first hook call met "not the leader" while the group rebalanced;
    // its failure marked the consumer failed although the newer call succeeded, and the watchdog
    // then killed a healthy indexer.
    // An empty topic of its own: no batch may wait on the hanging hook (kafkajs rejoins between batches).
    const topic = await ownTopic('superseded');
    const groupId = `${prefix}superseded`;
    const producer = new EventProducer({ kafka });
    let calls = 0;
    let release: () => void = () => undefined;
    const firstMayFail = new Promise<void>((r) => {
      release = r;
    });
    const seen: number[] = [];
    const make = (hook: BatchConsumerOptions<Streams>['onAssignment']) =>
      new BatchConsumer<Streams>({
        kafka,
        inputs: { interactions: { topic, decode: decodeInteraction } },
        producer,
        logger,
        groupId,
        sessionTimeoutMs: 6000,
        onAssignment: hook,
        handler: async ({ events: batch }) => {
          for (const e of batch) seen.push(Number(e.offset));
        },
      });
    const a = make(async () => {
      calls++;
      if (calls === 1) {
        await firstMayFail;
        throw Object.assign(new Error('This server is not the leader for that topic-partition'), { name: 'KafkaJSProtocolError', type: 'NOT_LEADER_FOR_PARTITION', retriable: true });
      }
      return [];
    });
    const b = make(undefined);
    await a.start();
    try {
      await waitFor(async () => calls, (n) => n >= 1, 30_000, 'first assignment');
      await b.start(); // the group rebalances: a gets a newer assignment while its first hook call hangs
      await waitFor(async () => calls, (n) => n >= 2, 30_000, 'second assignment');
      release();
      await new Promise((r) => setTimeout(r, 1000));
      expect(a.state).toBe('running');
      await b.close(); // a takes the partition back and consumes it
      await producer.send(topic, Array.from({ length: 5 }, (_, i) => ({ key: 'u1', value: event(500 + i, `s${i}`) })));
      await waitFor(async () => seen.length, (n) => n >= 5, 30_000, 'a consumes after the rebalance');
      expect(a.state).toBe('running');
    } finally {
      release();
      await b.close();
      await a.close();
      await producer.close();
    }
    expect(seen.slice(0, 5)).toEqual([0, 1, 2, 3, 4]);
  });

  it('an evicted member rejoins at once and its uncommitted batch is redone, never skipped', async () => {
    const topic = topicName('interactions', { prefix });
    const groupId = `${prefix}evicted`;
    const producer = new EventProducer({ kafka });
    // 100 events from the tests above; the handler of the batch holding offset 50 blocks the
    // whole thread (no heartbeats, like a CPU-bound handler on a starved machine) past the
    // 6 s session timeout, once, so the coordinator evicts the member.
    const handledAt = new Map<number, number>();
    let blocked = false;
    const consumer = interactionsConsumer(producer, {
      groupId,
      maxBatchSize: 10,
      sessionTimeoutMs: 6000,
      heartbeatIntervalMs: 500,
      handler: async ({ events: batch }) => {
        if (!blocked && batch.some((e) => e.offset === '50')) {
          blocked = true;
          // Twice the session timeout: the broker checks expiry on its own schedule.
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 12_000);
        }
        for (const e of batch) handledAt.set(Number(e.offset), (handledAt.get(Number(e.offset)) ?? 0) + 1);
      },
    });
    await consumer.start();
    try {
      await waitFor(() => committedTotal(admin, groupId, topic), (n) => n === 100, 90_000, 'all 100 committed after the eviction');
    } finally {
      await consumer.close();
      await producer.close();
    }
    expect(blocked).toBe(true);
    // Nothing skipped: every offset handled; the batch whose commit the eviction refused was redone.
    expect([...handledAt.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(handledAt.get(50)).toBeGreaterThanOrEqual(2);
    const lost = await consumer.metrics.membershipLost.get();
    expect(lost.values.find((v) => v.labels.group === groupId)?.value ?? 0).toBeGreaterThanOrEqual(1);
  });

  it('close() is idempotent and safe before start', async () => {
    const producer = new EventProducer({ kafka });
    const consumer = interactionsConsumer(producer, {
      groupId: `${prefix}idle`,
      handler: async () => undefined,
    });
    await Promise.all([consumer.close(), consumer.close()]);
    expect(consumer.state).toBe('stopped');
    await producer.close();
  });

  it('produces values the schema accepts back', () => {
    const e = event(1, 'p1');
    expect(parseWith(DlqRecord, { type: 'dlq', sourceTopic: 't', sourcePartition: 0, sourceOffset: '1', consumerGroup: 'g', key: null, value: encodeJson(e).toString('base64'), errorClass: 'X', errorCode: 'Y', message: 'm', firstSeenAt: 1_700_000_000_000, attempts: 1 }).headers).toEqual({});
  });
});

function productUpsert(productId: string): ProductUpsertInput {
  return { type: 'product.upsert', eventId: `e-${productId}`, productId, title: `Product ${productId}`, price: 1, currency: 'GBP', updatedAt: 1_700_000_000_000 };
}

/** A valid catalog record for `productId` on `partition`. */
function productRecord(productId: string, partition: number): { partition: number; key: string; value: Buffer } {
  return { partition, key: productId, value: encodeJson(productUpsert(productId)) };
}

/** Produces bytes as they are (no validation, no encoding), as a careless or hostile producer would. */
async function produceRaw(topic: string, messages: Message[]): Promise<void> {
  const raw = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await raw.connect();
  try {
    await raw.send({ topic, acks: -1, messages });
  } finally {
    await raw.disconnect();
  }
}

/** A consumer of `topic` that records the productId of every event it handles. */
function recordingConsumer<T extends { productId: string }>(topic: string, groupId: string, decode: Decoder<T>, producer: EventProducer) {
  const handled: string[] = [];
  const consumer = new BatchConsumer({ kafka, groupId, inputs: { in: { topic, decode } }, producer, logger, handler: async ({ events }) => void handled.push(...events.map((e) => e.value.productId)) });
  return { consumer, handled };
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

async function counterTotal(metric: { get(): Promise<{ values: { value: number; labels: Record<string, unknown> }[] }> }, labels: Record<string, string>): Promise<number> {
  const { values } = await metric.get();
  return values.filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((s, v) => s + v.value, 0);
}

describe('oversized records and consumers that cannot make progress', () => {
  it('a 400 KiB record goes to the DLQ as a bounded excerpt with size, sha256 and offset; the record after it is handled', async () => {
    // The path a user hit: catalog.products.v1 accepts batches up to MAX_BATCH_BYTES (8 MiB, its
    // max.message.bytes), so a 400 KiB record is stored; its DLQ record used to carry all of it as
    // base64 (546 KiB), above the 512 KiB encode limit, and the DLQ write was retried forever.
    const topic = topicName('catalog', { prefix });
    const described = await admin.describeConfigs({ resources: [{ type: 2, name: topic, configNames: ['max.message.bytes'] }], includeSynonyms: false });
    expect(Number(described.resources[0]!.configEntries[0]!.configValue)).toBeGreaterThan(400 * 1024 * 2);
    const groupId = `${prefix}oversized`;
    const big = randomBytes(400 * 1024);
    await produceRaw(topic, [{ partition: 0, key: 'p-big', value: big }]);
    // Then a valid product in the same partition, and one in every other partition (a stuck batch held them all).
    await produceRaw(topic, [productRecord('p-after', 0), ...[1, 2, 3, 4, 5].map((p) => productRecord(`p-other-${p}`, p))]);
    const producer = new EventProducer({ kafka });
    const { consumer, handled } = recordingConsumer(topic, groupId, decodeCatalogEvent, producer);
    await consumer.start();
    try {
      await waitFor(() => committedTotal(admin, groupId, topic), (n) => n === 7, 60_000, 'all 7 records committed');
      expect(consumer.ready).toBe(true);
    } finally {
      await consumer.close();
      await producer.close();
    }
    expect(handled.sort()).toEqual(['p-after', 'p-other-1', 'p-other-2', 'p-other-3', 'p-other-4', 'p-other-5']);
    const [m] = await readAll(kafka, `${topic}.dlq`, 1);
    expect(m!.value!.length).toBeLessThan(MAX_MESSAGE_BYTES);
    const rec = parseWith(DlqRecord, JSON.parse(m!.value!.toString()));
    expect(rec).toMatchObject({ sourceTopic: topic, sourcePartition: 0, sourceOffset: '0', consumerGroup: groupId, errorCode: 'VALIDATION', valueBytes: big.length, valueSha256: sha256(big), truncated: ['value'] });
    expect(rec.message).toMatch(/not valid UTF-8/);
    const excerpt = Buffer.from(rec.value!, 'base64');
    expect(excerpt.length).toBe(DLQ_LIMITS.valuePrefixBytes);
    expect(excerpt.equals(big.subarray(0, excerpt.length))).toBe(true);
    expect(Buffer.from(rec.key!, 'base64').toString()).toBe('p-big');
    expect(await counterTotal(consumer.metrics.dlq, { group: groupId })).toBe(1);
  });

  it('a DLQ write the broker refuses falls back to a minimal record, then is given up (counted), never retried forever', async () => {
    const topic = topicName('enriched', { prefix });
    const dlq = `${topic}.dlq`;
    const groupId = `${prefix}dlq-refused`;
    const setDlqLimit = (bytes: number) => admin.alterConfigs({ validateOnly: false, resources: [{ type: 2, name: dlq, configEntries: [{ name: 'max.message.bytes', value: String(bytes) }] }] });
    const rnd = seeded(7);
    const enrichedRecord = (productId: string) => ({ partition: 0, key: productId, value: encodeJson(enrichedProduct(productId, unitVector(8, rnd))) });
    const producer = new EventProducer({ kafka });
    const { consumer, handled } = recordingConsumer(topic, groupId, decodeEnrichedEvent, producer);
    try {
      // 1 KiB per batch: the excerpt (128 KiB of the value) is refused, a record without the payload fits.
      await setDlqLimit(1024);
      await produceRaw(topic, [{ partition: 0, key: 'p-big-1', value: randomBytes(300 * 1024), headers: { trace: 't-1' } }, enrichedRecord('p-1')]);
      await consumer.start();
      await waitFor(() => committedTotal(admin, groupId, topic), (n) => n === 2, 60_000, 'both records committed');
      const [m] = await readAll(kafka, dlq, 1);
      const rec = parseWith(DlqRecord, JSON.parse(m!.value!.toString()));
      expect(rec).toMatchObject({ sourceOffset: '0', valueBytes: 300 * 1024, value: null, headers: {}, issues: [] });
      expect(rec.message).toMatch(/not valid UTF-8/);
      expect(rec.truncated).toEqual(['value', 'headers', 'issues']);
      // 64 bytes: not even the minimal record fits. The record is skipped and counted, the next one handled.
      await setDlqLimit(64);
      await produceRaw(topic, [{ partition: 0, key: 'p-big-2', value: randomBytes(300 * 1024) }, enrichedRecord('p-2')]);
      await waitFor(() => committedTotal(admin, groupId, topic), (n) => n === 4, 60_000, 'all 4 records committed');
      expect(await counterTotal(consumer.metrics.dlqFailed, { group: groupId })).toBe(1);
      expect(consumer.healthy).toBe(true);
    } finally {
      await consumer.close();
      await producer.close();
    }
    expect(handled).toEqual(['p-1', 'p-2']);
  });

  it('a partition that makes no progress turns /readyz red (and /healthz unless a dependency is down), and is counted', async () => {
    // A topic of its own: stalls here must not hold up other tests' partitions.
    const topic = await ownTopic('stalled');
    const groupId = `${prefix}stalled`;
    const producer = new EventProducer({ kafka });
    const registry = new Registry();
    let mode: 'hang' | 'outage' | 'ok' = 'hang';
    const { released, release } = gate();
    const handled: string[] = [];
    const consumer = catalogConsumer(topic, producer, registry, {
      groupId,
      stallTimeoutMs: 1500,
      unavailableMaxDelayMs: 200,
      handler: async ({ events }) => {
        if (mode === 'hang') await released; // a handler stuck on something that never answers
        if (mode === 'outage') throw new UnavailableError('connect ECONNREFUSED 127.0.0.1:6379');
        handled.push(...events.map((e) => e.value.productId));
      },
    });
    const service: Service = { name: 'stalled', start: () => consumer.start(), close: () => consumer.close(), healthy: () => consumer.healthy, ready: () => consumer.ready };
    const running = await runService(service, { name: 'stalled', logger, registry, httpPort: 0, graceMs: 10_000, handleSignals: false });
    const probe = async (path: string) => (await fetch(`http://127.0.0.1:${running.port}${path}`)).status;
    try {
      await waitFor(() => probe('/readyz'), (s) => s === 200, 30_000, 'ready before any record');
      await producer.send(topic, [{ key: 's-1', value: productUpsert('s-1') }]);
      await waitFor(async () => [await probe('/readyz'), await probe('/healthz')], ([r, h]) => r === 503 && h === 503, 30_000, 'not ready and not healthy while the handler hangs');
      expect(await counterTotal(consumer.metrics.stalls, { group: groupId, reason: 'handler' })).toBe(1);
      const metrics = await (await fetch(`http://127.0.0.1:${running.port}/metrics`)).text();
      expect(metrics).toMatch(/affinity_consumer_stalled_total\{[^}]*reason="handler"[^}]*\} 1/);
      expect(metrics).toMatch(/affinity_consumer_stalled_partitions\{[^}]*\} 1/);
      // A dependency outage: waited out without limit, so not ready, but a restart would not help: healthy.
      mode = 'outage';
      release();
      await waitFor(() => counterTotal(consumer.metrics.stalls, { group: groupId, reason: 'dependency_unavailable' }), (n) => n === 1, 30_000, 'the outage counted as a stall');
      expect([await probe('/readyz'), await probe('/healthz')]).toEqual([503, 200]);
      mode = 'ok';
      await waitFor(async () => [await probe('/readyz'), await probe('/healthz')], ([r, h]) => r === 200 && h === 200, 30_000, 'ready again once the partition moves');
      expect(handled).toEqual(['s-1']);
    } finally {
      release();
      await running.shutdown('test over');
      await producer.close();
    }
  });

  it('while a dependency is down, a retry that takes a while to fail still counts as the outage (healthy, not restarted); a retry that hangs is a stall', async () => {
    // Found by the stalled-consumer drill: ioredis fails a command only after its reconnect
    // attempts (up to 9 s with createRedis' settings), and the retried call was counted as a
    // hanging handler, so a worker waiting out a Redis outage turned unhealthy and was restarted.
    const topic = await ownTopic('slow-outage');
    const groupId = `${prefix}slow-outage`;
    const producer = new EventProducer({ kafka });
    let mode: 'outage' | 'hang' | 'ok' = 'outage';
    let calls = 0;
    const { released, release } = gate();
    const handled: string[] = [];
    const consumer = catalogConsumer(topic, producer, new Registry(), {
      groupId,
      stallTimeoutMs: 1500,
      unavailableMaxDelayMs: 200,
      handler: async ({ events }) => {
        calls++;
        if (mode === 'outage') {
          // Like a Redis command while the server is down: it fails after about a second of reconnecting.
          if (calls > 1) await sleep(1000);
          throw new UnavailableError('Reached the max retries per request limit (which is 2)');
        }
        if (mode === 'hang') await released;
        handled.push(...events.map((e) => e.value.productId));
      },
    });
    const sample = async (ms: number): Promise<Set<string>> => {
      const seen = new Set<string>();
      for (const until = Date.now() + ms; Date.now() < until; await sleep(50)) seen.add(`ready=${consumer.ready} healthy=${consumer.healthy}`);
      return seen;
    };
    await consumer.start();
    try {
      await producer.send(topic, [{ key: 'o-1', value: productUpsert('o-1') }]);
      await waitFor(async () => consumer.ready, (r) => !r, 30_000, 'not ready once the outage outlasts the stall timeout');
      // Four stall timeouts long: not ready, but healthy throughout.
      expect([...(await sample(6000))].sort()).toEqual(['ready=false healthy=true']);
      expect(await counterTotal(consumer.metrics.stalls, { group: groupId, reason: 'dependency_unavailable' })).toBe(1);
      expect(await counterTotal(consumer.metrics.stalls, { group: groupId, reason: 'handler' })).toBe(0);
      // A retry that never returns: after stallTimeoutMs it is a stall that a restart may cure.
      mode = 'hang';
      await waitFor(async () => consumer.healthy, (h) => !h, 10_000, 'unhealthy once a retry hangs');
      expect(await counterTotal(consumer.metrics.stalls, { group: groupId, reason: 'handler' })).toBe(1);
      mode = 'ok';
      release();
      await waitFor(async () => consumer.ready && consumer.healthy, Boolean, 30_000, 'ready and healthy once the partition moves');
      expect(handled).toEqual(['o-1']);
    } finally {
      release();
      await consumer.close();
      await producer.close();
    }
  });
});
