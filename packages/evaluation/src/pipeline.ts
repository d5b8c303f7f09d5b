import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { AttributeExtractor } from '@affinity/attributes';
import type { EnrichedProduct, Interaction, ProductUpsert } from '@affinity/contracts';
import { DEFAULT_MODEL_ID, Embedder, affinityCacheDir } from '@affinity/embeddings';
import { BUNDLED_TRAINING_DATA, Enricher, createExtractor } from '@affinity/enrichment';
import { BehaviourGraph, IncrementalFastRP } from '@affinity/graph';
import { BehaviourVectors, ListBuilder, LocalContentIndex, RecState, refreshLinearModel, type BuiltList, type GatheredList } from '@affinity/lists';
import { Ranker, type RankerConfigInput } from '@affinity/recommend';
import { KeySpace, createRedis, type Redis, type RedisConnection } from '@affinity/store';
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
  /** A URL, or `redisConnection(config)` for credentials and TLS. @defaultValue redis://127.0.0.1:6379 */
  redisUrl?: string | RedisConnection;
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
 * The enricher's attribute extractor, its vocabulary learned once and kept in the cache
 * directory (learning reads word vectors of every training title: about 20 s).
 */
async function cachedExtractor(embedder: Embedder): Promise<AttributeExtractor> {
  const training = readFileSync(BUNDLED_TRAINING_DATA);
  const path = resolve(affinityCacheDir(), 'eval', `vocabulary-${embedder.modelId}-${createHash('sha256').update(training).digest('hex').slice(0, 16)}.json`);
  if (existsSync(path)) return (await createExtractor({ vocabularyPath: path, wordVectors: embedder })).extractor;
  const { extractor } = await createExtractor({ wordVectors: embedder });
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(`${path}.tmp`, JSON.stringify(extractor.vocabulary.toJSON()));
  renameSync(`${path}.tmp`, path);
  return extractor;
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
    private readonly redisUrl: string | RedisConnection,
    private readonly progress = false,
  ) {}

  async get(): Promise<EnrichedProduct[]> {
    if (this.products) return this.products;
    const redis = createRedis({ ...connectionOf(this.redisUrl), name: 'eval-enricher' });
    const embedder = await Embedder.create({ model: DEFAULT_MODEL_ID });
    try {
      const extractor = await cachedExtractor(embedder);
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
 * The recommender's engine driven offline: its state code (RecState's Lua scripts on a real
 * Redis), the indexer's HNSW shard in process, the graph service's behaviour graph and FastRP,
 * and the list builder and ranker — fed a catalog and a log, in event-time order.
 */
export class OfflineEngine {
  readonly state: RecState;
  readonly index = new LocalContentIndex();
  readonly behaviour = new BehaviourVectors();
  readonly builder: ListBuilder;
  private readonly graph = new BehaviourGraph({ halfLifeMs: GRAPH.halfLifeMs });

  constructor(redis: Redis, keys: KeySpace, ranker: Ranker) {
    this.state = new RecState(redis, { keys });
    this.builder = new ListBuilder({ state: this.state, index: this.index, behaviour: this.behaviour, ranker });
  }

  /** Upserts the enriched catalog into the recommender's state, the index and the calibration sample. */
  async loadCatalog(catalog: readonly EnrichedProduct[]): Promise<void> {
    await Promise.all(catalog.map((e) => this.state.upsertItem(e, e.product.updatedAt)));
    for (const e of catalog) this.index.upsert(e.embedding.modelId, e.productId, e.embedding.vector, e.product.availability);
    await this.builder.refreshCalibration();
  }

  /**
   * Applies interactions in the given order: `chunk` at a time to Redis (issued in order on one
   * connection, so executed in order) and to the behaviour graph. `before` runs before each chunk.
   */
  async replay(events: readonly Interaction[], options: { chunk?: number; before?: (first: Interaction) => void; progress?: Progress } = {}): Promise<void> {
    const chunk = options.chunk ?? REPLAY_CHUNK;
    for (let i = 0; i < events.length; i += chunk) {
      const part = events.slice(i, i + chunk);
      options.before?.(part[0]!);
      await Promise.all(part.map((e) => this.state.applyInteraction(e)));
      this.graph.apply(part);
      options.progress?.update(Math.min(events.length, i + chunk));
    }
  }

  /**
   * The background models as the services keep them: the recommender's linear item–item models
   * (baskets and histories), and what the graph service publishes after a full FastRP recompute
   * (every item's vector to the table, users' to Redis).
   */
  async refreshModels(): Promise<void> {
    await refreshLinearModel(this.state, 'basket');
    await refreshLinearModel(this.state, 'history');
    const graph = this.graph;
    if (graph.nodeCount === 0) return;
    const fastrp = await IncrementalFastRP.create(graph, { dim: GRAPH.dim, epsilon: GRAPH.epsilon, driftThreshold: GRAPH.driftThreshold });
    const users: { nodeKind: 'user'; nodeId: string; embedding: { vector: Float32Array } }[] = [];
    for (let idx = 0; idx < graph.nodeCount; idx++) {
      const ref = graph.nodeRef(idx);
      const vector = Float32Array.from(fastrp.vector(idx));
      if (ref.kind === 'item') this.behaviour.apply({ nodeKind: 'item', nodeId: ref.id, embedding: { modelId: `fastrp-d${GRAPH.dim}`, dim: GRAPH.dim, vector } });
      else users.push({ nodeKind: 'user', nodeId: ref.id, embedding: { vector } });
    }
    for (let i = 0; i < users.length; i += 1000) await this.state.setBehaviourVectors(users.slice(i, i + 1000));
  }
}

/**
 * Affinity as it runs in production, offline (see {@link OfflineEngine}), as an evaluation
 * method: fitted by replaying the training events, lists read as of the split.
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
    const redis = (this.redis = createRedis({ ...connectionOf(this.o.redisUrl ?? 'redis://127.0.0.1:6379'), name: 'eval-pipeline' }));
    const engine = new OfflineEngine(redis, this.keys(), new Ranker(this.o.ranker));
    this.builder = engine.builder;
    await engine.loadCatalog(await this.o.catalog.get());
    const progress = new Progress(`${this.name}: replaying`, train.events.length, this.o.progress ?? false);
    await engine.replay(train.events, { progress });
    progress.done();
    await engine.refreshModels();
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

function connectionOf(c: string | RedisConnection): RedisConnection {
  return typeof c === 'string' ? { url: c } : c;
}
