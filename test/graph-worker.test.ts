import { encodeJson, parseWith, BehaviourEmbedding, Interaction, topicName, type InteractionInput } from '@affinity/contracts';
import { BehaviourGraph } from '@affinity/graph';
import { digineticaInteractions } from '@affinity/sample-data';
import type { Redis } from '@affinity/store';
import type { Admin, Kafka, Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChildWorker, type TestEnv, TopicCollector, committedTotal, openTestEnv, spawnWorker, stopWorkers, waitFor } from './support/harness';
import { freePort } from './support/processes';

const HALF_LIFE = 14 * 24 * 3600 * 1000;
let t: TestEnv;
let kafka: Kafka;
let admin: Admin;
let redis: Redis;
let producer: Producer;
let prefix: string;

beforeAll(async () => {
  t = await openTestEnv('graph', { partitions: { interactions: 4 } });
  ({ kafka, admin, redis, producer, prefix } = t);
});

afterAll(async () => {
  await t?.close();
});

async function startGraph(label: string): Promise<{ worker: ChildWorker; port: number }> {
  const port = await freePort();
  const worker = spawnWorker(
    'services/graph/src/main.ts',
    t.serviceEnv({
      HTTP_PORT: String(port),
      INSTANCE_ID: label,
      GRAPH_SNAPSHOT_INTERVAL_MS: '1000',
      GRAPH_LEASE_TTL_MS: '5000',
      GRAPH_HALF_LIFE_MS: String(HALF_LIFE),
      CONSUMER_SESSION_TIMEOUT_MS: '6000',
    }),
    `${prefix}${label}`,
  );
  return { worker, port };
}

const json = async (port: number, path: string): Promise<Record<string, unknown>> => (await fetch(`http://127.0.0.1:${port}${path}`)).json() as Promise<Record<string, unknown>>;

describe('graph worker durability against real Kafka and Redis', () => {
  it('restores its snapshot after kill -9 and replays without double counting (edge weights equal a single pass)', async () => {
    const events = digineticaInteractions().slice(0, 6000);
    const topic = topicName('interactions', { prefix });
    const send = (batch: readonly InteractionInput[]) => producer.send({ topic, acks: -1, messages: batch.map((e) => ({ key: e.userId, value: encodeJson(e) })) });
    const group = `${prefix}affinity-graph`;
    const behaviour = await new TopicCollector(kafka, topicName('behaviour', { prefix })).start();

    let { worker, port } = await startGraph('graph-a');
    try {
      await send(events.slice(0, 3000));
      await waitFor(() => committedTotal(admin, group, topic), (n) => n >= 3000, 120_000, 'first half consumed');
      // A snapshot that covers (part of) it exists.
      await waitFor(async () => redis.get(`${prefix}affinity:graph:manifest`), (m) => m !== null, 30_000, 'a graph snapshot');
      await send(events.slice(3000, 4500));
      worker.proc.kill('SIGKILL');
      await worker.exited;
      // Redelivered duplicates (same event ids) and the rest arrive while no worker runs.
      await send(events.slice(0, 500));
      await send(events.slice(4500));
      ({ worker, port } = await startGraph('graph-b'));
      await waitFor(() => committedTotal(admin, group, topic), (n) => n >= 6500, 180_000, 'everything consumed after the restart');
      await waitFor(async () => (await json(port, '/graph/stats')).nodes as number, (n) => n > 0, 30_000, 'stats');

      // The same events folded in exactly once, in one pass.
      const reference = new BehaviourGraph({ halfLifeMs: HALF_LIFE });
      reference.apply(events.map((e) => parseWith(Interaction, e)));
      const stats = await json(port, '/graph/stats');
      expect(stats.edges).toBe(reference.stats().edges);
      expect(stats.nodes).toBe(reference.stats().nodes);
      const at = Math.max(...events.map((e) => Number(e.ts)));
      const pairs = [...new Map(events.map((e) => [`${e.userId}|${e.productId}`, e])).values()].filter((_, i) => i % 25 === 0);
      for (const e of pairs) {
        const got = (await json(port, `/graph/edge?user=${encodeURIComponent(e.userId)}&item=${encodeURIComponent(e.productId)}&at=${at}`)).weight as number;
        const want = reference.edgeWeight(e.userId, e.productId, at);
        expect(Math.abs(got - want) / want, `${e.userId}–${e.productId}: ${got} vs ${want}`).toBeLessThan(1e-4);
      }
      // And it published FastRP vectors for users and items.
      const published = behaviour.messages.map((m) => parseWith(BehaviourEmbedding, JSON.parse(m.value!.toString())));
      expect(new Set(published.map((p) => p.nodeKind))).toEqual(new Set(['user', 'item']));
      expect(published.every((p) => p.embedding.dim === 128)).toBe(true);
    } finally {
      await stopWorkers(worker);
      await behaviour.stop();
    }
  });
});
