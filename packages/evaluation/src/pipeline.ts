import type { EnrichedProduct, Interaction, ProductUpsert } from '@affinity/contracts';
import { DEFAULT_MODEL_ID, Embedder } from '@affinity/embeddings';
import { Enricher, createExtractor } from '@affinity/enrichment';
import { BehaviourGraph, IncrementalFastRP } from '@affinity/graph';
import { BehaviourVectors, ListBuilder, LocalContentIndex, RecState, type BuiltList, type GatheredList } from '@affinity/lists';
import { Ranker, type RankerConfigInput } from '@affinity/recommend';
import { KeySpace, createRedis, type Redis } from '@affinity/store';
import type { OutgoingRecord } from '@affinity/stream';
import { Counter, Histogram } from 'prom-client';
import { Progress } from './progress';
import type { Method, Query, RankedItem, TrainingData } from './types';

/** The same graph and FastRP settings the graph service runs with by default. */
const GRAPH = { halfLifeMs: 14 * 24 * 3600 * 1000, dim: 128, epsilon: 0.01, driftThreshold: 0.02 };
/** Events applied to Redis per round trip during the replay (issued in order, executed in order). */
const REPLAY_CHUNK = 500;

export interface PipelineOptions {
  /** A display name, e.g. "Affinity (default configuration)". */
  name: string;
  /** Ranker configuration; the bundled defaults when absent. */
  ranker?: RankerConfigInput;
  redisUrl?: string;
  /** Redis key prefix of this evaluation's state (deleted on close). */
  prefix: string;
  /** Enriched catalog shared between runs of one dataset (enrichment does not depend on the split). */
  catalog: EnrichedCatalog;
  progress?: boolean;
}

/** Deletes every key matching a pattern, a SCAN page at a time. */
async function deleteKeys(redis: Redis, pattern: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 5000);
    cursor = next;
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== '0');
}

/**
 * The catalog after the production enricher (attributes + ONNX embedding), computed once per
 * dataset. The enricher caches embeddings by content hash in Redis under a stable prefix, so a
 * second evaluation of the same catalog skips the model.
 */
export class EnrichedCatalog {
  private products: EnrichedProduct[] | undefined;

  constructor(
    private readonly source: readonly ProductUpsert[],
    private readonly redisUrl: string,
    private readonly progress = false,
  ) {}

  async get(): Promise<EnrichedProduct[]> {
    if (this.products) return this.products;
    const redis = createRedis({ url: this.redisUrl, name: 'eval-enricher' });
    const embedder = await Embedder.create({ model: DEFAULT_MODEL_ID });
    try {
      const { extractor } = await createExtractor({ wordVectors: embedder });
      const out: EnrichedProduct[] = [];
      const sink = {
        send: async (_topic: string, records: readonly OutgoingRecord[]) => {
          for (const r of records) if (r.value !== null) out.push(r.value as EnrichedProduct);
        },
      };
      const enricher = new Enricher({
        redis,
        keys: new KeySpace('affinity-eval-cache'),
        embedder,
        extractor,
        producer: sink,
        outTopic: 'products.enriched.v1',
        descriptionChars: 1000,
        cacheTtlSeconds: 30 * 24 * 3600,
        metrics: {
          products: new Counter({ name: 'eval_products', help: 'products', labelNames: ['outcome'] as const, registers: [] }),
          embedSeconds: new Histogram({ name: 'eval_embed_seconds', help: 'seconds', registers: [] }),
        },
      });
      // The enricher's newest-wins versions are per run (a product enriched last time is not "stale"); the caches stay.
      await deleteKeys(redis, 'affinity-eval-cache:enricher:version:*');
      const progress = new Progress('enriching the catalog', this.source.length, this.progress);
      for (let i = 0; i < this.source.length; i += 256) {
        const chunk = this.source.slice(i, i + 256);
        await enricher.handle(chunk.map((p, j) => ({ value: p, key: p.productId, topic: 'catalog', partition: 0, offset: String(i + j), timestamp: p.updatedAt, headers: {} })));
        progress.update(Math.min(this.source.length, i + 256));
      }
      progress.done();
      this.products = out;
      return out;
    } finally {
      await embedder.close();
      redis.disconnect();
    }
  }
}

/**
 * Affinity as it runs in production, offline: the recommender's own state code (RecState's Lua
 * scripts on a real Redis), its list builder and ranker, the indexer's HNSW shard and the graph
 * service's FastRP, fed the training events in event-time order. Lists are read as of the split.
 */
export class PipelineMethod implements Method {
  readonly kind = 'pipeline' as const;
  readonly name: string;
  private redis: Redis | undefined;
  private builder: ListBuilder | undefined;
  private readonly lists = new Map<string, Promise<BuiltList | undefined>>();
  private fits = 0;

  constructor(private readonly o: PipelineOptions) {
    this.name = o.name;
  }

  get ranker(): Ranker | undefined {
    return this.builder?.ranker;
  }

  private keys(): KeySpace {
    return new KeySpace(`${this.o.prefix}-${this.fits}`);
  }

  async fit(train: TrainingData): Promise<void> {
    await this.close();
    this.fits++;
    this.lists.clear();
    const redis = (this.redis = createRedis({ url: this.o.redisUrl ?? 'redis://127.0.0.1:6379', name: 'eval-pipeline' }));
    const state = new RecState(redis, { keys: this.keys() });
    const index = new LocalContentIndex();
    const behaviour = new BehaviourVectors();
    const ranker = new Ranker(this.o.ranker);
    const builder = (this.builder = new ListBuilder({ state, index, behaviour, ranker }));

    const catalog = await this.o.catalog.get();
    await Promise.all(catalog.map((e) => state.upsertItem(e, e.product.updatedAt)));
    for (const e of catalog) {
      index.upsert(e.embedding.modelId, e.productId, e.embedding.vector, e.product.availability);
      builder.offer(e.productId, e.embedding.modelId, e.embedding.vector);
    }

    const progress = new Progress(`${this.name}: replaying`, train.events.length, this.o.progress ?? false);
    for (let i = 0; i < train.events.length; i += REPLAY_CHUNK) {
      await Promise.all(train.events.slice(i, i + REPLAY_CHUNK).map((e) => state.applyInteraction(e)));
      progress.update(Math.min(train.events.length, i + REPLAY_CHUNK));
    }
    progress.done();
    await this.behaviourVectors(train.events, state, behaviour);
  }

  /** What the graph service would have published after a full recompute at the split. */
  private async behaviourVectors(events: readonly Interaction[], state: RecState, behaviour: BehaviourVectors): Promise<void> {
    const graph = new BehaviourGraph({ halfLifeMs: GRAPH.halfLifeMs });
    graph.apply(events);
    if (graph.nodeCount === 0) return;
    const fastrp = await IncrementalFastRP.create(graph, { dim: GRAPH.dim, epsilon: GRAPH.epsilon, driftThreshold: GRAPH.driftThreshold });
    const users: { nodeKind: 'user'; nodeId: string; embedding: { vector: Float32Array } }[] = [];
    for (let idx = 0; idx < graph.nodeCount; idx++) {
      const ref = graph.nodeRef(idx);
      const vector = Float32Array.from(fastrp.vector(idx));
      if (ref.kind === 'item') behaviour.apply({ nodeKind: 'item', nodeId: ref.id, embedding: { modelId: `fastrp-d${GRAPH.dim}`, dim: GRAPH.dim, vector } });
      else users.push({ nodeKind: 'user', nodeId: ref.id, embedding: { vector } });
    }
    for (let i = 0; i < users.length; i += 1000) await state.setBehaviourVectors(users.slice(i, i + 1000));
  }

  private list(kind: 'similar' | 'complementary' | 'personalized', subject: string): Promise<BuiltList | undefined> {
    const key = `${kind}:${subject}`;
    let p = this.lists.get(key);
    if (!p) this.lists.set(key, (p = this.builder!.build(kind, subject)));
    return p;
  }

  /** The candidates and features of one list (for fitting the ranker on a validation split). */
  gather(kind: 'similar' | 'complementary' | 'personalized', subject: string): Promise<GatheredList | undefined> {
    return this.builder!.gather(kind, subject);
  }

  async recommend(query: Query, k: number): Promise<RankedItem[]> {
    const l = query.list;
    if (l.kind === 'personalized' || l.kind === 'similar') {
      const built = await this.list(l.kind, l.kind === 'personalized' ? l.user : l.item);
      return (built?.items ?? []).slice(0, k).map((i) => ({ productId: i.productId, score: i.score, source: i.reasons[0]?.code }));
    }
    // Completing a basket: the complementary lists of everything in it, scores added up (what a
    // client showing "goes with your basket" would do with the served lists).
    const fused = new Map<string, RankedItem>();
    for (const anchor of l.anchors) {
      const built = await this.list('complementary', anchor);
      for (const i of built?.items ?? []) {
        const prev = fused.get(i.productId);
        if (!prev) fused.set(i.productId, { productId: i.productId, score: i.score, source: i.reasons[0]?.code });
        else {
          if (i.score > prev.score / 2) prev.source = i.reasons[0]?.code ?? prev.source;
          prev.score += i.score;
        }
      }
    }
    return [...fused.values()].sort((a, b) => b.score - a.score || (a.productId < b.productId ? -1 : 1)).slice(0, k);
  }

  async close(): Promise<void> {
    const redis = this.redis;
    if (!redis) return;
    this.redis = undefined;
    // This run's keys only (the prefix is unique to it).
    await deleteKeys(redis, `${this.keys().prefix}:*`);
    redis.disconnect();
  }
}
