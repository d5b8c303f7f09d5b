/**
 * Event time, not wall clock: the same real log, lived through (one event at a time, the wall
 * clock at each event's own time) and replayed (500 events per round trip, the wall clock years
 * later), leaves the recommender's state — and so every list built from it — identical, item
 * for item and score for score. Any decay, window or sample that read the wall clock or
 * depended on arrival batching would make the two differ.
 */
import type { EnrichedProduct, Interaction, RecKind, RecommendedItem } from '@affinity/contracts';
import { DEFAULT_MODEL_ID, Embedder } from '@affinity/embeddings';
import { OfflineEngine, loadDataset } from '@affinity/evaluation';
import { Ranker } from '@affinity/recommend';
import { KeySpace } from '@affinity/store';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { redisSuite } from './support/harness';

const EVENTS = 3000;
const suite = redisSuite('replay');
let catalog: EnrichedProduct[] = [];
let events: Interaction[] = [];
let embedder: Embedder;

beforeAll(async () => {
  // A real, time-stamped log: UCI Online Retail customers over two weeks of December 2010.
  const { dataset } = loadDataset('uci-customers');
  events = dataset.events.slice(0, EVENTS);
  const used = new Set(events.map((e) => e.productId));
  const products = dataset.products.filter((p) => used.has(p.productId));
  embedder = await Embedder.create({ model: DEFAULT_MODEL_ID });
  const vectors = await embedder.embed(products.map((p) => p.title));
  catalog = products.map((p, i) => {
    const { type: _t, ...product } = p;
    return {
      type: 'product.enriched',
      eventId: `e-${p.productId}`,
      sourceEventId: p.eventId,
      productId: p.productId,
      product,
      contentHash: p.productId,
      attributes: [],
      embedding: { modelId: embedder.modelId, dim: vectors[i]!.length, vector: vectors[i]! },
      sourceTs: p.updatedAt,
      enrichedAt: p.updatedAt,
    };
  });
}, 300_000);

afterAll(async () => {
  vi.useRealTimers();
  await embedder?.close();
});

type Lists = Map<string, RecommendedItem[]>;

async function run(label: string, mode: 'live' | 'replay'): Promise<Lists> {
  const engine = new OfflineEngine(suite.redis, new KeySpace(`${suite.prefix}-${label}`), new Ranker());
  if (mode === 'live') {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(catalog.reduce((m, p) => Math.min(m, p.product.updatedAt), Infinity));
  } else vi.useRealTimers();
  await engine.loadCatalog(catalog);
  // Live: one event per round trip, the clock at the event's time. Replay: 500 per round trip, the clock years later.
  await engine.replay(events, mode === 'live' ? { chunk: 1, before: (e) => vi.setSystemTime(e.ts) } : { chunk: 500 });
  await engine.refreshModels();
  const lists: Lists = new Map();
  const items = [...new Set(events.map((e) => e.productId))].slice(0, 150);
  const users = [...new Set(events.map((e) => e.userId))].slice(0, 150);
  const subjects: [RecKind, string][] = [...items.flatMap((i) => [['similar', i] as [RecKind, string], ['complementary', i] as [RecKind, string]]), ...users.map((u) => ['personalized', u] as [RecKind, string]), ['trending', 'global']];
  for (const [kind, subject] of subjects) {
    const built = await engine.builder.build(kind, subject);
    lists.set(`${kind}:${subject}`, built?.items ?? []);
  }
  vi.useRealTimers();
  return lists;
}

describe('replay = live', () => {
  it('a log lived through at its own pace and replayed years later at full speed gives identical lists', async () => {
    const live = await run('live', 'live');
    const replay = await run('replay', 'replay');
    expect(replay.size).toBe(live.size);
    let compared = 0;
    for (const [key, l] of live) {
      expect(replay.get(key), key).toEqual(l);
      compared += l.length;
    }
    // The comparison is about real lists: most are full, trending included.
    expect(compared).toBeGreaterThan(live.size * 10);
    expect(live.get('trending:global')!.length).toBeGreaterThan(0);
    expect([...live.values()].filter((l) => l.length === 0).length).toBe(0);
  }, 600_000);
});
