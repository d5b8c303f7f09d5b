import type { Availability } from '@affinity/contracts';
import { VectorShard } from '@affinity/vector-index';

/** A kNN request to the content index (the shape `IndexRouter.search` takes). */
export interface ContentQuery {
  modelId: string;
  vector: Float32Array;
  k: number;
  exclude?: readonly string[];
  filter?: { availability?: Availability[] };
}

/** What the list builder needs from the content index: `IndexRouter` in the service. */
export interface ContentIndex {
  search(q: ContentQuery): Promise<{ hits: { id: string; score: number }[]; complete: boolean }>;
}

/**
 * One in-process HNSW shard per embedding model, for the offline evaluation and tests: the
 * same index code the indexer runs, without the network in between.
 */
export class LocalContentIndex implements ContentIndex {
  private readonly shards = new Map<string, VectorShard>();

  upsert(modelId: string, productId: string, vector: Float32Array, availability: Availability): void {
    let shard = this.shards.get(modelId);
    if (!shard) this.shards.set(modelId, (shard = new VectorShard({ dim: vector.length, M: 16, efConstruction: 200, ef: 64 })));
    shard.upsert(productId, vector, { availability });
  }

  async search(q: ContentQuery): Promise<{ hits: { id: string; score: number }[]; complete: boolean }> {
    const shard = this.shards.get(q.modelId);
    if (!shard) return { hits: [], complete: true };
    const exclude = new Set(q.exclude ?? []);
    const hits = shard.search(q.vector, q.k + exclude.size, q.filter?.availability ? { filter: { availability: q.filter.availability } } : {});
    return { hits: hits.filter((h) => !exclude.has(h.id)).slice(0, q.k), complete: true };
  }
}
