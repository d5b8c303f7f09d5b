import { randomBytes } from 'node:crypto';
import { DlqRecord, encodeJson, parseWith, topicName, type InteractionInput } from '@affinity/contracts';
import type { Redis } from '@affinity/store';
import type { Admin, Kafka, Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ChildWorker,
  committedTotal,
  createTopics,
  deleteKeysWithPrefix,
  deleteTopicsWithPrefix,
  faults,
  kafkaClient,
  readAll,
  redisClient,
  spawnWorker,
  stack,
  uniquePrefix,
  waitFor,
} from './support/harness';

const COUNTER = 'test/workers/counter-worker.ts';

interface Scenario {
  prefix: string;
  topic: string;
  group: string;
  keys: string;
}

let kafka: Kafka;
let admin: Admin;
let redis: Redis;
let producer: Producer;
const scenarios: Scenario[] = [];

function interaction(i: number, run: string): InteractionInput {
  const user = `u${i % 97}`;
  return {
    type: (['view', 'click', 'add_to_cart', 'purchase'] as const)[i % 4]!,
    eventId: `${run}-${i}`,
    userId: user,
    productId: `p${i % 1013}`,
    sessionId: `s${Math.floor(i / 10)}`,
    quantity: (i % 3) + 1,
    ts: 1_700_000_000_000 + i,
  };
}

const expectedQuantity = (n: number): number => Array.from({ length: n }, (_, i) => (i % 3) + 1).reduce((a, b) => a + b, 0);

async function scenario(label: string): Promise<Scenario> {
  const prefix = `${uniquePrefix(label)}.`;
  await createTopics(kafka, { prefix, partitions: { interactions: 4 } }).then((a) => a.disconnect());
  const s = { prefix, topic: topicName('interactions', { prefix }), group: `${prefix}counter`, keys: `${prefix}counter` };
  scenarios.push(s);
  return s;
}

function startCounter(s: Scenario, label: string, extra: Record<string, string> = {}): ChildWorker {
  return spawnWorker(
    COUNTER,
    {
      KAFKA_BROKERS: stack().brokers.join(','),
      REDIS_URL: stack().redisUrl,
      COUNTER_TOPIC: s.topic,
      COUNTER_GROUP: s.group,
      COUNTER_KEY_PREFIX: s.keys,
      HTTP_PORT: '0',
      LOG_LEVEL: 'info',
      CONSUMER_SESSION_TIMEOUT_MS: '8000',
      ...extra,
    },
    `${s.prefix}${label}`,
  );
}

/** Produces with retries that survive broker restarts; a retried chunk may land twice, as in real life. */
async function produce(topic: string, messages: { key: string; value: Buffer | null }[]): Promise<void> {
  for (let i = 0; i < messages.length; i += 500) {
    const chunk = messages.slice(i, i + 500);
    for (let attempt = 1; ; attempt++) {
      try {
        await producer.send({ topic, acks: -1, messages: chunk });
        break;
      } catch (err) {
        if (attempt >= 30) throw err;
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }
}

const encode = (e: InteractionInput) => ({ key: e.userId, value: encodeJson(e) });
const count = async (s: Scenario): Promise<number> => Number((await redis.get(`${s.keys}:count`)) ?? 0);
const replayed = async (s: Scenario): Promise<number> => Number((await redis.get(`${s.keys}:replayed`)) ?? 0);

async function stopWorker(w: ChildWorker): Promise<void> {
  if (w.proc.exitCode === null && w.proc.signalCode === null) w.proc.kill('SIGTERM');
  await w.exited;
}

beforeAll(async () => {
  kafka = kafkaClient();
  admin = kafka.admin();
  await admin.connect();
  redis = redisClient();
  producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
});

afterAll(async () => {
  await producer?.disconnect();
  for (const s of scenarios) {
    await deleteTopicsWithPrefix(admin, s.prefix);
    await deleteKeysWithPrefix(redis, s.keys);
  }
  await admin?.disconnect();
  redis?.disconnect();
});

describe('stream runtime against real Kafka and Redis', () => {
  it('counts 10,000 valid events exactly once and sends 100 invalid ones to the DLQ with their reasons', async () => {
    const s = await scenario('exact');
    const run = randomBytes(4).toString('hex');
    const valid = Array.from({ length: 10_000 }, (_, i) => interaction(i, run));
    const invalid: { key: string; value: Buffer; why: RegExp }[] = [];
    for (let i = 0; i < 100; i++) {
      const kind = i % 4;
      const base = interaction(50_000 + i, run);
      if (kind === 0) invalid.push({ key: base.userId, value: Buffer.from(`{"type":"view","eventId":"broken-${i}"`), why: /not valid JSON/ });
      else if (kind === 1) invalid.push({ key: base.userId, value: encodeJson({ ...base, type: 'teleport' }), why: /type/ });
      else if (kind === 2) invalid.push({ key: 'someone-else', value: encodeJson(base), why: /does not match userId/ });
      else invalid.push({ key: base.userId, value: encodeJson({ ...base, quantity: -5 }), why: /quantity/ });
    }
    // Interleave the bad records with the good ones, and replay 300 good ones (same event ids).
    const records: { key: string; value: Buffer }[] = [];
    valid.forEach((e, i) => {
      records.push(encode(e));
      if (i % 100 === 50) records.push(invalid[i / 100 - 0.5]!);
    });
    for (let i = 0; i < 300; i++) records.push(encode(valid[i * 33]!));
    expect(records.length).toBe(10_400);

    const worker = startCounter(s, 'exact');
    try {
      await produce(s.topic, records);
      await waitFor(() => committedTotal(admin, s.group, s.topic), (n) => n === records.length, 120_000, 'all offsets committed');
      expect(await count(s)).toBe(10_000);
      expect(Number(await redis.get(`${s.keys}:quantity`))).toBe(expectedQuantity(10_000));
      expect(await replayed(s)).toBe(300);

      const dlq = await readAll(kafka, `${s.topic}.dlq`, 100);
      expect(dlq).toHaveLength(100);
      const byValue = new Map(invalid.map((r) => [r.value.toString('base64'), r]));
      for (const m of dlq) {
        const rec = parseWith(DlqRecord, JSON.parse(m.value!.toString()));
        expect(rec.sourceTopic).toBe(s.topic);
        expect(rec.errorCode).toBe('VALIDATION');
        expect(rec.consumerGroup).toBe(s.group);
        expect(Number(rec.sourceOffset)).toBeGreaterThanOrEqual(0);
        const original = byValue.get(rec.value!);
        expect(original, 'DLQ keeps the original bytes').toBeDefined();
        expect(rec.message).toMatch(original!.why);
        expect(Buffer.from(rec.key!, 'base64').toString()).toBe(original!.key);
      }
    } finally {
      await stopWorker(worker);
    }
  });

  it('loses and double counts nothing when the worker is SIGKILLed mid-stream, repeatedly', async () => {
    const s = await scenario('kill');
    const run = randomBytes(4).toString('hex');
    const events = Array.from({ length: 10_000 }, (_, i) => interaction(i, run));
    // A pause between a batch's effect and its commit makes most kills land in the worst place.
    const extra = { COUNTER_DELAY_MS: '40', COUNTER_MAX_BATCH: '100' };
    let worker = startCounter(s, 'kill-0', extra);
    const producing = (async () => {
      for (let i = 0; i < events.length; i += 1000) {
        await produce(s.topic, events.slice(i, i + 1000).map(encode));
        await new Promise((r) => setTimeout(r, 300));
      }
    })();
    try {
      for (let k = 1; k <= 4; k++) {
        const before = await count(s);
        await waitFor(() => count(s), (n) => n > before + 300, 120_000, `progress before kill ${k}`);
        worker.proc.kill('SIGKILL');
        await worker.exited;
        worker = startCounter(s, `kill-${k}`, extra);
      }
      await producing;
      await waitFor(() => count(s), (n) => n >= 10_000, 180_000, 'all events counted');
      await waitFor(() => committedTotal(admin, s.group, s.topic), (n) => n === 10_000, 60_000, 'all offsets committed');
      expect(await count(s)).toBe(10_000);
      expect(Number(await redis.get(`${s.keys}:quantity`))).toBe(expectedQuantity(10_000));
      // The kills really cut between effect and commit: redeliveries happened and were absorbed.
      expect(await replayed(s)).toBeGreaterThan(0);
    } finally {
      await stopWorker(worker);
      await producing.catch(() => undefined);
    }
  }, 900_000); // its waits add up to more than the default 300 s on a slow machine

  it('drains on SIGTERM: the batch in flight is committed and the process exits 0', async () => {
    const s = await scenario('term');
    const run = randomBytes(4).toString('hex');
    const events = Array.from({ length: 2000 }, (_, i) => interaction(i, run));
    await produce(s.topic, events.map(encode));
    const extra = { COUNTER_DELAY_MS: '1500', COUNTER_MAX_BATCH: '100' };
    const worker = startCounter(s, 'term-0', extra);
    // The first batch's effect is in Redis and its 1.5 s pause is running: stop now.
    await waitFor(() => count(s), (n) => n > 0, 60_000, 'first batch applied');
    const sent = Date.now();
    worker.proc.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    expect(Date.now() - sent).toBeLessThan(20_000);
    const counted = await count(s);
    expect(counted).toBeGreaterThan(0);
    expect(counted).toBeLessThan(2000);
    // Everything processed was committed: nothing will be redelivered.
    expect(await committedTotal(admin, s.group, s.topic)).toBe(counted);

    const again = startCounter(s, 'term-1', { COUNTER_MAX_BATCH: '100' });
    try {
      await waitFor(() => count(s), (n) => n >= 2000, 60_000, 'the rest counted');
      await waitFor(() => committedTotal(admin, s.group, s.topic), (n) => n === 2000, 60_000, 'all committed');
      expect(await count(s)).toBe(2000);
      expect(await replayed(s)).toBe(0);
    } finally {
      await stopWorker(again);
    }
  });

  it.runIf(faults.canRestart())('keeps exact counts when Kafka restarts under a running worker', async () => {
    const s = await scenario('kafka-restart');
    const run = randomBytes(4).toString('hex');
    const events = Array.from({ length: 10_000 }, (_, i) => interaction(i, run));
    const worker = startCounter(s, 'kafka-restart', { COUNTER_DELAY_MS: '20', COUNTER_MAX_BATCH: '200' });
    try {
      await produce(s.topic, events.slice(0, 5000).map(encode));
      await waitFor(() => count(s), (n) => n > 1000, 60_000, 'progress before the restart');
      faults.kafka('restart');
      await produce(s.topic, events.slice(5000).map(encode));
      await waitFor(() => count(s), (n) => n >= 10_000, 180_000, 'all events counted after the restart');
      await waitFor(() => committedTotal(admin, s.group, s.topic), (n) => n >= 10_000, 60_000, 'offsets committed');
      expect(await count(s)).toBe(10_000);
      expect(Number(await redis.get(`${s.keys}:quantity`))).toBe(expectedQuantity(10_000));
    } finally {
      await stopWorker(worker);
    }
  });

  it.runIf(faults.canRestart())('keeps exact counts when Redis is killed and comes back', async () => {
    const s = await scenario('redis-kill');
    const run = randomBytes(4).toString('hex');
    const events = Array.from({ length: 6000 }, (_, i) => interaction(i, run));
    const worker = startCounter(s, 'redis-kill', { COUNTER_DELAY_MS: '20', COUNTER_MAX_BATCH: '200' });
    try {
      await produce(s.topic, events.map(encode));
      await waitFor(() => count(s), (n) => n > 1000, 60_000, 'progress before the kill');
      faults.redis('kill');
      await new Promise((r) => setTimeout(r, 3000));
      faults.redis('up');
      await waitFor(() => count(s), (n) => n >= 6000, 120_000, 'all events counted after Redis came back');
      await waitFor(() => committedTotal(admin, s.group, s.topic), (n) => n === 6000, 60_000, 'offsets committed');
      expect(await count(s)).toBe(6000);
      expect(Number(await redis.get(`${s.keys}:quantity`))).toBe(expectedQuantity(6000));
    } finally {
      await stopWorker(worker);
    }
  });
});
