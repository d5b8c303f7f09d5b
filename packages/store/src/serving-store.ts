import type { Redis } from 'ioredis';
import type { KeySpace } from './key-space';

/** The catalog fields the recommender stores per product and the API returns with results. */
export interface ServingItem {
  productId: string;
  title: string;
  brand?: string;
  categoryPath: readonly string[];
  availability: 'in_stock' | 'out_of_stock' | 'preorder' | 'discontinued';
  attributes?: Readonly<Record<string, string>>;
  price: number;
  modelId: string;
  updatedAt: number;
  /** Kafka ingest time of the change that produced this version. */
  sourceTs: number;
}

/**
 * The Redis layout of what is served: published lists and the product catalog copy. The
 * recommender writes it (with its own atomic scripts); the API only reads. One class owns
 * the key names so the two cannot drift apart.
 */
export class ServingStore {
  constructor(
    readonly redis: Redis,
    readonly keys: KeySpace,
  ) {}

  listKey(kind: string, subjectId: string): string {
    return this.keys.key('recs', kind, subjectId);
  }

  itemKey(productId: string): string {
    return this.keys.key('item', productId);
  }

  contentKey(productId: string): string {
    return this.keys.key('vec', 'content', productId);
  }

  /** The stored list as JSON text (a RecommendationUpdate), or undefined. */
  async listJson(kind: string, subjectId: string): Promise<string | undefined> {
    return (await this.redis.get(this.listKey(kind, subjectId))) ?? undefined;
  }

  async items(ids: readonly string[]): Promise<Map<string, ServingItem>> {
    const out = new Map<string, ServingItem>();
    if (ids.length === 0) return out;
    const p = this.redis.pipeline();
    for (const id of ids) p.hget(this.itemKey(id), 'json');
    const res = (await p.exec()) ?? [];
    res.forEach(([, v], i) => {
      if (typeof v === 'string') out.set(ids[i]!, JSON.parse(v) as ServingItem);
    });
    return out;
  }
}
