import type { IndexRouter, KnnFilter } from '@affinity/index-router';
import type { ServingStore } from '@affinity/store';
import { type EventProducer, type OutgoingRecord, createLogger } from '@affinity/stream';
import type { FastifyInstance } from 'fastify';
import { type ApiDeps, buildApp } from '../../src/app';
import type { RecsFeed } from '../../src/recs-feed';

export const WRITE_KEY = 'write-key-0123456789abcdef';
export const READ_KEY = 'read-key-0123456789abcdef';
/** Limits no unit test reaches unless it sets its own. */
export const TEST_LIMITS: ApiDeps['limits'] = { bodyBytes: 1_048_576, eventsPerRequest: 500, requestsPerMinute: 1_000_000, authFailuresPerMinute: 1_000_000, maxFutureSkewMs: 24 * 3600 * 1000 };

/** The API with in-memory stand-ins for Kafka, Redis and the index: what it produced and asked is recorded. */
export interface TestApp {
  app: FastifyInstance;
  sent: { topic: string; records: OutgoingRecord[] }[];
  searches: { filter?: KnnFilter }[];
}

export async function testApp(overrides: Partial<ApiDeps> = {}): Promise<TestApp> {
  const sent: TestApp['sent'] = [];
  const searches: TestApp['searches'] = [];
  const producer = { send: async (topic: string, records: readonly OutgoingRecord[]) => void sent.push({ topic, records: [...records] }) } as unknown as EventProducer;
  const serving = { listJson: async () => undefined, items: async () => new Map() } as unknown as ServingStore;
  const router = { search: async (q: { filter?: KnnFilter }) => (searches.push(q), { hits: [], complete: true, missing: [] }) } as unknown as IndexRouter;
  const feed = { subscribe: () => () => undefined } as unknown as RecsFeed;
  const app = await buildApp({
    producer,
    topics: { catalog: 'catalog.products.v1', interactions: 'interactions.v1' },
    serving,
    router,
    feed,
    embedder: { modelId: 'test-model', embed: async () => new Float32Array(4) },
    logger: createLogger('api-test', 'silent'),
    auth: { readKeys: [READ_KEY], writeKeys: [WRITE_KEY] },
    limits: TEST_LIMITS,
    ready: () => true,
    metrics: async () => ({ contentType: 'text/plain', body: '' }),
    ...overrides,
  });
  return { app, sent, searches };
}
