import { RetriableError, UnavailableError, ValidationError, decodeInteraction, encodeJson, parseWith, DlqRecord, topicName, type Interaction } from '@affinity/contracts';
import { BatchConsumer, EventProducer, createKafka, createLogger, type BatchConsumerOptions, type InputSpec } from '@affinity/stream';
import type { Admin, Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
    const topic = `${prefix}superseded`;
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: false });
    await waitFor(async () => (await admin.fetchTopicOffsets(topic).catch(() => [])).length, (n) => n === 1, 30_000, 'a leader for the new topic');
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
