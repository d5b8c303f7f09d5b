import type { AttributeExtractor, ExtractInput } from '@affinity/attributes';
import { type CatalogEvent, ExtractedAttribute, type ProductUpsert, sha256Hex } from '@affinity/contracts';
import type { KeySpace, Redis } from '@affinity/store';
import type { ConsumedEvent, EventProducer, OutgoingRecord } from '@affinity/stream';
import type { Counter, Histogram } from 'prom-client';
import { z } from 'zod';
import { contentHash, embeddingText, enrichedEvent } from './enrich';

const CachedAttributes = z.array(ExtractedAttribute);

/** What the enricher needs to embed text; `Embedder` from @affinity/embeddings fits. */
export interface TextEmbedder {
  readonly modelId: string;
  embed(texts: readonly string[]): Promise<Float32Array[]>;
}

export interface EnricherMetrics {
  products: Counter<'outcome'>;
  embedSeconds: Histogram<string>;
}

export interface EnricherOptions {
  /**
   * `live`: newest `updatedAt` wins and versions advance. `backfill`: re-embed under another
   * model without touching versions, and only products whose stored version is exactly this
   * event's (so a backfill running behind the live stream never resurrects a deleted product
   * or republishes an outdated one). @defaultValue 'live'
   */
  mode?: 'live' | 'backfill';
  redis: Redis;
  keys: KeySpace;
  embedder: TextEmbedder;
  extractor: AttributeExtractor;
  /** Where enriched products go (the Kafka producer; the offline evaluation collects them). */
  producer: Pick<EventProducer, 'send'>;
  outTopic: string;
  metrics: EnricherMetrics;
  descriptionChars: number;
  cacheTtlSeconds: number;
}

/**
 * Turns catalog changes into enriched products. Newest `updatedAt` wins: an older or
 * duplicate event is a no-op (versions live in Redis). The embedding is reused when the
 * embedded text did not change (cache keyed by content hash), so an edit to the price does
 * not cost a model run: embeddings and extracted attributes are both cached by what they were
 * computed from. Deletes become tombstones on products.enriched.v1.
 */
export class Enricher {
  constructor(private readonly o: EnricherOptions) {}

  private versionKey(productId: string): string {
    return this.o.keys.key('enricher', 'version', productId);
  }

  private cacheKey(hash: string): string {
    return this.o.keys.key('enricher', 'embedding', hash);
  }

  /** Returns how many records were published. */
  async handle(events: readonly ConsumedEvent<CatalogEvent>[]): Promise<number> {
    if (events.length === 0) return 0;
    // Newest version of each product in this batch (compaction semantics: intermediate versions add nothing).
    const latest = new Map<string, ConsumedEvent<CatalogEvent>>();
    for (const e of events) {
      const prev = latest.get(e.value.productId);
      if (!prev || e.value.updatedAt >= prev.value.updatedAt) latest.set(e.value.productId, e);
    }
    const ids = [...latest.keys()];
    const stored = await this.o.redis.mget(...ids.map((id) => this.versionKey(id)));
    const backfill = this.o.mode === 'backfill';
    const todo = ids.map((id) => latest.get(id)!).filter((e, i) => {
      const fresh = backfill ? stored[i] !== null && e.value.updatedAt === Number(stored[i]) && e.value.type === 'product.upsert' : stored[i] === null || e.value.updatedAt > Number(stored[i]);
      if (!fresh) this.o.metrics.products.inc({ outcome: backfill ? 'not_current' : 'stale_or_duplicate' });
      return fresh;
    });
    if (todo.length === 0) return 0;

    const upserts = todo.filter((e): e is ConsumedEvent<ProductUpsert> => e.value.type === 'product.upsert');
    const vectors = await this.vectorsFor(upserts.map((e) => e.value));
    const extracted = await this.attributesFor(upserts.map((e) => e.value));
    const attributesOf = new Map(upserts.map((e, i) => [e, extracted[i] ?? []]));
    const records: OutgoingRecord[] = [];
    for (const e of todo) {
      const v = e.value;
      if (v.type === 'product.delete') {
        records.push({ key: v.productId, value: null, headers: { 'event-id': v.eventId, ts: String(v.updatedAt) } });
        this.o.metrics.products.inc({ outcome: 'deleted' });
        continue;
      }
      const { hash, vector } = vectors.get(v.productId)!;
      const attributes = attributesOf.get(e as ConsumedEvent<ProductUpsert>) ?? [];
      records.push({ key: v.productId, value: enrichedEvent(v, { hash, attributes, modelId: this.o.embedder.modelId, vector, ingestTs: e.timestamp }) });
    }
    await this.o.producer.send(this.o.outTopic, records);
    if (backfill) return records.length;
    // Versions move only after the output is acknowledged: a crash before this replays the batch.
    const p = this.o.redis.pipeline();
    for (const e of todo) p.set(this.versionKey(e.value.productId), String(e.value.updatedAt));
    await p.exec();
    return records.length;
  }

  private attributesKey(hash: string): string {
    return this.o.keys.key('enricher', 'attributes', hash);
  }

  /**
   * Attributes per product, cached by a hash of the extraction input and the extractor's
   * fingerprint: a price or stock update (most catalog traffic) costs no extraction and, with a
   * tagger that reads word vectors, no model pass. The misses are extracted in one call.
   */
  private async attributesFor(products: readonly ProductUpsert[]): Promise<ExtractedAttribute[][]> {
    if (products.length === 0) return [];
    const inputs: ExtractInput[] = products.map((v) => ({
      title: v.title,
      description: v.description,
      category: v.categoryPath,
      // What the catalog states (its brand included) wins over what we extract.
      catalogAttributes: v.brand === undefined ? v.attributes : { brand: v.brand, ...v.attributes },
    }));
    const fingerprint = this.o.extractor.fingerprint;
    const keys = inputs.map((i) => this.attributesKey(sha256Hex(`${fingerprint}\n${JSON.stringify(i)}`)));
    const cached = await this.o.redis.mget(...keys);
    const out: (ExtractedAttribute[] | undefined)[] = cached.map((c) => {
      if (c === null) return undefined;
      const r = CachedAttributes.safeParse(JSON.parse(c));
      return r.success ? r.data : undefined;
    });
    const missing = out.flatMap((a, i) => (a === undefined ? [i] : []));
    if (missing.length > 0) {
      const extracted = await this.o.extractor.extractAll(missing.map((i) => inputs[i]!));
      const p = this.o.redis.pipeline();
      missing.forEach((i, j) => {
        out[i] = extracted[j] ?? [];
        p.set(keys[i]!, JSON.stringify(out[i]), 'EX', this.o.cacheTtlSeconds);
      });
      await p.exec();
    }
    return out.map((a) => a ?? []);
  }

  private async vectorsFor(products: readonly ProductUpsert[]): Promise<Map<string, { hash: string; vector: Float32Array }>> {
    const out = new Map<string, { hash: string; vector: Float32Array }>();
    if (products.length === 0) return out;
    const modelId = this.o.embedder.modelId;
    const texts = products.map((p) => embeddingText(p, this.o.descriptionChars));
    const hashes = texts.map((t) => contentHash(modelId, t));
    const cached = await this.o.redis.mgetBuffer(...hashes.map((h) => this.cacheKey(h)));
    const missing = new Map<string, string>();
    hashes.forEach((h, i) => {
      const c = cached[i];
      if (c && c.length > 0 && c.length % 4 === 0) return;
      missing.set(h, texts[i]!);
    });
    const computed = new Map<string, Float32Array>();
    if (missing.size > 0) {
      const started = performance.now();
      const list = [...missing];
      const vectors = await this.o.embedder.embed(list.map(([, t]) => t));
      this.o.metrics.embedSeconds.observe((performance.now() - started) / 1000);
      const p = this.o.redis.pipeline();
      list.forEach(([h], i) => {
        const v = Float32Array.from(vectors[i]!);
        computed.set(h, v);
        p.set(this.cacheKey(h), Buffer.from(v.buffer), 'EX', this.o.cacheTtlSeconds);
      });
      await p.exec();
    }
    products.forEach((p, i) => {
      const h = hashes[i]!;
      const c = cached[i];
      const fromCache = !computed.has(h) && c ? new Float32Array(new Uint8Array(c).buffer) : undefined;
      this.o.metrics.products.inc({ outcome: fromCache ? 'embedding_cached' : 'embedded' });
      out.set(p.productId, { hash: h, vector: fromCache ?? computed.get(h)! });
    });
    return out;
  }
}
