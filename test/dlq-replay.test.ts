import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import {
  DlqRecord,
  catalogEventDecoder,
  encodeJson,
  interactionDecoder,
  parseWith,
  topicName,
  type CatalogEvent,
  type Decoder,
  type Interaction,
  type ProductUpsertInput,
} from '@affinity/contracts';
import { KeySpace, type Redis } from '@affinity/store';
import { BatchConsumer, EventProducer, createKafka, createLogger } from '@affinity/stream';
import type { Admin, Kafka, Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPLAY_HEADER, replayDlq, type ReplayReport } from '../scripts/dlq-replay';
import { ROOT, committedTotal, createTopics, deleteKeysWithPrefix, deleteTopicsWithPrefix, readAll, redisClient, stack, uniquePrefix, waitFor } from './support/harness';

let kafka: Kafka;
let admin: Admin;
let redis: Redis;
/** Produces bytes as they are, as any producer may. */
let raw: Producer;
let prefix: string;
let redisPrefix: string;
const logger = createLogger('dlq-replay-test', 'silent');
const HOUR = 3600_000;

beforeAll(async () => {
  prefix = `${uniquePrefix('dlq-replay')}.`;
  redisPrefix = `${prefix}affinity`;
  kafka = createKafka({ brokers: stack().brokers, clientId: 'dlq-replay-test', logger });
  admin = await createTopics(kafka, { prefix });
  redis = redisClient();
  raw = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await raw.connect();
});

afterAll(async () => {
  await raw.disconnect();
  await deleteTopicsWithPrefix(admin, prefix);
  await admin.disconnect();
  await deleteKeysWithPrefix(redis, prefix);
  redis.disconnect();
});

/** Records in the topic: the sum of its partitions' high watermarks (the topics are new). */
async function recordCount(topic: string): Promise<number> {
  return (await admin.fetchTopicOffsets(topic)).reduce((s, p) => s + Number(p.high), 0);
}

/** A BatchConsumer of `topic` in `groupId` that records what it handled; `handle` may throw. */
async function consumeUntilCommitted<T>(topic: string, groupId: string, decode: Decoder<T>, committed: number, handle: (value: T) => void): Promise<void> {
  const producer = new EventProducer({ kafka });
  const consumer = new BatchConsumer({ kafka, groupId, inputs: { in: { topic, decode } }, producer, logger, retry: { maxAttempts: 2, initialDelayMs: 10, maxDelayMs: 50 }, handler: async ({ events }) => events.forEach((e) => handle(e.value)) });
  await consumer.start();
  try {
    await waitFor(() => committedTotal(admin, groupId, topic), (n) => n === committed, 60_000, `${committed} records committed by ${groupId}`);
  } finally {
    await consumer.close();
    await producer.close();
  }
}

function replay(topic: string, options: { codes?: string[]; dryRun?: boolean } = {}): Promise<ReplayReport> {
  return replayDlq({ kafka, redis, keys: new KeySpace(redisPrefix), topic, logger, ...options });
}

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env = { ...process.env, KAFKA_BROKERS: stack().brokers.join(','), REDIS_URL: stack().redisUrl, AFFINITY_TOPIC_PREFIX: prefix, REDIS_PREFIX: redisPrefix };
  return new Promise((done) => {
    execFile(process.execPath, ['--import', 'tsx', resolve(ROOT, 'scripts/dlq-replay.ts'), ...args], { cwd: ROOT, env, timeout: 120_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : null;
      done({ code, stdout, stderr });
    });
  });
}

describe('./dev dlq replay against a real broker and a real BatchConsumer', () => {
  it('replays a rejected record once after the fix (original bytes, key and headers), only what the filter selects; a second run replays nothing', async () => {
    const topic = topicName('interactions', { prefix });
    const groupId = `${prefix}recommender`;
    const now = Date.now();
    const ok: Interaction = { type: 'view', eventId: 'ok-1', userId: 'u1', productId: 'p1', sessionId: 's1', ts: now - 1000 };
    // An hour ahead: rejected by a consumer that allows no clock skew (the "bug"), fine once it allows some.
    const ahead: Interaction = { ...ok, eventId: 'ahead-1', productId: 'p-ahead', ts: now + HOUR };
    // The handler has a bug for this one (a TypeError: code BUG, straight to the DLQ); not replayed, the filter leaves it out.
    const buggy: Interaction = { ...ok, eventId: 'bug-1', productId: 'p-bug' };
    const aheadBytes = encodeJson(ahead);
    await raw.send({ topic, acks: -1, messages: [
      { key: 'u1', value: encodeJson(ok) },
      { key: 'u1', value: aheadBytes, headers: { trace: 't-ahead' } },
      { key: 'u1', value: encodeJson(buggy) },
    ] });

    // A set: the chunk that meets the bug is redone one event at a time, so ok-1 is handled twice.
    const before = new Set<string>();
    await consumeUntilCommitted(topic, groupId, interactionDecoder({ maxFutureSkewMs: 0 }), 3, (e) => {
      if (e.productId === 'p-bug') throw new TypeError('cannot read properties of undefined');
      before.add(e.eventId);
    });
    expect([...before]).toEqual(['ok-1']);
    const dlq = (await readAll(kafka, `${topic}.dlq`, 2)).map((m) => parseWith(DlqRecord, JSON.parse(m.value!.toString())));
    expect(dlq.map((r) => r.errorCode).sort()).toEqual(['BUG', 'VALIDATION']);
    const rejected = dlq.find((r) => r.errorCode === 'VALIDATION')!;

    // A dry run says what it would do and does nothing.
    const dry = await replay(topic, { codes: ['VALIDATION'], dryRun: true });
    expect(dry).toMatchObject({ read: 2, filteredOut: 1, notReplayable: [], alreadyReplayed: [], unreadable: [] });
    expect(dry.replayed.map((e) => [e.key, e.errorCode, e.sourceOffset, e.groups])).toEqual([['u1', 'VALIDATION', rejected.sourceOffset, [groupId]]]);
    expect(await recordCount(topic)).toBe(3);

    const report = await replay(topic, { codes: ['VALIDATION'] });
    expect(report.replayed.map((e) => e.sourceOffset)).toEqual([rejected.sourceOffset]);
    expect(report).toMatchObject({ filteredOut: 1, notReplayable: [], alreadyReplayed: [] });
    expect(await recordCount(topic)).toBe(4);
    const copies = (await readAll(kafka, topic, 4)).filter((m) => m.headers?.[REPLAY_HEADER] !== undefined);
    expect(copies).toHaveLength(1);
    const copy = copies[0]!;
    expect(copy.value!.equals(aheadBytes)).toBe(true);
    expect(copy.key!.toString()).toBe('u1');
    expect(copy.headers!.trace!.toString()).toBe('t-ahead');
    expect(copy.headers![REPLAY_HEADER]!.toString()).toBe(`${topic}/${rejected.sourcePartition}/${rejected.sourceOffset}`);

    // The fix deployed: the same group, now allowing a day of skew, resumes where it committed.
    const after: string[] = [];
    await consumeUntilCommitted(topic, groupId, interactionDecoder(), 4, (e) => void after.push(e.eventId));
    expect(after).toEqual(['ahead-1']);

    // Running the command again replays nothing: the record is marked as replayed.
    const again = await replay(topic, { codes: ['VALIDATION'] });
    expect(again.replayed).toEqual([]);
    expect(again.alreadyReplayed.map((e) => e.sourceOffset)).toEqual([rejected.sourceOffset]);
    expect(await recordCount(topic)).toBe(4);
    // And the fixed consumer rejected nothing more.
    expect(await readAll(kafka, `${topic}.dlq`, 2)).toHaveLength(2);
  });

  it('reports a truncated (oversized) DLQ record as not replayable and replays the rest, a tombstone with its headers included (CLI, exit code 3)', async () => {
    const topic = topicName('catalog', { prefix });
    const groupId = `${prefix}enricher`;
    const now = Date.now();
    const product: ProductUpsertInput = { type: 'product.upsert', eventId: 'e-p-ahead', productId: 'p-ahead', title: 'Mug', price: 3, currency: 'GBP', updatedAt: now + HOUR };
    const big = randomBytes(200 * 1024);
    await raw.send({ topic, acks: -1, messages: [
      // Not UTF-8: rejected for good, and above the 128 KiB the DLQ keeps of a value.
      { key: 'p-big', value: big },
      { key: 'p-ahead', value: encodeJson(product) },
      { key: 'p-gone', value: null, headers: { 'event-id': 'del-p-gone', ts: String(now + HOUR) } },
    ] });
    await consumeUntilCommitted(topic, groupId, catalogEventDecoder({ maxFutureSkewMs: 0 }), 3, () => undefined);
    await readAll(kafka, `${topic}.dlq`, 3);

    const run = await runCli(['catalog.products.v1', '--json']);
    expect(run.code, run.stderr).toBe(3);
    const report = JSON.parse(run.stdout) as ReplayReport;
    expect(report.replayed.map((e) => e.key).sort()).toEqual(['p-ahead', 'p-gone']);
    expect(report.notReplayable.map((e) => e.key)).toEqual(['p-big']);
    expect(report.notReplayable[0]!.why).toMatch(new RegExp(`value truncated: the DLQ kept the first 131072 of ${big.length} bytes`));
    expect(report.notReplayable[0]!.why).toContain(`at ${topic} partition`);
    expect(await recordCount(topic)).toBe(5);

    const handled: CatalogEvent[] = [];
    await consumeUntilCommitted(topic, groupId, catalogEventDecoder(), 5, (e) => void handled.push(e));
    expect(handled.map((e) => [e.type, e.productId, e.eventId]).sort()).toEqual([
      ['product.delete', 'p-gone', 'del-p-gone'],
      ['product.upsert', 'p-ahead', 'e-p-ahead'],
    ]);

    // The printed report of a second run: nothing new, the truncated record still reported.
    const second = await runCli(['catalog.products.v1.dlq', '--dry-run']);
    expect(second.code, second.stderr).toBe(3);
    expect(second.stdout).toContain('would replay 0');
    expect(second.stdout).toMatch(/not replayable 1:\n.*key "p-big" VALIDATION \(ValidationError\)/);
    expect(second.stdout).toContain('already replayed by an earlier run 2');
    expect(await recordCount(topic)).toBe(5);
  });
});
