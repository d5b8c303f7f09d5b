/**
 * The pipeline's one "caught up" signal (`PipelineBacklog` in packages/client) on a real broker
 * and Redis: consumer lag of every committing group from committed vs log end offsets, the
 * recommender's queue through the real `TriggerQueue`, and pipeline jobs in BullMQ.
 */
import { COMMITTING_GROUPS, PipelineBacklog, describeBacklog, type Backlog } from '@affinity/client';
import { decodeInteraction, encodeJson, topicName, topicSpecs } from '@affinity/contracts';
import { KeySpace, QUEUE, createQueue } from '@affinity/store';
import { BatchConsumer, EventProducer, createLogger } from '@affinity/stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TriggerQueue } from '../services/recommender/src/trigger-queue';
import { type TestEnv, openTestEnv, stack, waitFor } from './support/harness';

let t: TestEnv;
let backlog: PipelineBacklog;
let queue: TriggerQueue;
let interactions: string;
const redisPrefix = () => `${t.prefix}affinity`;

const lagOf = (b: Backlog, service: string, topic: string) => b.groups.find((g) => g.service === service && g.topic === topic)!.lag;

/** Commits `offset` for every partition of `topic` where the group has records, as a worker would after handling them. */
async function commitToEnd(group: string, topic: string, behind = 0): Promise<void> {
  const ends = await t.admin.fetchTopicOffsets(topic);
  await t.admin.setOffsets({ groupId: group, topic, partitions: ends.map((e) => ({ partition: e.partition, offset: String(Math.max(Number(e.low), Number(e.high) - (Number(e.high) > 0 ? behind : 0))) })) });
}

beforeAll(async () => {
  t = await openTestEnv('backlog');
  interactions = topicName('interactions', { prefix: t.prefix });
  // Fresh topics: wait until every partition has a leader, so the tests start from a settled broker.
  const topics = topicSpecs({ prefix: t.prefix }).map((spec) => spec.name);
  await waitFor(
    () => Promise.all(topics.map((topic) => t.admin.fetchTopicOffsets(topic).then(() => true, () => false))),
    (ok) => ok.every(Boolean),
    60_000,
    'a leader for every partition of the new topics',
  );
  backlog = new PipelineBacklog({ admin: t.admin, redis: t.redis, topicPrefix: t.prefix, redisPrefix: redisPrefix() });
  queue = new TriggerQueue(t.redis, { keys: new KeySpace(redisPrefix()) });
});

afterAll(async () => {
  await backlog?.close();
  await t?.close();
});

describe('PipelineBacklog: one caught-up signal for the demo, the tests and the benchmarks', () => {
  it('is caught up on empty topics, and counts records no group has committed from the earliest offset', async () => {
    const empty = await backlog.read();
    expect(empty.caughtUp).toBe(true);
    expect(describeBacklog(empty)).toBe('caught up');
    // Every committing group and each topic it reads is checked.
    expect(empty.groups.map((g) => `${g.service}/${g.topic}`).sort()).toEqual(
      Object.entries(COMMITTING_GROUPS)
        .flatMap(([s, topics]) => topics.map((id) => `${s}/${topicName(id, { prefix: t.prefix })}`))
        .sort(),
    );

    const events = Array.from({ length: 30 }, (_, i) => ({ type: 'click', eventId: `e${i}`, userId: `u${i}`, productId: 'p1', sessionId: 's', ts: Date.now() }));
    await t.producer.send({ topic: interactions, acks: -1, messages: events.map((e) => ({ key: e.userId, value: encodeJson(e) })) });
    const b = await backlog.read();
    expect(b.caughtUp).toBe(false);
    expect(b.directWorkDone).toBe(false);
    // Both readers of interactions.v1 are 30 behind; nobody else is.
    expect(lagOf(b, 'graph', interactions)).toBe(30);
    expect(lagOf(b, 'recommender', interactions)).toBe(30);
    expect(b.lag).toBe(60);
    expect(describeBacklog(b)).toContain(`graph/${interactions} 30`);
  });

  it('follows committed offsets per partition, group by group', async () => {
    await commitToEnd(backlog.groupId('graph'), interactions);
    let b = await backlog.read();
    expect(lagOf(b, 'graph', interactions)).toBe(0);
    expect(lagOf(b, 'recommender', interactions)).toBe(30);
    // One record short on every partition that holds records.
    await commitToEnd(backlog.groupId('recommender'), interactions, 1);
    b = await backlog.read();
    const withRecords = (await t.admin.fetchTopicOffsets(interactions)).filter((e) => Number(e.high) > 0).length;
    expect(lagOf(b, 'recommender', interactions)).toBe(withRecords);
    expect(b.groups.find((g) => g.service === 'recommender' && g.topic === interactions)!.partitions.filter((p) => p.lag === 1)).toHaveLength(withRecords);
    await commitToEnd(backlog.groupId('recommender'), interactions);
    b = await backlog.read();
    expect(b.lag).toBe(0);
    expect(b.caughtUp).toBe(true);
  });

  it('is not caught up while the recommender has lists to recompute; high-priority lists are direct work, low-priority ones background', async () => {
    await queue.add([{ listId: 'personalized:u1', eventId: 'e1', ts: Date.now() }], Date.now(), 'high');
    let b = await backlog.read();
    expect(b.pendingLists).toEqual({ high: 1, low: 0 });
    expect(b.caughtUp).toBe(false);
    expect(b.directWorkDone).toBe(false);
    expect(describeBacklog(b)).toBe('lists pending high 1, low 0');

    // Leased (being computed) still counts: the list is not published yet.
    const [high] = await queue.claim(10);
    await queue.add([{ listId: 'similar:p1', eventId: 'e2', ts: Date.now() }], Date.now() + 5000, 'low');
    b = await backlog.read();
    expect(b.pendingLists).toEqual({ high: 1, low: 1 });
    await queue.complete(high!);
    b = await backlog.read();
    expect(b.directWorkDone).toBe(true);
    expect(b.caughtUp).toBe(false);

    const [low] = await queue.claim(10, Date.now() + 6000);
    await queue.complete(low!);
    expect((await backlog.read()).caughtUp).toBe(true);
  });

  it('counts a waiting FastRP recompute job: it will republish behaviour vectors', async () => {
    const jobs = createQueue(QUEUE.fastrpRecompute, stack().redisUrl, { prefix: `${redisPrefix()}:bull` });
    try {
      const job = await jobs.add('recompute', {});
      let b = await backlog.read();
      expect(b.jobs[QUEUE.fastrpRecompute]).toBe(1);
      expect(b.caughtUp).toBe(false);
      expect(b.directWorkDone).toBe(true);
      await job.remove();
      b = await backlog.read();
      expect(b.caughtUp).toBe(true);
    } finally {
      await jobs.close();
    }
  });

  it('waits until caught up, and says what was left when it gives up', async () => {
    await queue.add([{ listId: 'personalized:u2', eventId: 'e3', ts: Date.now() }], Date.now(), 'high');
    await expect(backlog.waitUntilCaughtUp({ timeoutMs: 600, pollMs: 100 })).rejects.toThrow(/did not catch up within 600 ms: lists pending high 1, low 0/);
    const reads: Backlog[] = [];
    const waiting = backlog.waitUntilCaughtUp({ timeoutMs: 10_000, pollMs: 50, stableReads: 3, onRead: (b) => reads.push(b) });
    await new Promise((r) => setTimeout(r, 300));
    const [c] = await queue.claim(10);
    await queue.complete(c!);
    const done = await waiting;
    expect(done.caughtUp).toBe(true);
    // It saw the pending list before, and three caught-up reads in a row at the end.
    expect(reads.some((b) => !b.caughtUp)).toBe(true);
    expect(reads.slice(-3).every((b) => b.caughtUp)).toBe(true);
  });

  it('checks only the services asked for', async () => {
    const cat = topicName('catalog', { prefix: t.prefix });
    await t.producer.send({ topic: cat, acks: -1, messages: [{ key: 'p1', value: encodeJson({ type: 'product.upsert', productId: 'p1' }) }] });
    expect((await backlog.read()).caughtUp).toBe(false);
    const withoutEnricher = new PipelineBacklog({ admin: t.admin, redis: t.redis, topicPrefix: t.prefix, redisPrefix: redisPrefix(), services: ['indexer', 'graph', 'recommender'], jobs: false });
    const b = await withoutEnricher.read();
    expect(b.groups.some((g) => g.service === 'enricher')).toBe(false);
    expect(b.jobs).toEqual({});
    expect(b.caughtUp).toBe(true);
    await withoutEnricher.close();
    expect(() => new PipelineBacklog({ admin: t.admin, redis: t.redis, services: ['api' as never] })).toThrow(/"api" is not one of enricher, indexer, graph, recommender/);
  });

  it('answers at once for topics that do not exist (yet), and names them', async () => {
    const nowhere = new PipelineBacklog({ admin: t.admin, redis: t.redis, topicPrefix: `${t.prefix}nowhere.`, redisPrefix: redisPrefix(), jobs: false });
    try {
      const b = await nowhere.read();
      expect(b.groups).toEqual([]);
      expect(b.missingTopics.sort()).toEqual(['catalog', 'enriched', 'interactions', 'behaviour'].map((id) => topicName(id as 'catalog', { prefix: `${t.prefix}nowhere.` })).sort());
      expect(b.caughtUp).toBe(true);
    } finally {
      await nowhere.close();
    }
    expect((await backlog.read()).missingTopics).toEqual([]);
  });

  it('with a real consumer: lagging while its records are unread, pending while its lists are, caught up only when both are done', async () => {
    // A worker shaped like the recommender: the project's BatchConsumer in the recommender's group,
    // a handler that queues the lists an event asks for (the offset is committed after it resolves),
    // held until the test lets it go; the test plays the scheduler that computes the lists.
    const mine = new PipelineBacklog({ admin: t.admin, redis: t.redis, topicPrefix: t.prefix, redisPrefix: redisPrefix(), services: ['recommender'], jobs: false });
    const logger = createLogger('backlog-test', 'silent');
    const producer = new EventProducer({ kafka: t.kafka });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let entered = false;
    const consumer = new BatchConsumer({
      kafka: t.kafka,
      groupId: mine.groupId('recommender'),
      inputs: { interactions: { topic: interactions, decode: decodeInteraction } },
      producer,
      logger,
      handler: async ({ events }) => {
        entered = true;
        await gate;
        await queue.add(events.map((e) => ({ listId: `personalized:${e.value.userId}`, eventId: e.value.eventId, ts: e.timestamp })), Date.now(), 'high');
      },
    });
    const reads: Backlog[] = [];
    let readsBeforeDrain = Number.POSITIVE_INFINITY;
    let waiting: Promise<Backlog> | undefined;
    try {
      const before = lagOf(await mine.read(), 'recommender', interactions);
      const events = Array.from({ length: 20 }, (_, i) => ({ type: 'click', eventId: `w${i}`, userId: `w${i}`, productId: 'p1', sessionId: 's', ts: Date.now() }));
      await t.producer.send({ topic: interactions, acks: -1, messages: events.map((e) => ({ key: e.userId, value: encodeJson(e) })) });
      await consumer.start();
      waiting = mine.waitUntilCaughtUp({ timeoutMs: 120_000, pollMs: 50, stableReads: 2, onRead: (b) => reads.push(b) });
      await waitFor(async () => entered, (e) => e, 60_000, 'the worker to receive the records');

      // Received but not handled: nothing committed, every record still counts.
      let b = await mine.read();
      expect(lagOf(b, 'recommender', interactions)).toBe(before + 20);
      expect(b.caughtUp).toBe(false);

      // Handled and committed: no lag, but the lists they asked for are not computed yet.
      release();
      b = await waitFor(() => mine.read(), (x) => x.lag === 0, 60_000, 'the worker to commit');
      expect(b.pendingLists.high).toBeGreaterThanOrEqual(20);
      expect(b.directWorkDone).toBe(false);
      expect(b.caughtUp).toBe(false);
      expect(describeBacklog(b)).toMatch(/^lists pending high \d+, low 0$/);

      // The scheduler computes and completes every list: now, and only now, caught up.
      readsBeforeDrain = reads.length;
      for (let claimed = await queue.claim(100); claimed.length > 0; claimed = await queue.claim(100)) for (const c of claimed) await queue.complete(c);
      const done = await waiting;
      expect(done.caughtUp).toBe(true);
      expect(reads.some((r) => r.lag > 0)).toBe(true);
      expect(reads.some((r) => r.lag === 0 && !r.caughtUp)).toBe(true);
      // No read that finished before the queue started draining said caught up.
      expect(readsBeforeDrain).toBeGreaterThan(0);
      expect(reads.slice(0, readsBeforeDrain).some((r) => r.caughtUp)).toBe(false);
    } finally {
      release();
      await consumer.close();
      await producer.close();
      await waiting?.catch(() => undefined);
      await mine.close();
    }
  });
});
